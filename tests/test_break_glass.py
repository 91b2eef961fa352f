"""Break-glass: content outside one's caseload, after password and justification, for a
limited time, never identity, and always recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from cim_desktop.domain import clock
from cim_desktop.domain.access import rules
from cim_desktop.domain.access.rules import Act, TeamRole, Tier
from cim_desktop.domain.audit.rows import AuditRow
from cim_desktop.domain.clock import parse_iso_utc
from cim_desktop.domain.policy.settings import Policy
from cim_desktop.domain.sources.model import BreakGlassGrant
from cim_desktop.errors import InvalidInput, PermissionDenied, WrongCredentials
from cim_desktop.services.access import permissions as access
from cim_desktop.services.policy import settings as policy
from cim_desktop.services.session import Session
from cim_desktop.services.sources import register as sources
from cim_desktop.services.vault.lifecycle import load_slots
from tests.access_world import World, build, password
from tests.conftest import ADMIN

WHY = "Partner agency reports a threat to life tonight"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build(
        tmp_path_factory.mktemp("glass") / "vault", "ctrl", "handler1", "handler2", "auditor"
    )
    yield built
    built.close()


def _source(world: World, pseudonym: str) -> str:
    urn = sources.register_source(world["ctrl"], pseudonym).urn
    sources.assign_team_role(world["ctrl"], urn, "handler1", TeamRole.HANDLER)
    return urn


def _grants(session: Session, urn: str) -> list[BreakGlassGrant]:
    return [g for g in access.active_grants(session) if g.urn == urn]


def _rows(session: Session, after: int) -> list[AuditRow]:
    return sorted(session.db.audit.page(after_seq=after, limit=100), key=lambda r: r.seq)


def test_break_glass_opens_content_until_it_expires(world: World) -> None:
    urn = _source(world, "Heron")
    outsider = world["handler2"]
    start = clock.utc_now()
    clock.set_clock(lambda: start)
    with pytest.raises(PermissionDenied):
        sources.view_content(outsider, urn)
    head = outsider.db.audit.head()[0]

    grant = access.break_glass(outsider, urn, password("handler2"), f"  {WHY}  ")
    assert grant.justification == WHY and grant.urn == urn
    assert parse_iso_utc(grant.expires_at) - parse_iso_utc(grant.started_at) == timedelta(
        minutes=60
    )
    (row,) = _rows(outsider, head)
    assert (row.action, row.entity_id, row.reason, row.role) == ("break-glass", urn, WHY, "handler")
    assert json.loads(row.detail) == {"grant": grant.id, "minutes": 60, "tier": "content"}

    assert sources.view_content(outsider, urn).pseudonym == "Heron"
    view = outsider.db.audit.page(limit=1)[0]
    assert json.loads(view.detail) == {"tier": "content", "break_glass": grant.id}
    listed = {s.urn: s for s in sources.list_sources(outsider)}
    assert listed[urn].break_glass and listed[urn].pseudonym == "Heron"
    assert _grants(outsider, urn) == [grant]
    # Never identity, never a change.
    with pytest.raises(PermissionDenied):
        sources.view_identity(outsider, urn, "Just looking at who it is")
    with pytest.raises(PermissionDenied):
        sources.update_pseudonym(outsider, urn, "Changed")

    clock.set_clock(lambda: start + timedelta(minutes=59, seconds=59))
    assert access.permission(outsider, Act.VIEW, urn, Tier.CONTENT).allowed
    clock.set_clock(lambda: start + timedelta(minutes=60))
    assert not access.permission(outsider, Act.VIEW, urn, Tier.CONTENT).allowed
    with pytest.raises(PermissionDenied):
        sources.view_content(outsider, urn)
    assert _grants(outsider, urn) == []
    assert urn not in {s.urn for s in sources.list_sources(outsider)}


def test_refusals_change_nothing_and_wrong_passwords_count(world: World) -> None:
    urn = _source(world, "Egret")
    outsider = world["handler2"]
    head = outsider.db.audit.head()[0]
    with pytest.raises(InvalidInput, match="at least 20 characters"):
        access.break_glass(outsider, urn, password("handler2"), "need it now")
    with pytest.raises(InvalidInput, match="password"):
        access.break_glass(outsider, urn, "", WHY)
    assert _rows(outsider, head) == [] and _grants(outsider, urn) == []

    with pytest.raises(WrongCredentials):
        access.break_glass(outsider, urn, "not my password at all", WHY)
    (row,) = _rows(outsider, head)
    assert (row.action, row.outcome, json.loads(row.detail)) == (
        "break-glass",
        "denied",
        {"cause": "wrong password"},
    )
    assert "not my password" not in row.detail + row.reason
    lock = load_slots(outsider.paths, outsider.keyring).lockouts[outsider.officer.id]
    assert len(lock.failures) == 1, "a wrong password counts towards lockout"
    assert _grants(outsider, urn) == []

    # Someone already on the team has no glass to break.
    with pytest.raises(InvalidInput, match="already have access"):
        access.break_glass(world["handler1"], urn, password("handler1"), WHY)
    with pytest.raises(InvalidInput, match="no source"):
        access.break_glass(outsider, "DSU-1999-0404", password("handler2"), WHY)


@pytest.mark.parametrize("username", ["auditor", ADMIN])
def test_auditors_and_administrators_cannot_break_glass(world: World, username: str) -> None:
    urn = _source(world, f"Crane {username}")
    session = world[username]
    head = session.db.audit.head()[0]
    with pytest.raises(PermissionDenied):
        access.break_glass(session, urn, "whatever they type", WHY)
    (row,) = _rows(session, head)
    assert (row.action, row.outcome, row.entity_id) == ("denied", "denied", urn)
    assert _grants(session, urn) == []


def test_the_policy_sets_the_duration_up_to_sixty_minutes(world: World) -> None:
    admin = world[ADMIN]
    policy.change(admin, "break_glass_minutes", 15, None)
    try:
        urn = _source(world, "Plover")
        grant = access.break_glass(world["handler2"], urn, password("handler2"), WHY)
        assert parse_iso_utc(grant.expires_at) - parse_iso_utc(grant.started_at) == timedelta(
            minutes=15
        )
    finally:
        policy.change(admin, "break_glass_minutes", 60, None)
    too_long = Policy({**Policy.defaults().values, "break_glass_minutes": 240})
    assert rules.grant_minutes(too_long) == rules.MAX_BREAK_GLASS_MINUTES == 60


def test_ending_a_grant_early(world: World) -> None:
    urn = _source(world, "Curlew")
    outsider = world["handler2"]
    grant = access.break_glass(outsider, urn, password("handler2"), WHY)
    with pytest.raises(InvalidInput):
        access.end_break_glass(world["handler1"], grant.id)  # not theirs
    access.end_break_glass(outsider, grant.id)
    assert not access.permission(outsider, Act.VIEW, urn, Tier.CONTENT).allowed
    row = outsider.db.audit.page(limit=1)[0]
    assert (row.action, row.entity_id) == ("update", urn)
    assert json.loads(row.detail) == {"grant": grant.id, "ended": True}
