"""When a second officer's approval counts: pure rules returning findings.

The service checks the password in between (``distinct_officer`` is asked first, so nobody
types a password for an approval that cannot count) and refuses with the findings.
"""

from __future__ import annotations

from collections.abc import Set

from cim_desktop.domain.findings import Finding, blocking
from cim_desktop.domain.officers.model import Officer, OfficerStatus
from cim_desktop.domain.officers.roles import Role

# What the refused approval's audit row names as its cause (words older rows already use).
AUDIT_CAUSE = {
    "approval.missing-credentials": "missing credentials",
    "approval.same-officer": "same officer",
    "approval.approver-not-active": "approver not active",
    "approval.temporary-password": "approver has a temporary password",
    "approval.role-not-held": "approver lacks role",
}


def distinct_officer(requester_username: str, username: str, password: str) -> list[Finding]:
    username = username.strip()
    if not username or not password:
        return [
            blocking(
                "approval.missing-credentials",
                "The second officer must enter their username and password.",
                "username" if not username else "password",
            )
        ]
    if username.casefold() == requester_username.casefold():
        return [
            blocking(
                "approval.same-officer",
                "The approving officer must be a different person from you.",
                "username",
            )
        ]
    return []


def approver_standing(approver: Officer | None, roles: Set[Role]) -> list[Finding]:
    """What stops this (password-proven) officer's approval counting for ``roles``."""
    if approver is None or approver.status is not OfficerStatus.ACTIVE:
        return [
            blocking(
                "approval.approver-not-active", "The approving officer's account is not active."
            )
        ]
    if approver.must_change_password:
        # A temporary password is known to whoever set it, so it proves nothing.
        return [
            blocking(
                "approval.temporary-password",
                "The approving officer must first change their temporary "
                "password (at login, or with cim user passwd).",
            )
        ]
    if not any(approver.has(r) for r in roles):
        needed = ", ".join(sorted(r.label for r in roles))
        return [
            blocking(
                "approval.role-not-held", f"The approving officer must hold the role: {needed}."
            )
        ]
    return []
