"""The generated access matrix.

The expectation below is written out by hand, independently of ``domain/access/rules.py``: every
officer role x every relation to the source (outside the team, each team role, break-glass)
x every action x every field tier -> allowed, needs a reason, or denied. It is checked
against the rule function for both settings of the ``metadata_outside_team`` policy, and
against the services on a real vault (allowed calls succeed and are audited; denied calls
raise ``PermissionDenied`` and write a DENIED audit row). A meta-test flips each rule of the
declared table in turn and shows that the matrix then finds a mismatch.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cim_desktop.domain.access import rules
from cim_desktop.domain.access.rules import Act, Cell, TeamRole, Tier, Verdict
from cim_desktop.domain.audit.rows import AuditRow
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.policy.settings import Policy
from cim_desktop.domain.sources.model import BreakGlassGrant, SourceRecord, SourceStatus
from cim_desktop.errors import InvalidInput, PermissionDenied
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.access import permissions as access
from cim_desktop.services.session import Session
from cim_desktop.services.sources import register as sources
from cim_desktop.services.vault.lifecycle import create_vault, unlock
from cim_desktop.store.access.break_glass import BreakGlassRepository
from cim_desktop.store.sources.register import SourceRepository
from tests.conftest import ADMIN, ADMIN_PASSWORD, UNIT
from tests.memory_keyring import MemoryKeyring
from tests.officer_helpers import add_officer

# -- the expectation, declared --------------------------------------------------------------
OUTSIDE = "outside"
BREAK_GLASS = "break_glass"
RELATIONS = (OUTSIDE, *(t.value for t in TeamRole), BREAK_GLASS)

# What each relation gives, per action, as "identity content metadata":
# y = allowed, r = allowed with a stated reason, - = denied.
GIVES: dict[str, dict[Act, str]] = {
    "handler": {
        Act.VIEW: "- y y",
        Act.EDIT: "- y -",
        Act.DECIDE: "- - -",
        Act.MANAGE_TEAM: "- - -",
    },
    "co_handler": {
        Act.VIEW: "- y y",
        Act.EDIT: "- y -",
        Act.DECIDE: "- - -",
        Act.MANAGE_TEAM: "- - -",
    },
    "controller": {
        Act.VIEW: "r y y",
        Act.EDIT: "- y y",
        Act.DECIDE: "- - -",
        Act.MANAGE_TEAM: "- - y",
    },
    "record_keeper": {
        Act.VIEW: "r y y",
        Act.EDIT: "r - y",
        Act.DECIDE: "- - -",
        Act.MANAGE_TEAM: "- - y",
    },
    "authorising_officer": {
        Act.VIEW: "- y y",
        Act.EDIT: "- - -",
        Act.DECIDE: "- y -",
        Act.MANAGE_TEAM: "- - -",
    },
    "break_glass": {
        Act.VIEW: "- y y",
        Act.EDIT: "- - -",
        Act.DECIDE: "- - -",
        Act.MANAGE_TEAM: "- - -",
    },
}
# A relation counts only for an officer holding one of these roles.
COUNTS_FOR: dict[str, set[Role]] = {
    "handler": {Role.HANDLER},
    "co_handler": {Role.HANDLER},
    "controller": {Role.CONTROLLER},
    "record_keeper": {Role.RECORD_KEEPER},
    "authorising_officer": {Role.AUTHORISING_OFFICER},
    "break_glass": {Role.HANDLER, Role.CONTROLLER, Role.AUTHORISING_OFFICER, Role.RECORD_KEEPER},
}
COLUMN = {Tier.IDENTITY: 0, Tier.CONTENT: 1, Tier.METADATA: 2}
STRENGTH = {"-": 0, "r": 1, "y": 2}
AS_VERDICT = {"-": Verdict.DENIED, "r": Verdict.NEEDS_REASON, "y": Verdict.ALLOWED}


def expected(role: Role, relation: str, act: Act, tier: Tier, outside_metadata: bool) -> str:
    # Everyone: URN-level metadata only where the policy allows; auditors always.
    base = (
        "y"
        if act is Act.VIEW and tier is Tier.METADATA and (role is Role.AUDITOR or outside_metadata)
        else "-"
    )
    given = "-"
    if relation != OUTSIDE and role in COUNTS_FOR[relation]:
        given = GIVES[relation][act].split()[COLUMN[tier]]
    return max(base, given, key=STRENGTH.__getitem__)


@dataclass(frozen=True)
class Case:
    role: Role
    relation: str
    act: Act
    tier: Tier

    def __str__(self) -> str:
        return f"{self.role.value}-{self.relation}-{self.act.value}-{self.tier.value}"


CASES = [Case(*c) for c in itertools.product(Role, RELATIONS, Act, Tier)]
POLICIES = {
    False: Policy.defaults(),
    True: Policy({**Policy.defaults().values, rules.POLICY_FLAG: True}),
}


def _facts(case: Case) -> tuple[frozenset[Role], frozenset[TeamRole], bool]:
    team = (
        frozenset({TeamRole(case.relation)})
        if case.relation not in (OUTSIDE, BREAK_GLASS)
        else frozenset()
    )
    return frozenset({case.role}), team, case.relation == BREAK_GLASS


def mismatches() -> list[str]:
    """Every cell where the rule function disagrees with the declared expectation."""
    found = []
    for case in CASES:
        roles, team, glass = _facts(case)
        for flag, policy in POLICIES.items():
            want = AS_VERDICT[expected(case.role, case.relation, case.act, case.tier, flag)]
            got = rules.decide(roles, team, glass, case.act, case.tier, policy).verdict
            if got is not want:
                found.append(f"{case} policy={flag}: expected {want}, got {got}")
    return found


# -- the rule function ----------------------------------------------------------------------
@pytest.mark.parametrize("flag", [False, True], ids=["metadata-policy-off", "metadata-policy-on"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule_function_matches_the_matrix(case: Case, flag: bool) -> None:
    roles, team, glass = _facts(case)
    want = AS_VERDICT[expected(case.role, case.relation, case.act, case.tier, flag)]
    assert rules.decide(roles, team, glass, case.act, case.tier, POLICIES[flag]).verdict is want


def test_an_officer_with_several_roles_gets_the_union() -> None:
    both = frozenset({Role.ADMINISTRATOR, Role.HANDLER})
    policy = POLICIES[False]
    handler_team = frozenset({TeamRole.HANDLER})
    assert rules.decide(both, handler_team, False, Act.VIEW, Tier.CONTENT, policy).allowed
    # The administrator role adds nothing outside the team.
    assert not rules.decide(both, frozenset(), False, Act.VIEW, Tier.METADATA, policy).allowed
    auditor_keeper = frozenset({Role.AUDITOR, Role.RECORD_KEEPER})
    ruling = rules.decide(
        auditor_keeper, frozenset({TeamRole.RECORD_KEEPER}), False, Act.VIEW, Tier.IDENTITY, policy
    )
    assert ruling.verdict is Verdict.NEEDS_REASON
    assert rules.acting_role(ruling.via, auditor_keeper) is Role.RECORD_KEEPER


def _flips(cell: Cell) -> list[Cell]:
    return {
        Cell.YES: [Cell.NO],
        Cell.NO: [Cell.YES],
        Cell.REASON: [Cell.YES, Cell.NO],
        Cell.POLICY: [Cell.YES, Cell.NO],
    }[cell]


FLIPS = [
    (key, column, new)
    for key, row in rules.RULES.items()
    for column, cell in enumerate(row)
    for new in _flips(cell)
]


def test_the_matrix_agrees_before_any_flip() -> None:
    assert mismatches() == []
    assert len(rules.RULES) == len(rules.Subject) * len(Act)


@pytest.mark.parametrize(
    ("key", "column", "new"),
    FLIPS,
    ids=[f"{k[0].value}-{k[1].value}-{rules.TIERS[c].value}-to-{n.value}" for k, c, n in FLIPS],
)
def test_flipping_any_rule_is_caught(
    monkeypatch: pytest.MonkeyPatch, key: tuple[Any, Act], column: int, new: Cell
) -> None:
    row = list(rules.RULES[key])
    row[column] = new
    monkeypatch.setitem(rules.RULES, key, tuple(row))
    assert mismatches(), f"flipping {key} {rules.TIERS[column]} to {new} went unnoticed"


@pytest.mark.parametrize("team_role", list(TeamRole))
def test_loosening_who_a_team_role_counts_for_is_caught(
    monkeypatch: pytest.MonkeyPatch, team_role: TeamRole
) -> None:
    wrong = next(r for r in Role if r is not rules.TEAM_ROLE_NEEDS[team_role])
    monkeypatch.setitem(rules.TEAM_ROLE_NEEDS, team_role, wrong)
    assert mismatches()


@pytest.mark.parametrize("role", list(Role))
def test_changing_who_may_break_glass_is_caught(
    monkeypatch: pytest.MonkeyPatch, role: Role
) -> None:
    monkeypatch.setattr(rules, "BREAK_GLASS_ROLES", rules.BREAK_GLASS_ROLES ^ {role})
    assert mismatches()


def test_dropping_the_auditor_rule_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(rules.STANDING, Role.AUDITOR)
    assert mismatches()


# -- the services, on a real vault ----------------------------------------------------------
PASSWORDS = {role: f"matrix password for {role.value}" for role in Role}
USERNAMES = {role: ("admin" if role is Role.ADMINISTRATOR else f"mx_{role.value}") for role in Role}
SPARE = "mx_spare"
PSEUDONYM = "KESTREL"
REASON = "Checking the address before the meeting"
IDENTITY = {"full_name": "Jane Matrix Example", "address": "1 Secret Lane"}


def urn_for(relation: str) -> str:
    return f"MX-{relation.upper().replace('_', '-')}"


@dataclass
class World:
    root: Path
    sessions: dict[Role, Session]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("matrix") / "vault"
    keyring = DeviceSecretStore(MemoryKeyring())
    admin = create_vault(
        root, unit_name=UNIT, admin_username=ADMIN, admin_password=ADMIN_PASSWORD, keyring=keyring
    ).session
    assert USERNAMES[Role.ADMINISTRATOR] == ADMIN
    for role in Role:
        if role is not Role.ADMINISTRATOR:
            add_officer(admin, USERNAMES[role], PASSWORDS[role], [role])
    add_officer(admin, SPARE, "matrix spare handler password", [Role.HANDLER])
    sessions = {
        role: unlock(root, USERNAMES[role], PASSWORDS[role], keyring)
        for role in Role
        if role is not Role.ADMINISTRATOR
    }
    sessions[Role.ADMINISTRATOR] = admin
    # The team rows are laid down directly: the services would (rightly) refuse to make an
    # auditor a handler, but the rules must still hold if such a row existed.
    now = utc_now()
    repo = SourceRepository(admin.db.conn)
    grants = BreakGlassRepository(admin.db.conn)
    with admin.db.transaction():
        for relation in RELATIONS:
            urn = urn_for(relation)
            repo.add(
                SourceRecord(urn, PSEUDONYM, SourceStatus.PROSPECT, iso_utc(now), admin.officer.id)
            )
            repo.add_identity(urn, json.dumps(IDENTITY), iso_utc(now), admin.officer.id)
            for session in sessions.values():
                if relation == BREAK_GLASS:
                    grants.add(
                        BreakGlassGrant(
                            f"grant-{session.officer.username}",
                            session.officer.id,
                            urn,
                            "matrix test grant",
                            iso_utc(now - timedelta(seconds=1)),
                            iso_utc(now + timedelta(minutes=60)),
                        )
                    )
                elif relation != OUTSIDE:
                    repo.assign(
                        urn, session.officer.id, TeamRole(relation), iso_utc(now), admin.officer.id
                    )
    yield World(root, sessions)
    for session in sessions.values():
        session.close()


def _manage_team(session: Session, urn: str, reason: str) -> None:
    member = sources.assign_team_role(session, urn, SPARE, TeamRole.CO_HANDLER)
    sources.end_team_role(session, urn, member.id)


SERVICES: dict[tuple[Act, Tier], Callable[[Session, str, str], object]] = {
    (Act.VIEW, Tier.METADATA): lambda s, urn, reason: sources.view_metadata(s, urn),
    (Act.VIEW, Tier.CONTENT): lambda s, urn, reason: sources.view_content(s, urn),
    (Act.VIEW, Tier.IDENTITY): sources.view_identity,
    (Act.EDIT, Tier.METADATA): lambda s, urn, reason: sources.update_status(s, urn, "prospect"),
    (Act.EDIT, Tier.CONTENT): lambda s, urn, reason: sources.update_pseudonym(s, urn, PSEUDONYM),
    (Act.EDIT, Tier.IDENTITY): lambda s, urn, reason: sources.update_identity(
        s, urn, IDENTITY, reason
    ),
    (Act.MANAGE_TEAM, Tier.METADATA): _manage_team,
}


def _call(case: Case, session: Session, urn: str, reason: str) -> object:
    service = SERVICES.get((case.act, case.tier))
    if service is None:
        # No use case exists yet for this action at this tier (decisions arrive with the
        # authorisation workflow): later services call the same enforcement point.
        return access.require(session, case.act, urn, case.tier, reason)
    return service(session, urn, reason)


def _rows_since(session: Session, seq: int) -> list[AuditRow]:
    return session.db.audit.page(after_seq=seq, limit=50)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_services_enforce_the_matrix(world: World, case: Case) -> None:
    session = world.sessions[case.role]
    urn = urn_for(case.relation)
    want = expected(case.role, case.relation, case.act, case.tier, False)
    assert access.permission(session, case.act, urn, case.tier).verdict is AS_VERDICT[want]
    head, _ = session.db.audit.head()

    if want == "-":
        with pytest.raises(PermissionDenied, match=urn):
            _call(case, session, urn, REASON)
        (row,) = _rows_since(session, head)
        assert (row.action, row.outcome, row.entity_id) == ("denied", "denied", urn)
        assert row.username == USERNAMES[case.role]
        detail = json.loads(row.detail)
        assert detail["tier"] == case.tier.value and case.act.value in detail["attempted"]
        return

    if want == "r":
        with pytest.raises(InvalidInput, match="reason"):
            _call(case, session, urn, "  ")
        assert _rows_since(session, head) == [], "a refused blank reason records nothing"
    _call(case, session, urn, REASON if want == "r" else "")
    rows = _rows_since(session, head)
    if (case.act, case.tier) in SERVICES:
        assert rows, "an allowed use case is audited"
    assert all(r.outcome == "ok" for r in rows)
    assert all(r.username == USERNAMES[case.role] for r in rows)
    if want == "r":
        assert any(r.reason == REASON for r in rows)
    for row in rows:
        text = " ".join(str(v) for v in (row.detail, row.reason, row.entity_id))
        assert all(value not in text for value in IDENTITY.values())
