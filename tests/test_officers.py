"""Officer management: roles (time-bounded, two-person approval, accreditation), status,
particulars and accreditation records, every change and read audited."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from cim_desktop.domain import clock
from cim_desktop.domain.audit.rows import AuditRow
from cim_desktop.domain.officers.model import Officer, OfficerStatus
from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.officers.rules import NewAccreditation, Particulars
from cim_desktop.errors import CimError, InvalidInput, PermissionDenied
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.access import approval
from cim_desktop.services.officers import accounts
from cim_desktop.services.officers import management as officers
from cim_desktop.services.officers.management import (
    ADMINS,
    BOOTSTRAP,
    PURPOSE_ADD,
    PURPOSE_ROLES,
    ApprovalRequired,
)
from cim_desktop.services.policy import settings as policy
from cim_desktop.services.session import Session
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.officer_helpers import COURSE, add_officer

CAROL, CAROL_PW = "carol", "second admin on nights"
HANK, HANK_PW = "hank", "a handler password"
RITA, RITA_PW = "rita", "record keeper password"


@dataclass
class Unit:
    session: Session  # the first administrator
    carol: Officer  # a second administrator
    hank: Officer  # a handler
    rita: Officer  # a record keeper, not accredited


def _rows(session: Session, limit: int = 30) -> list[AuditRow]:
    return session.db.audit.page(limit=limit)


def _detail(row: AuditRow) -> dict[str, object]:
    result = json.loads(row.detail)
    assert isinstance(result, dict)
    return result


def _carol_approves(session: Session, purpose: str = PURPOSE_ROLES) -> approval.Approval:
    return approval.second_officer(session, CAROL, CAROL_PW, ADMINS, purpose)


@pytest.fixture
def unit(new_vault: NewVault) -> Unit:
    s = new_vault.session
    # Added before carol, while the first administrator may still act alone.
    rita = add_officer(s, RITA, RITA_PW, [Role.RECORD_KEEPER])
    hank = add_officer(s, HANK, HANK_PW, [Role.HANDLER])
    carol = add_officer(s, CAROL, CAROL_PW, [Role.ADMINISTRATOR])
    return Unit(s, carol, hank, rita)


# -- roles -------------------------------------------------------------------------------
def test_a_grant_needs_a_second_administrator_once_there_is_one(unit: Unit) -> None:
    s = unit.session
    with pytest.raises(ApprovalRequired, match="second administrator"):
        officers.grant_role(s, unit.rita.id, Role.AUDITOR, None)
    assert not s.db.officers.get(unit.rita.id).has(Role.AUDITOR)  # type: ignore[union-attr]
    denied = _rows(s, 1)[0]
    assert (denied.action, denied.outcome) == ("denied", "denied")
    assert _detail(denied)["cause"] == "no approval"

    updated = officers.grant_role(s, unit.rita.id, Role.AUDITOR, _carol_approves(s))
    assert updated.roles == {Role.RECORD_KEEPER, Role.AUDITOR}
    row = _rows(s, 1)[0]
    assert (row.action, row.entity_id, row.username) == ("update", unit.rita.id, ADMIN)
    assert _detail(row)["granted"] == ["auditor"]
    assert _detail(row)["approved_by_username"] == CAROL


def test_a_single_administrator_grants_alone_and_the_row_says_so(new_vault: NewVault) -> None:
    s = new_vault.session
    rita = add_officer(s, RITA, RITA_PW, [])
    officers.grant_role(s, rita.id, Role.RECORD_KEEPER, None)
    assert _detail(_rows(s, 1)[0])["approval"] == BOOTSTRAP
    assert s.db.officers.get(rita.id).has(Role.RECORD_KEEPER)  # type: ignore[union-attr]


def test_the_same_officer_or_a_wrong_purpose_cannot_approve(unit: Unit) -> None:
    s = unit.session
    with pytest.raises(InvalidInput, match="different person"):
        approval.second_officer(s, ADMIN, ADMIN_PASSWORD, ADMINS, PURPOSE_ROLES)
    # An approval naming the acting officer, however it was obtained, is refused.
    own = replace(_carol_approves(s), approver_id=s.officer.id, approver_username=ADMIN)
    with pytest.raises(PermissionDenied, match="different person"):
        officers.grant_role(s, unit.rita.id, Role.AUDITOR, own)
    other = _carol_approves(s, PURPOSE_ADD)
    with pytest.raises(PermissionDenied, match="something else"):
        officers.grant_role(s, unit.rita.id, Role.AUDITOR, other)
    causes = [_detail(r).get("cause") for r in _rows(s, 6) if r.outcome == "denied"]
    assert {"same officer", "approval for another purpose"} <= set(causes)
    assert not s.db.officers.get(unit.rita.id).has(Role.AUDITOR)  # type: ignore[union-attr]


def test_an_approval_expires(unit: Unit) -> None:
    s = unit.session
    ok = _carol_approves(s)
    later = clock.utc_now() + timedelta(minutes=11)
    clock.set_clock(lambda: later)
    with pytest.raises(PermissionDenied, match="expired"):
        officers.grant_role(s, unit.rita.id, Role.AUDITOR, ok)


def test_a_non_administrator_cannot_grant_and_the_denial_is_audited(
    unit: Unit, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    hank = unlock(vault_dir, HANK, HANK_PW, keyring_store)
    try:
        with pytest.raises(PermissionDenied, match="not permitted"):
            officers.grant_role(hank, unit.rita.id, Role.AUDITOR, None)
        row = _rows(hank, 1)[0]
        assert (row.username, row.action, row.outcome) == (HANK, "denied", "denied")
    finally:
        hank.close()


def test_nobody_changes_their_own_roles_or_status(unit: Unit) -> None:
    s = unit.session
    me = s.officer.id
    with pytest.raises(PermissionDenied, match="own roles"):
        officers.grant_role(s, me, Role.AUDITOR, _carol_approves(s))
    with pytest.raises(PermissionDenied, match="own roles"):
        officers.set_status(s, me, OfficerStatus.SUSPENDED, None)
    with pytest.raises(PermissionDenied, match="own roles"):
        officers.record_accreditation(s, me, COURSE)
    assert [_detail(r).get("cause") for r in _rows(s, 3)] == ["own account"] * 3
    assert s.db.officers.get(me).roles == {Role.ADMINISTRATOR}  # type: ignore[union-attr]


def test_revoking_ends_the_holding_and_keeps_its_history(unit: Unit) -> None:
    s = unit.session
    officers.revoke_role(s, unit.hank.id, Role.HANDLER, _carol_approves(s))
    assert not s.db.officers.get(unit.hank.id).roles  # type: ignore[union-attr]
    history = s.db.officers.role_history(unit.hank.id)
    assert len(history) == 1
    held = history[0]
    assert held.role is Role.HANDLER and held.valid_to is not None
    assert held.revoked_by == s.officer.id and held.valid_from < held.valid_to
    assert _detail(_rows(s, 1)[0])["revoked"] == ["handler"]
    with pytest.raises(InvalidInput, match="does not hold"):
        officers.revoke_role(s, unit.hank.id, Role.HANDLER, _carol_approves(s))


# -- accreditation -----------------------------------------------------------------------
def test_handler_and_controller_need_a_current_accreditation_with_enough_hours(unit: Unit) -> None:
    s = unit.session
    rita = unit.rita.id
    with pytest.raises(InvalidInput, match="at least 70 hours"):
        officers.grant_role(s, rita, Role.CONTROLLER, _carol_approves(s))
    today = clock.utc_now().date()
    officers.record_accreditation(s, rita, NewAccreditation("Short course", today, 30))
    officers.record_accreditation(
        s,
        rita,
        NewAccreditation(
            "Lapsed course", today - timedelta(days=900), 80, today - timedelta(days=1)
        ),
    )
    with pytest.raises(InvalidInput, match="accreditation"):
        officers.grant_role(s, rita, Role.CONTROLLER, _carol_approves(s))
    officers.record_accreditation(
        s, rita, NewAccreditation("Full course", today - timedelta(days=30), 70, today)
    )
    officers.grant_role(s, rita, Role.CONTROLLER, _carol_approves(s))
    assert s.db.officers.get(rita).has(Role.CONTROLLER)  # type: ignore[union-attr]
    creates = [
        r
        for r in _rows(s, 12)
        if r.entity_type == "accreditation" and _detail(r)["officer_id"] == rita
    ]
    assert len(creates) == 3
    assert all(
        _detail(r)["fields"] == ["course", "completed_on", "hours", "expires_on"] for r in creates
    )


def test_the_accreditation_rule_follows_the_local_policy(new_vault: NewVault) -> None:
    s = new_vault.session
    rita = add_officer(s, RITA, RITA_PW, [])
    policy.change(s, "accredited_handlers_only", False, None)
    officers.grant_role(s, rita.id, Role.HANDLER, None)
    assert s.db.officers.get(rita.id).has(Role.HANDLER)  # type: ignore[union-attr]


def test_an_accreditation_is_checked_before_it_is_recorded(unit: Unit) -> None:
    s = unit.session
    today = clock.utc_now().date()
    bad = [
        (NewAccreditation("", today, 70), "Course"),
        (NewAccreditation("Course", today + timedelta(days=1), 70), "future"),
        (NewAccreditation("Course", today, 0), "Hours"),
        (NewAccreditation("Course", today, 70, today), "after the completion"),
    ]
    before = s.db.audit.head()
    for new, message in bad:
        with pytest.raises(InvalidInput, match=message):
            officers.record_accreditation(s, unit.rita.id, new)
    assert s.db.audit.head() == before
    assert officers.details(s, unit.rita.id).accreditations == []


# -- status ------------------------------------------------------------------------------
def test_suspend_blocks_login_and_reinstating_needs_approval(
    unit: Unit, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    s = unit.session
    officers.set_status(
        s,
        unit.hank.id,
        OfficerStatus.SUSPENDED,
        _carol_approves(s, officers.status_purpose(OfficerStatus.SUSPENDED)),
        reason="under investigation",
    )
    row = _rows(s, 1)[0]
    assert _detail(row)["to"] == "suspended" and row.reason == "under investigation"
    with pytest.raises(CimError, match="This account is suspended"):
        unlock(vault_dir, HANK, HANK_PW, keyring_store)
    with pytest.raises(InvalidInput, match="active officer"):
        officers.grant_role(s, unit.hank.id, Role.CONTROLLER, _carol_approves(s))
    with pytest.raises(ApprovalRequired):
        officers.set_status(s, unit.hank.id, OfficerStatus.ACTIVE, None)
    officers.set_status(
        s,
        unit.hank.id,
        OfficerStatus.ACTIVE,
        _carol_approves(s, officers.status_purpose(OfficerStatus.ACTIVE)),
    )
    unlock(vault_dir, HANK, HANK_PW, keyring_store).close()


def test_leaving_ends_every_role_and_cannot_be_undone(unit: Unit) -> None:
    s = unit.session
    purpose = officers.status_purpose(OfficerStatus.LEFT)
    officers.set_status(s, unit.hank.id, OfficerStatus.LEFT, _carol_approves(s, purpose))
    hank = s.db.officers.get(unit.hank.id)
    assert hank is not None and hank.status is OfficerStatus.LEFT and not hank.roles
    assert all(h.valid_to for h in s.db.officers.role_history(unit.hank.id))
    assert _detail(_rows(s, 1)[0])["roles_ended"] == ["handler"]
    with pytest.raises(InvalidInput, match="cannot be reinstated"):
        officers.set_status(
            s,
            unit.hank.id,
            OfficerStatus.ACTIVE,
            _carol_approves(s, officers.status_purpose(OfficerStatus.ACTIVE)),
        )


def test_a_suspended_administrator_cannot_approve_nor_counts_for_bootstrap(unit: Unit) -> None:
    s = unit.session
    officers.set_status(
        s,
        unit.carol.id,
        OfficerStatus.SUSPENDED,
        _carol_approves(s, officers.status_purpose(OfficerStatus.SUSPENDED)),
    )
    with pytest.raises(PermissionDenied, match="not active"):
        _carol_approves(s)
    # With carol suspended the first administrator is alone again: the bootstrap rule.
    officers.grant_role(s, unit.rita.id, Role.AUDITOR, None)
    assert _detail(_rows(s, 1)[0])["approval"] == BOOTSTRAP


# -- particulars, reads ------------------------------------------------------------------
def test_particulars_are_validated_against_the_policy_ranks_and_unique_collars(unit: Unit) -> None:
    s = unit.session
    officers.update_particulars(
        s, unit.hank.id, Particulars("Hank Hill", "4521", "Sergeant", "male")
    )
    row = _rows(s, 1)[0]
    assert _detail(row)["fields"] == ["display_name", "collar_number", "rank", "gender"]
    assert "Hank Hill" not in row.detail and "4521" not in row.detail
    with pytest.raises(InvalidInput, match="Rank"):
        officers.update_particulars(s, unit.rita.id, Particulars("Rita", "", "Admiral"))
    with pytest.raises(InvalidInput, match="Collar number: another officer"):
        officers.update_particulars(s, unit.rita.id, Particulars("Rita", "4521"))
    with pytest.raises(InvalidInput, match="Collar number: another officer"):
        accounts.add_officer(
            s, "newbie", "a long enough password", [], particulars=Particulars("New", "4521")
        )
    with pytest.raises(InvalidInput, match="Display name"):
        officers.update_particulars(s, unit.rita.id, Particulars("  "))


def test_reading_the_list_and_details_is_audited_and_limited(
    unit: Unit, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    s = unit.session
    assert [o.username for o in accounts.list_officers(s)] == [ADMIN, CAROL, HANK, RITA]
    assert (_rows(s, 1)[0].action, _rows(s, 1)[0].entity_id) == ("view", "*")
    found = officers.details(s, unit.hank.id)
    assert [a.course for a in found.accreditations] == [COURSE.course]
    assert [h.role for h in found.roles] == [Role.HANDLER]
    assert (_rows(s, 1)[0].action, _rows(s, 1)[0].entity_id) == ("view", unit.hank.id)

    hank = unlock(vault_dir, HANK, HANK_PW, keyring_store)
    try:
        assert officers.details(hank, unit.hank.id).officer.username == HANK  # their own
        with pytest.raises(PermissionDenied):
            officers.details(hank, unit.rita.id)
        with pytest.raises(PermissionDenied):
            accounts.list_officers(hank)
        assert [r.outcome for r in _rows(hank, 3)] == ["denied", "denied", "ok"]
    finally:
        hank.close()


def test_new_officers_start_with_a_temporary_password(unit: Unit) -> None:
    s = unit.session
    made = accounts.add_officer(s, "newbie", "a long enough password", [])
    assert made.must_change_password
    assert s.db.officers.get(made.id).must_change_password  # type: ignore[union-attr]
    assert not s.officer.must_change_password  # the first administrator chose their own
    assert date.fromisoformat(made.created_at[:10]) == clock.utc_now().date()
