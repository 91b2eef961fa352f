"""Two-person approval: a second, distinct, active officer with the required role proves
who they are by typing their password (their key slot unwraps).

Used for role grants, password resets and policy changes, and later for payments, identity
disclosure and erasure. The approval goes into the detail of the change's own audit row, so
that row names both officers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cim_desktop.domain.access.approval_rules import (
    AUDIT_CAUSE,
    approver_standing,
    distinct_officer,
)
from cim_desktop.domain.audit.rows import Action, AuditEvent, Outcome
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.domain.findings import RuleViolation
from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import (
    AccountLocked,
    PermissionDenied,
    SlotDisabled,
    WrongCredentials,
)
from cim_desktop.services.session import Session
from cim_desktop.services.vault.lifecycle import confirm_password


@dataclass(frozen=True)
class Approval:
    approver_id: str
    approver_username: str
    approver_role: Role
    purpose: str
    approved_at: str

    def detail(self) -> dict[str, Any]:
        return {
            "approved_by": self.approver_id,
            "approved_by_username": self.approver_username,
            "approved_by_role": self.approver_role.value,
        }


def second_officer(
    session: Session, username: str, password: str, roles: frozenset[Role], purpose: str
) -> Approval:
    """Return the second officer's approval, or raise with a clear message.

    A refused approval is audited; the change it was for must not go ahead.
    """
    username = username.strip()
    early = distinct_officer(session.officer.username, username, password)
    if early:
        if early[0].code != "approval.missing-credentials":
            _refused(session, purpose, AUDIT_CAUSE[early[0].code])
        raise RuleViolation(early)
    try:
        approver_id = confirm_password(session.paths, username, password, session.keyring)
    except WrongCredentials:
        _refused(session, purpose, "wrong credentials")
        raise WrongCredentials() from None
    except AccountLocked:
        _refused(session, purpose, "approver locked")
        raise
    except SlotDisabled:
        _refused(session, purpose, "approver not active")
        raise PermissionDenied("The approving officer's account is not active.") from None
    with session.db.reading():
        approver = session.db.officers.get(approver_id)
    standing = approver_standing(approver, roles)
    if standing or approver is None:
        code = standing[0].code if standing else "approval.approver-not-active"
        _refused(session, purpose, AUDIT_CAUSE[code])
        raise PermissionDenied(" ".join(f.message for f in standing))
    role = next(r for r in Role if r in roles and approver.has(r))
    return Approval(approver.id, approver.username, role, purpose, iso_utc(utc_now()))


def _refused(session: Session, purpose: str, cause: str) -> None:
    session.record(
        AuditEvent(
            Action.APPROVE,
            "approval",
            "",
            {"purpose": purpose, "cause": cause},
            outcome=Outcome.DENIED,
        )
    )
