"""Checking that the rows which grant something still answer to the audit chain.

Run at every unlock (a cheap digest comparison; the full naming walk only when it fails), by
``cim doctor`` and by verification. A mismatch fails closed: the officers it concerns cannot
log in (every officer but administrators, when a policy value or an unnamed row is affected),
and each finding is written to the chain without blessing the rows it is about.
"""

from __future__ import annotations

from dataclasses import dataclass

from cim_desktop.domain.audit.rows import Action, AuditEvent, Outcome
from cim_desktop.domain.officers.model import Officer
from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import IntegrityFailure
from cim_desktop.store.audit.chain import Actor
from cim_desktop.store.database import VaultDatabase
from cim_desktop.store.vault import state
from cim_desktop.store.vault.state import StateFinding

MAX_RECORDED = 50  # findings named in one audit row; the count is always recorded


class StateMismatch(IntegrityFailure):
    """Login refused: this officer's granting rows do not match the audit trail."""


@dataclass(frozen=True)
class NamedFinding:
    finding: StateFinding
    text: str  # plain words naming the entity, usernames and URNs only


def named(db: VaultDatabase, found: list[StateFinding]) -> list[NamedFinding]:
    """Say which entity each finding is about, as a person would (never an identity)."""
    usernames: dict[str, str] = {}

    def who(officer_id: str) -> str:
        if officer_id not in usernames:
            officer = db.officers.get(officer_id) if officer_id else None
            usernames[officer_id] = officer.username if officer else f"id {officer_id}"
        return usernames[officer_id]

    out = []
    for f in found:
        if f.table == "policy":
            subject = f"policy value '{f.key}'"
        elif f.table == "audit":
            subject = "the granting rows as a whole"
        elif f.officer_id:
            subject = f"{f.label} {f.key} of officer '{who(f.officer_id)}'"
            if f.table == "officers":
                subject = f"officer '{who(f.officer_id)}' (status and account)"
        else:
            subject = f"{f.label} {f.key}"
        out.append(NamedFinding(f, f"{subject}: {f.problem}"))
    return out


def findings(db: VaultDatabase) -> list[NamedFinding]:
    """Every finding, by name (doctor and verification: always the full walk)."""
    with db.reading():
        found = state.findings(db.conn)
        if (
            not found
            and not state.quick_check(db.conn)
            and (state.head_state(db.conn)[1] is not None or state.ever_stated(db.conn))
        ):
            found = state.check(db.conn)
        return named(db, found)


def blocks(found: list[StateFinding], officer: Officer | None, user_id: str) -> bool:
    """Whether these findings keep ``user_id`` out."""
    for f in found:
        if f.officer_id == user_id:
            return True
        if not f.officer_id and not (officer is not None and officer.has(Role.ADMINISTRATOR)):
            return True
    return False


def check_at_unlock(db: VaultDatabase, user_id: str, username: str) -> None:
    """Compare the granting rows with the chain before anything else is written.

    A vault whose newest audit row predates state binding (just migrated) has nothing to
    compare with yet: the first row appended records the baseline.
    """
    with db.reading():
        if state.head_state(db.conn)[1] is None and not state.ever_stated(db.conn):
            return
        found = state.check(db.conn)
        if not found:
            return
        officer = db.officers.get(user_id)
        described = named(db, found)
    refused = blocks(found, officer, user_id)
    detail = {
        "findings": [f.finding.to_json() for f in described[:MAX_RECORDED]],
        "count": len(found),
        "login_refused": refused,
    }
    with db.transaction():
        db.audit.append(
            Actor(user_id, username, "none", ""),
            AuditEvent(Action.STATE_MISMATCH, "vault", db.vault_id, detail, outcome=Outcome.FAILED),
            bind=False,
        )
    if refused:
        raise StateMismatch(
            "This account cannot log in: records that grant it access do not match the "
            f"vault's audit trail ({described[0].text}). An administrator must restore the "
            "vault from a backup or reconcile it ('cim doctor' lists every finding)."
        )
