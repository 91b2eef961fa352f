"""The controllers' review queue: what waits in it, who may see it, and signing off."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from cim_desktop.domain.access.rules import ReviewKind, TeamRole
from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import AccountLocked, InvalidInput, PermissionDenied, WrongCredentials
from cim_desktop.services.access import permissions as access
from cim_desktop.services.review import queue as review
from cim_desktop.services.review.queue import ReviewItem
from cim_desktop.services.sources import register as sources
from cim_desktop.services.vault.lifecycle import unlock
from tests.access_world import World, build, password
from tests.conftest import ADMIN

WHY = "Threat to life reported by the control room"
NOTE = "Spoke to the officer; justified by the incident log"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build(tmp_path_factory.mktemp("review") / "vault", extra={"victim": [Role.HANDLER]})
    yield built
    built.close()


@pytest.fixture(scope="module")
def events(world: World) -> dict[str, str]:
    """One of each kind of item: a denial, a break-glass session and a lockout."""
    urn = sources.register_source(world["ctrl"], "Lapwing").urn
    sources.assign_team_role(world["ctrl"], urn, "handler1", TeamRole.HANDLER)
    with pytest.raises(PermissionDenied):
        sources.view_content(world["handler2"], urn)
    grant = access.break_glass(world["handler2"], urn, password("handler2"), WHY)
    for _ in range(5):
        with pytest.raises((WrongCredentials, AccountLocked)):
            unlock(world.root, "victim", "these are wrong guesses", world.keyring)
    # Failures and lockouts reach the chain at the next login on this workstation.
    world.sessions["ctrl2"].close()
    world.sessions["ctrl2"] = world.login("ctrl2")
    return {"urn": urn, "grant": grant.id}


def _find(items: list[ReviewItem], kind: ReviewKind, **match: str) -> ReviewItem:
    found = [
        i for i in items if i.kind is kind and all(getattr(i, k) == v for k, v in match.items())
    ]
    assert len(found) == 1, f"expected one {kind} item matching {match}, found {found}"
    return found[0]


def test_the_queue_holds_break_glass_denials_and_lockouts(
    world: World, events: dict[str, str]
) -> None:
    queue = review.pending(world["ctrl"])
    assert queue.can_sign and queue.total == len(queue.items)
    glass = _find(queue.items, ReviewKind.BREAK_GLASS, ref=events["grant"])
    assert (glass.officer, glass.entity, glass.justification) == ("handler2", events["urn"], WHY)
    assert "active" in glass.summary and glass.expires_at
    denied = _find(queue.items, ReviewKind.DENIED, officer="handler2", entity=events["urn"])
    assert denied.summary == f"Denied: view content on source {events['urn']}"
    locked = _find(queue.items, ReviewKind.LOCKOUT, officer="victim")
    assert "5 failures" in locked.summary
    assert [i.when for i in queue.items] == sorted((i.when for i in queue.items), reverse=True)
    # Opening the queue is itself recorded.
    row = world["ctrl"].db.audit.page(limit=1)[0]
    assert (row.action, row.entity_type, row.role) == ("view", "review", "controller")

    seen = review.pending(world["auditor"])
    assert not seen.can_sign
    assert {(i.kind, i.ref) for i in queue.items} <= {(i.kind, i.ref) for i in seen.items}


def test_a_controller_signs_off_with_a_note(world: World, events: dict[str, str]) -> None:
    ctrl = world["ctrl"]
    head = ctrl.db.audit.head()[0]
    with pytest.raises(InvalidInput, match="Write a note"):
        review.sign_off(ctrl, ReviewKind.BREAK_GLASS, events["grant"], "   ")
    assert ctrl.db.audit.head()[0] == head
    review.sign_off(ctrl, ReviewKind.BREAK_GLASS, events["grant"], NOTE)
    row = ctrl.db.audit.page(limit=1)[0]
    assert (row.action, row.entity_id, row.reason) == (
        "approve",
        f"break-glass:{events['grant']}",
        NOTE,
    )
    assert json.loads(row.detail)["kind"] == "break-glass"
    queue = review.pending(ctrl)
    assert events["grant"] not in {i.ref for i in queue.items}
    with pytest.raises(InvalidInput, match="not in the review queue"):
        review.sign_off(ctrl, ReviewKind.BREAK_GLASS, events["grant"], NOTE)
    locked = _find(queue.items, ReviewKind.LOCKOUT, officer="victim")
    with pytest.raises(InvalidInput, match="not in the review queue"):
        review.sign_off(ctrl, ReviewKind.DENIED, locked.ref, NOTE)  # wrong kind
    review.sign_off(ctrl, ReviewKind.LOCKOUT, locked.ref, NOTE)
    assert locked.ref not in {
        i.ref for i in review.pending(ctrl).items if i.kind is ReviewKind.LOCKOUT
    }


def test_nobody_signs_off_their_own_item(world: World, events: dict[str, str]) -> None:
    other = sources.register_source(world["keeper"], "Dunlin").urn
    with pytest.raises(PermissionDenied):
        sources.view_content(world["ctrl"], other)
    mine = _find(
        review.pending(world["ctrl"]).items, ReviewKind.DENIED, officer="ctrl", entity=other
    )
    with pytest.raises(InvalidInput, match="about yourself"):
        review.sign_off(world["ctrl"], ReviewKind.DENIED, mine.ref, NOTE)
    review.sign_off(world["ctrl2"], ReviewKind.DENIED, mine.ref, NOTE)


@pytest.mark.parametrize("username", ["handler1", "ao", "keeper", ADMIN])
def test_only_controllers_and_auditors_open_the_queue(world: World, username: str) -> None:
    session = world[username]
    with pytest.raises(PermissionDenied, match="review queue"):
        review.pending(session)
    row = session.db.audit.page(limit=1)[0]
    assert (row.action, row.outcome, row.username) == ("denied", "denied", username)


def test_auditors_read_but_cannot_sign(world: World, events: dict[str, str]) -> None:
    auditor = world["auditor"]
    item = review.pending(auditor).items[0]
    with pytest.raises(PermissionDenied, match="sign off"):
        review.sign_off(auditor, item.kind, item.ref, NOTE)
    # The refusal is itself an item for the controllers.
    queue = review.pending(world["ctrl"])
    assert any(i.kind is ReviewKind.DENIED and i.officer == "auditor" for i in queue.items)
    assert (item.kind, item.ref) in {(i.kind, i.ref) for i in queue.items}
