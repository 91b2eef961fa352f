"""Two-person approval: a distinct, active second officer with the role, by password."""

from __future__ import annotations

from pathlib import Path

import pytest

from cim_desktop.domain.audit.rows import Action, AuditEvent
from cim_desktop.domain.findings import RuleViolation
from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import PermissionDenied, WrongCredentials
from cim_desktop.services.access import approval
from cim_desktop.services.vault.lifecycle import NewVault
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.officer_helpers import add_officer

ADMINS = frozenset({Role.ADMINISTRATOR})
SECOND = "second admin on nights"


@pytest.fixture
def two_admins(new_vault: NewVault) -> NewVault:
    add_officer(new_vault.session, "hank", "a handler password", [Role.HANDLER])
    add_officer(new_vault.session, "carol", SECOND, [Role.ADMINISTRATOR])
    return new_vault


def _denials(nv: NewVault) -> list[str]:
    rows = nv.session.db.audit.page(limit=50)
    return [r.detail for r in rows if r.action == "approve" and r.outcome == "denied"]


def test_the_same_officer_twice_is_refused(two_admins: NewVault) -> None:
    with pytest.raises(RuleViolation, match="different person") as info:
        approval.second_officer(
            two_admins.session, ADMIN.upper(), ADMIN_PASSWORD, ADMINS, "role grant"
        )
    assert [(f.code, f.field) for f in info.value.findings] == [
        ("approval.same-officer", "username")
    ]
    assert any('"cause":"same officer"' in d for d in _denials(two_admins))


def test_wrong_password_and_missing_role_are_refused(two_admins: NewVault) -> None:
    with pytest.raises(WrongCredentials):
        approval.second_officer(two_admins.session, "carol", "not her password", ADMINS, "x")
    with pytest.raises(PermissionDenied, match="Administrator"):
        approval.second_officer(two_admins.session, "hank", "a handler password", ADMINS, "x")
    causes = _denials(two_admins)
    assert any("wrong credentials" in d for d in causes)
    assert any("approver lacks role" in d for d in causes)
    assert all(SECOND not in d and "not her password" not in d for d in causes)


def test_an_approval_names_both_officers_in_the_change_row(
    two_admins: NewVault, vault_dir: Path
) -> None:
    session = two_admins.session
    ok = approval.second_officer(session, "carol", SECOND, ADMINS, "demo change")
    assert ok.approver_username == "carol" and ok.approver_role is Role.ADMINISTRATOR
    row = session.record(AuditEvent(Action.UPDATE, "policy", "demo", ok.detail()))
    assert row.username == ADMIN and '"approved_by_username":"carol"' in row.detail
