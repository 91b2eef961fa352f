"""Reconciling granting rows with the audit trail after a state check named them.

The remedy short of restoring a backup: each named row goes back to what the trail last
recorded (rows the trail never saw are removed), and every granting row is recorded afresh,
so the vault opens again for the officers the findings kept out.
"""

from __future__ import annotations

from dataclasses import dataclass

from cim_desktop.domain.audit.rows import Action, AuditEvent
from cim_desktop.errors import IntegrityFailure
from cim_desktop.services.access.approval import Approval
from cim_desktop.services.officers.management import ADMINS, approval_detail
from cim_desktop.services.session import Session
from cim_desktop.services.vault.state_check import MAX_RECORDED, findings
from cim_desktop.store.vault import state_repair

PURPOSE_RECONCILE = "reconcile the granting rows with the audit trail"


@dataclass(frozen=True)
class Reconciled:
    restored: list[str]  # entities put back to what the chain last recorded
    removed: list[str]  # rows the chain never recorded, removed
    findings: list[str]  # what was found, by name


def reconcile(session: Session, approval: Approval | None) -> Reconciled:
    """Put every named granting row back to what the audit trail last recorded, then record
    all of them afresh. Administrators, with a second administrator's approval.

    The trail is the authority, so it must verify first; an officer row the trail never saw
    cannot be put right here (restore from a backup).
    """
    acting = session.require(ADMINS, PURPOSE_RECONCILE, "vault", session.vault_id)
    report = session.db.verify_chain(session.vault_key)
    if not report.ok:
        raise IntegrityFailure(
            f"The audit trail is broken at sequence {report.first_bad_seq}, so it cannot be "
            "trusted to put rows right. Restore the vault from a backup."
        )
    found = findings(session.db)
    if not found:
        return Reconciled([], [], [])
    detail: dict[str, object] = approval_detail(
        session, approval, PURPOSE_RECONCILE, session.vault_id
    )
    actor = session.actor_as(acting)
    try:
        with session.db.transaction():
            restored, removed = state_repair.put_back(session.db.conn, [f.finding for f in found])
            detail |= {
                "restored": restored,
                "removed": removed,
                "findings": [f.finding.to_json() for f in found[:MAX_RECORDED]],
                "count": len(found),
            }
            session.db.audit.append(
                actor,
                AuditEvent(Action.STATE_RECONCILED, "vault", session.vault_id, detail),
                rebase=True,
            )
    except state_repair.CannotReconcile as exc:
        raise IntegrityFailure(
            f"The audit trail holds no record to put {exc.args[0]} right. Restore the vault "
            "from a backup."
        ) from None
    return Reconciled(restored, removed, [f.text for f in found])
