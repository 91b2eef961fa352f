"""Two-person approval: a second, distinct, active officer with the required role proves
who they are by typing their password (their key slot unwraps).

Used for role grants, password resets and policy changes, and later for payments, identity
disclosure and erasure. The approval goes into the detail of the change's own audit row, so
that row names both officers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cim_desktop.domain.audit.rows import Action, AuditEvent, Outcome
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.domain.officers.model import OfficerStatus
from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import (
    AccountLocked,
    InvalidInput,
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
    if not username or not password:
        raise InvalidInput("The second officer must enter their username and password.")
    if username.casefold() == session.officer.username.casefold():
        _refused(session, purpose, "same officer")
        raise InvalidInput("The approving officer must be a different person from you.")
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
    if approver is None or approver.status is not OfficerStatus.ACTIVE:
        _refused(session, purpose, "approver not active")
        raise PermissionDenied("The approving officer's account is not active.")
    if approver.must_change_password:
        # A temporary password is known to whoever set it, so it proves nothing.
        _refused(session, purpose, "approver has a temporary password")
        raise PermissionDenied(
            "The approving officer must first change their temporary "
            "password (at login, or with cim user passwd)."
        )
    role = next((r for r in Role if r in roles and approver.has(r)), None)
    if role is None:
        _refused(session, purpose, "approver lacks role")
        needed = ", ".join(sorted(r.label for r in roles))
        raise PermissionDenied(f"The approving officer must hold the role: {needed}.")
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
