"""Adding officers in tests the way an administrator would: handlers and controllers come
with a qualifying accreditation, and a second administrator approves once one exists."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import Any

from cim_desktop.domain.audit.rows import Action, AuditEvent
from cim_desktop.domain.officers.model import Officer
from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.officers.rules import ACCREDITED_ROLES, NewAccreditation
from cim_desktop.services.access import approval
from cim_desktop.services.officers import accounts
from cim_desktop.services.officers.management import ADMINS, PURPOSE_ADD
from cim_desktop.services.session import Session

COURSE = NewAccreditation("National source handling course", date(2024, 1, 15), 80.0)


def add_officer(
    session: Session,
    username: str,
    password: str,
    roles: Iterable[Role],
    approver: tuple[str, str] | None = None,
    *,
    temporary: bool = False,
    **kw: Any,
) -> Officer:
    """``accounts.add_officer`` with the accreditation and approval the roles need.

    ``approver`` is (username, password) of a second administrator; leave it out while the
    vault has only one administrator (the bootstrap rule). Unless ``temporary``, the password
    is then treated as the officer's own, as if they had changed it at first login (that
    change is tested for real in test_passwords); this saves three key derivations a test.
    """
    roles = frozenset(roles)
    ok = (
        approval.second_officer(session, approver[0], approver[1], ADMINS, PURPOSE_ADD)
        if approver
        else None
    )
    courses = [COURSE] if roles & ACCREDITED_ROLES else []
    officer = accounts.add_officer(
        session, username, password, roles, accreditations=courses, approval=ok, **kw
    )
    if temporary:
        return officer
    with session.change(
        AuditEvent(
            Action.UPDATE,
            "officer",
            officer.id,
            {"change": "test shortcut: password already changed"},
        )
    ):
        session.db.officers.set_must_change_password(officer.id, False)
    return replace(officer, must_change_password=False)
