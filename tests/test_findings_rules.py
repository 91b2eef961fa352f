"""The pure rules return findings with stable codes; services refuse with them."""

from __future__ import annotations

import pytest

from cim_desktop.domain.access.approval_rules import approver_standing, distinct_officer
from cim_desktop.domain.access.rules import TeamRole
from cim_desktop.domain.findings import (
    Finding,
    RuleViolation,
    Severity,
    blocking,
    field_problem,
    refuse,
)
from cim_desktop.domain.officers.model import Officer, OfficerStatus
from cim_desktop.domain.officers.passwords import check_new_password
from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.officers.rules import Particulars, check_particulars
from cim_desktop.domain.policy.settings import RANKS, Policy, SettingInvalid, check_findings
from cim_desktop.domain.sources.model import TeamMember, check_pseudonym, check_urn
from cim_desktop.domain.sources.team_rules import team_assignment
from cim_desktop.errors import InvalidInput

NOW = "2026-06-01T12:00:00Z"
URN = "DSU-2026-0001"


def _officer(
    *roles: Role, status: OfficerStatus = OfficerStatus.ACTIVE, temp: bool = False
) -> Officer:
    return Officer("o-1", "pat", "Pat", status, frozenset(roles), NOW, must_change_password=temp)


def _held(role: TeamRole, valid_to: str | None = None, officer_id: str = "o-1") -> TeamMember:
    return TeamMember(1, URN, officer_id, "pat", role, "2026-01-01T00:00:00Z", valid_to, "x")


def _codes(found: list[Finding]) -> list[str]:
    return [f.code for f in found]


def _assign(officer: Officer | None, role: TeamRole, *history: TeamMember) -> list[str]:
    return _codes(team_assignment(URN, "pat", officer, role, list(history), NOW))


def test_a_fit_officer_raises_no_finding() -> None:
    assert _assign(_officer(Role.HANDLER), TeamRole.HANDLER) == []
    # Someone else's past handling is no bar to this officer being the AO.
    other = _held(TeamRole.HANDLER, officer_id="o-2")
    assert _assign(_officer(Role.AUTHORISING_OFFICER), TeamRole.AUTHORISING_OFFICER, other) == []


@pytest.mark.parametrize("status", [OfficerStatus.SUSPENDED, OfficerStatus.LEFT])
def test_only_active_officers_join_a_team(status: OfficerStatus) -> None:
    assert _assign(None, TeamRole.HANDLER) == ["team.officer-not-active"]
    assert _assign(_officer(Role.HANDLER, status=status), TeamRole.HANDLER) == [
        "team.officer-not-active"
    ]


def test_the_team_role_needs_its_standing_role() -> None:
    assert _assign(_officer(Role.CONTROLLER), TeamRole.HANDLER) == ["team.role-not-held"]


def test_one_current_role_per_officer_per_source() -> None:
    found = team_assignment(
        URN, "pat", _officer(Role.HANDLER), TeamRole.CO_HANDLER, [_held(TeamRole.HANDLER)], NOW
    )
    assert _codes(found) == ["team.already-on-team"]
    assert found[0].field == "username" and "s29(5)" in found[0].citation
    # A role that has ended is no bar.
    ended = _held(TeamRole.HANDLER, valid_to="2026-02-01T00:00:00Z")
    assert _assign(_officer(Role.HANDLER), TeamRole.CO_HANDLER, ended) == []


@pytest.mark.parametrize("past", [TeamRole.HANDLER, TeamRole.CO_HANDLER, TeamRole.CONTROLLER])
def test_an_authorising_officer_must_never_have_handled_or_controlled(past: TeamRole) -> None:
    ended = _held(past, valid_to="2026-02-01T00:00:00Z")
    found = team_assignment(
        URN, "pat", _officer(Role.AUTHORISING_OFFICER), TeamRole.AUTHORISING_OFFICER, [ended], NOW
    )
    assert _codes(found) == ["team.ao-not-independent"]
    assert found[0].severity is Severity.BLOCKING and "impartial" in found[0].citation
    # Having been the record keeper is no conflict.
    keeper = _held(TeamRole.RECORD_KEEPER, valid_to="2026-02-01T00:00:00Z")
    assert _assign(_officer(Role.AUTHORISING_OFFICER), TeamRole.AUTHORISING_OFFICER, keeper) == []


def test_every_problem_is_reported_at_once() -> None:
    current = _held(TeamRole.HANDLER)
    assert _assign(_officer(Role.HANDLER), TeamRole.AUTHORISING_OFFICER, current) == [
        "team.role-not-held",
        "team.already-on-team",
        "team.ao-not-independent",
    ]


def test_an_approval_needs_both_credentials_and_another_officer() -> None:
    assert _codes(distinct_officer("ann", "", "pw")) == ["approval.missing-credentials"]
    assert distinct_officer("ann", "bob", "")[0].field == "password"
    assert _codes(distinct_officer("ann", " ANN ", "pw")) == ["approval.same-officer"]
    assert distinct_officer("ann", "bob", "pw") == []


def test_the_approver_must_be_active_permanent_and_hold_the_role() -> None:
    admins = frozenset({Role.ADMINISTRATOR})
    assert _codes(approver_standing(None, admins)) == ["approval.approver-not-active"]
    suspended = _officer(Role.ADMINISTRATOR, status=OfficerStatus.SUSPENDED)
    assert _codes(approver_standing(suspended, admins)) == ["approval.approver-not-active"]
    temporary = _officer(Role.ADMINISTRATOR, temp=True)
    assert _codes(approver_standing(temporary, admins)) == ["approval.temporary-password"]
    assert _codes(approver_standing(_officer(Role.HANDLER), admins)) == ["approval.role-not-held"]
    assert approver_standing(_officer(Role.ADMINISTRATOR), admins) == []


def test_refuse_raises_a_user_error_carrying_only_blocking_findings() -> None:
    note = Finding("x.note", Severity.WARNING, "Worth a look.")
    refuse([note])  # warnings alone never refuse
    stop = blocking("x.stop", "Not allowed.", "rank")
    with pytest.raises(InvalidInput, match="Not allowed") as info:
        refuse([note, stop])
    assert isinstance(info.value, RuleViolation)
    assert info.value.findings == (stop,) and info.value.field == "rank"


def test_a_field_problem_reads_whole_on_the_command_line_and_short_under_its_field() -> None:
    problem = field_problem("officer.rank-unknown", "rank", "Rank", "choose one of PC, DS.")
    assert problem.message == "Rank: choose one of PC, DS."
    assert problem.field == "rank" and problem.findings[0].message == "choose one of PC, DS."


def test_field_validators_name_their_field() -> None:
    with pytest.raises(RuleViolation) as info:
        check_particulars(Particulars("Pat", collar_number="#bad"), ("PC",))
    assert (info.value.findings[0].code, info.value.field) == (
        "officer.collar-number",
        "collar_number",
    )
    assert info.value.message.startswith("Collar number: ")  # the command line's wording
    with pytest.raises(RuleViolation) as info:
        check_new_password("short", "pat")
    assert info.value.field == "password"
    with pytest.raises(RuleViolation) as info:
        check_pseudonym("\x00")
    assert (info.value.findings[0].code, info.value.field) == ("text.not-storable", "pseudonym")
    with pytest.raises(RuleViolation) as info:
        check_urn("x")
    assert info.value.field == "urn"


def test_policy_checks_give_one_coded_finding_per_setting_under_its_key() -> None:
    base = Policy.defaults()
    without = tuple(r for r in RANKS if r != base["ao_rank_standard"])
    clean, found = check_findings(
        base,
        {
            "colour": "blue",
            "idle_lock_minutes": 0,
            "ranks": without,
            "payment_controller_limit": 5_000,
        },
    )
    by_field = {f.field: f.code for f in found}
    assert by_field == {
        "colour": "policy.unknown-setting",
        "idle_lock_minutes": "policy.invalid-value",
        "ao_rank_standard": "policy.rank-withdrawn",
        "payment_controller_limit": "policy.limits-out-of-order",
    }
    assert clean["ranks"] == without
    refused = SettingInvalid(found)
    assert refused.findings == tuple(found) and refused.key == "colour"
    assert refused.errors["idle_lock_minutes"].startswith("Lock after idle")
