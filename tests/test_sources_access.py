"""The source register through the access model: registering, teams, tiers, lists."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import astuple
from datetime import timedelta

import pytest

from cim_desktop.domain import clock
from cim_desktop.domain.access.rules import Act, TeamRole, Tier
from cim_desktop.domain.audit.rows import AuditRow
from cim_desktop.domain.findings import RuleViolation
from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.sources.model import SourceStatus
from cim_desktop.errors import InvalidInput, PermissionDenied
from cim_desktop.services.access import permissions as access
from cim_desktop.services.policy import settings as policy
from cim_desktop.services.session import Session
from cim_desktop.services.sources import register as sources
from cim_desktop.store.sources.register import SourceRepository
from tests.access_world import World, build
from tests.conftest import ADMIN
from tests.officer_helpers import add_officer

SECRET = {
    "full_name": "Jane Sealed Example",
    "date_of_birth": "1990-02-03",
    "address": "7 Hidden Row, Anytown",
}
REASON = "Confirming the address before deployment"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build(
        tmp_path_factory.mktemp("sources") / "vault",
        "ctrl",
        "keeper",
        "handler1",
        "handler2",
        "ao",
        "auditor",
    )
    yield built
    built.close()


def _rows(session: Session, after: int) -> list[AuditRow]:
    return sorted(session.db.audit.page(after_seq=after, limit=100), key=lambda r: r.seq)


def _head(session: Session) -> int:
    return session.db.audit.head()[0]


def _all_rows_text(session: Session) -> str:
    return "\n".join(" ".join(str(v) for v in astuple(r)[:12]) for r in session.db.audit.iter_all())


def _source_with_team(world: World, pseudonym: str) -> str:
    """A source registered by ctrl, with keeper, handler1 and ao on its team."""
    record = sources.register_source(world["ctrl"], pseudonym)
    sources.assign_team_role(world["ctrl"], record.urn, "keeper", TeamRole.RECORD_KEEPER)
    sources.assign_team_role(world["ctrl"], record.urn, "handler1", TeamRole.HANDLER)
    sources.assign_team_role(world["ctrl"], record.urn, "ao", TeamRole.AUTHORISING_OFFICER)
    return record.urn


def test_registering_takes_a_policy_urn_and_joins_the_team(world: World) -> None:
    ctrl = world["ctrl"]
    head = _head(ctrl)
    record = sources.register_source(ctrl, "  Kestrel  ")
    year = clock.utc_now().year
    assert record.urn.startswith(f"DSU-{year}-") and record.pseudonym == "Kestrel"
    assert record.status is SourceStatus.PROSPECT
    second = sources.register_source(ctrl, "Merlin")
    assert second.urn != record.urn
    team = sources.team(ctrl, record.urn)
    assert [(m.username, m.team_role) for m in team] == [("ctrl", TeamRole.CONTROLLER)]
    created = [r for r in _rows(ctrl, head) if r.action == "create"]
    assert [r.entity_id for r in created] == [record.urn, second.urn]
    assert all(r.role == "controller" for r in created)
    # A chosen URN is checked; a taken one is refused.
    with pytest.raises(InvalidInput, match="already registered"):
        sources.register_source(ctrl, "Other", record.urn)
    with pytest.raises(InvalidInput, match="URN is 3 to 40"):
        sources.register_source(ctrl, "Other", "jane doe")


@pytest.mark.parametrize("username", ["handler1", "auditor", ADMIN, "ao"])
def test_only_controllers_and_record_keepers_register(world: World, username: str) -> None:
    session = world[username]
    head = _head(session)
    with pytest.raises(PermissionDenied, match="register a source"):
        sources.register_source(session, "Nope")
    (row,) = _rows(session, head)
    assert row.action == "denied" and row.outcome == "denied"


def test_team_assignment_rules(world: World) -> None:
    ctrl = world["ctrl"]
    urn = sources.register_source(ctrl, "Osprey").urn
    with pytest.raises(InvalidInput, match="does not hold the Handler role"):
        sources.assign_team_role(ctrl, urn, "auditor", TeamRole.HANDLER)
    with pytest.raises(InvalidInput, match="no active officer"):
        sources.assign_team_role(ctrl, urn, "nobody", TeamRole.HANDLER)
    member = sources.assign_team_role(ctrl, urn, "handler1", TeamRole.HANDLER)
    with pytest.raises(InvalidInput, match="already handler"):
        sources.assign_team_role(ctrl, urn, "handler1", TeamRole.CO_HANDLER)
    sources.assign_team_role(ctrl, urn, "handler2", TeamRole.CO_HANDLER)
    # A handler outside the team may not manage it, even once on it.
    with pytest.raises(PermissionDenied):
        sources.assign_team_role(world["handler1"], urn, "handler2", TeamRole.HANDLER)
    # Time-bounded: ending a role keeps its history and ends the access with it.
    assert access.permission(world["handler1"], Act.VIEW, urn, Tier.CONTENT).allowed
    sources.end_team_role(ctrl, urn, member.id)
    assert not access.permission(world["handler1"], Act.VIEW, urn, Tier.CONTENT).allowed
    with pytest.raises(InvalidInput, match="not held at present"):
        sources.end_team_role(ctrl, urn, member.id)
    history = sources.team(ctrl, urn, history=True)
    ended = next(m for m in history if m.id == member.id)
    assert ended.valid_to is not None and ended.username == "handler1"
    assert member.id not in [m.id for m in sources.team(ctrl, urn)]


def test_an_authorising_officer_is_never_a_former_handler(world: World) -> None:
    ctrl = world["ctrl"]
    urn = sources.register_source(ctrl, "Harrier").urn
    # An officer with both roles who handled the source cannot later authorise it.
    add_officer(
        world.sessions[ADMIN],
        "dual",
        "two roles and a long password",
        [Role.HANDLER, Role.AUTHORISING_OFFICER],
    )
    member = sources.assign_team_role(ctrl, urn, "dual", TeamRole.HANDLER)
    sources.end_team_role(ctrl, urn, member.id)
    head = _head(ctrl)
    with pytest.raises(RuleViolation, match="cannot be its authorising officer") as info:
        sources.assign_team_role(ctrl, urn, "dual", TeamRole.AUTHORISING_OFFICER)
    # Forms and callers match the stable code and place it by field, never by wording.
    assert [(f.code, f.field) for f in info.value.findings] == [
        ("team.ao-not-independent", "username")
    ]
    assert _rows(ctrl, head) == []  # refused before anything changed


def test_identity_is_sealed_reasoned_and_versioned(world: World) -> None:
    urn = _source_with_team(world, "Falcon")
    keeper, ctrl = world["keeper"], world["ctrl"]
    head = _head(keeper)
    with pytest.raises(InvalidInput, match="reason"):
        sources.update_identity(keeper, urn, SECRET, "   ")
    assert _rows(keeper, head) == []
    sources.update_identity(keeper, urn, SECRET, REASON)
    sources.update_identity(keeper, urn, {**SECRET, "phone": "07700 900123"}, REASON)
    shown = sources.view_identity(ctrl, urn, "Welfare check before tasking")
    assert shown["full_name"] == SECRET["full_name"] and shown["phone"] == "07700 900123"
    versions = ctrl.db.conn.execute(
        "SELECT version FROM source_identity WHERE urn = ? ORDER BY version", (urn,)
    ).fetchall()
    assert [v[0] for v in versions] == [1, 2], "the old particulars are kept"

    views = [r for r in _rows(ctrl, head) if r.action == "view" and r.entity_id == urn]
    assert views[-1].reason == "Welfare check before tasking"
    assert json.loads(views[-1].detail) == {"tier": "identity"}
    updates = [r for r in _rows(ctrl, head) if r.action == "update"]
    assert json.loads(updates[-1].detail)["fields"] == [
        "address",
        "date_of_birth",
        "full_name",
        "phone",
    ]
    # Handler, authorising officer and auditor are refused, and the refusal is recorded.
    for username in ("handler1", "ao", "auditor", ADMIN):
        with pytest.raises(PermissionDenied):
            sources.view_identity(world[username], urn, REASON)
    # Controllers view; only the record keeper changes.
    with pytest.raises(PermissionDenied):
        sources.update_identity(ctrl, urn, SECRET, REASON)
    text = _all_rows_text(ctrl)
    assert all(value not in text for value in SECRET.values())
    assert "07700 900123" not in text


def test_bad_identity_input_never_echoes_the_values(world: World) -> None:
    urn = _source_with_team(world, "Buzzard")
    keeper = world["keeper"]
    with pytest.raises(InvalidInput) as unknown:
        sources.update_identity(keeper, urn, {"Jane Sealed Example": "x"}, REASON)
    with pytest.raises(InvalidInput) as long_value:
        sources.update_identity(keeper, urn, {"address": "Hidden " * 400}, REASON)
    with pytest.raises(InvalidInput, match="at least one"):
        sources.update_identity(keeper, urn, {"address": "  "}, REASON)
    assert "Jane" not in unknown.value.message and "Hidden" not in long_value.value.message
    assert sources.view_identity(keeper, urn, REASON) == {}, "nothing was stored"


def test_content_and_metadata_follow_the_team(world: World) -> None:
    urn = _source_with_team(world, "Peregrine")
    handler, outsider = world["handler1"], world["handler2"]
    sources.update_pseudonym(handler, urn, "Peregrine Two")
    assert sources.view_content(handler, urn).pseudonym == "Peregrine Two"
    assert sources.view_content(world["ao"], urn).pseudonym == "Peregrine Two"
    with pytest.raises(PermissionDenied):
        sources.update_status(handler, urn, "authorised")
    sources.update_status(world["keeper"], urn, "authorised")
    assert sources.view_metadata(world["auditor"], urn).status is SourceStatus.AUTHORISED
    head = _head(outsider)
    with pytest.raises(PermissionDenied, match="break-glass"):
        sources.view_content(outsider, urn)
    (row,) = _rows(outsider, head)
    assert (row.action, row.entity_id, json.loads(row.detail)["tier"]) == ("denied", urn, "content")
    for username in ("auditor", ADMIN):
        with pytest.raises(PermissionDenied):
            sources.view_content(world[username], urn)
    with pytest.raises(InvalidInput, match="Unknown status"):
        sources.update_status(world["keeper"], urn, "sleeping")


def test_unknown_urns_reveal_nothing_to_outsiders(world: World) -> None:
    with pytest.raises(PermissionDenied):
        sources.view_metadata(world["handler2"], "DSU-1999-9999")
    # The auditor may see any metadata, so for them the absence is no secret.
    with pytest.raises(InvalidInput, match="no source"):
        sources.view_metadata(world["auditor"], "DSU-1999-9999")
    # Text that is not a URN never reaches the audit trail.
    head = _head(world["handler2"])
    with pytest.raises(InvalidInput):
        sources.view_content(world["handler2"], "Jane Sealed Example")
    assert _rows(world["handler2"], head) == []


def test_lists_show_the_caseload_only(world: World) -> None:
    mine = _source_with_team(world, "Goshawk")
    # A source on nobody's team, so that the test does not depend on what others registered.
    sources.register_source(world["keeper"], "Merlin")
    listed = {s.urn: s for s in sources.list_sources(world["handler1"])}
    assert listed[mine].pseudonym == "Goshawk"
    all_urns = SourceRepository(world["ctrl"].db.conn).urns()
    assert set(listed) < all_urns
    assert mine not in {s.urn for s in sources.list_sources(world["handler2"])}
    assert sources.list_sources(world.sessions[ADMIN]) == []
    audited = {s.urn: s for s in sources.list_sources(world["auditor"])}
    assert set(audited) == all_urns, "auditors see every URN and status"
    assert all(s.pseudonym is None for s in audited.values()), "but no content"
    row = world["auditor"].db.audit.page(limit=1)[0]
    assert (row.action, row.entity_id, row.username) == ("view", "*", "auditor")


def test_team_rows_are_time_bounded(world: World) -> None:
    ctrl, handler = world["ctrl"], world["handler1"]
    start = clock.utc_now()
    clock.set_clock(lambda: start)
    urn = sources.register_source(ctrl, "Kite").urn
    member = sources.assign_team_role(ctrl, urn, "handler1", TeamRole.HANDLER)
    clock.set_clock(lambda: start + timedelta(hours=2))
    sources.end_team_role(ctrl, urn, member.id)
    # Looking back, the row answers for the time it covered, and only for that.
    clock.set_clock(lambda: start + timedelta(hours=1))
    assert access.permission(handler, Act.VIEW, urn, Tier.CONTENT).allowed
    clock.set_clock(lambda: start - timedelta(seconds=1))
    assert not access.permission(handler, Act.VIEW, urn, Tier.CONTENT).allowed
    clock.set_clock(lambda: start + timedelta(hours=2))
    assert not access.permission(handler, Act.VIEW, urn, Tier.CONTENT).allowed


def test_metadata_outside_the_team_follows_the_policy(world: World) -> None:
    urn = _source_with_team(world, "Merlin Two")
    outsider = world["handler2"]
    assert urn not in {s.urn for s in sources.list_sources(outsider)}
    policy.change(world[ADMIN], "metadata_outside_team", True, None)
    try:
        listed = {s.urn: s for s in sources.list_sources(outsider)}
        assert listed[urn].pseudonym is None, "URN and status only"
        assert sources.view_metadata(outsider, urn).urn == urn
        assert urn in {s.urn for s in sources.list_sources(world[ADMIN])}
        with pytest.raises(PermissionDenied):
            sources.view_content(outsider, urn)
    finally:
        policy.change(world[ADMIN], "metadata_outside_team", False, None)
    with pytest.raises(PermissionDenied):
        sources.view_metadata(outsider, urn)
