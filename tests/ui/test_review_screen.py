"""The review queue screen: controllers sign off with a note; auditors only read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from cim_desktop.domain.access.rules import ReviewKind, TeamRole
from cim_desktop.domain.changes import ChangeSet, Kind
from cim_desktop.errors import PermissionDenied
from cim_desktop.services.access import permissions as access
from cim_desktop.services.review import queue as review
from cim_desktop.services.sources import register as sources
from cim_desktop.ui.kit.changes import bus
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.review.screen import Column, ReviewModel, ReviewScreen
from tests.access_world import World, build, password
from tests.ui.conftest import wait_idle

WHY = "Control room reports a threat to the source"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build(
        tmp_path_factory.mktemp("review-ui") / "vault",
        "ctrl",
        "keeper",
        "handler1",
        "handler2",
        "auditor",
    )
    urn = sources.register_source(built["ctrl"], "Avocet").urn
    sources.assign_team_role(built["ctrl"], urn, "handler1", TeamRole.HANDLER)
    with pytest.raises(PermissionDenied):
        sources.view_content(built["handler2"], urn)
    access.break_glass(built["handler2"], urn, password("handler2"), WHY)
    yield built
    built.close()


def _screen(qtbot: QtBot, worker: DbWorker, world: World, username: str) -> ReviewScreen:
    screen = ReviewScreen(worker)
    qtbot.addWidget(screen)
    screen.resize(1000, 640)
    screen.show()
    screen.open(world[username])
    wait_idle(qtbot, worker)
    return screen


def _row_of(screen: ReviewScreen, kind: ReviewKind) -> int:
    return next(r for r in range(screen.model.rowCount()) if screen.model.item_at(r).kind is kind)


def test_the_model_passes_the_model_tester(qtmodeltester: ModelTester, world: World) -> None:
    model = ReviewModel()
    model.set_items(review.pending(world["ctrl"]).items)
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() >= 2
    index = model.index(0, Column.KIND)
    assert model.data(index, Qt.ItemDataRole.DecorationRole) is None
    assert model.headerData(0, Qt.Orientation.Vertical) is None


def test_a_controller_signs_off_from_the_screen(
    qtbot: QtBot, worker: DbWorker, world: World
) -> None:
    screen = _screen(qtbot, worker, world, "ctrl")
    assert screen.body.currentIndex() == 0 and not screen.read_only.isVisible()
    before = screen.model.rowCount()
    assert "waiting for sign-off" in screen.count_label.text()
    assert not screen.sign_form.isVisible(), "nothing selected yet"
    row = _row_of(screen, ReviewKind.BREAK_GLASS)
    screen.select_row(row)
    item = screen.model.item_at(row)
    assert screen.sign_form.isVisible()
    assert WHY in screen.detail.text() and "handler2" in screen.detail_title.text()

    # No note: an inline error, and nothing is signed.
    head = world["ctrl"].db.audit.head()[0]
    qtbot.mouseClick(screen.sign_button, Qt.MouseButton.LeftButton)
    assert screen.note_error.isVisible() and "note" in screen.note_error.text()
    assert world["ctrl"].db.audit.head()[0] == head

    qtbot.keyClicks(screen.note_edit, "Checked the incident log")
    assert not screen.note_error.isVisible()
    with qtbot.waitSignal(
        bus().changed, check_params_cb=lambda changed, _by: changed.touches({Kind.REVIEW})
    ):
        qtbot.mouseClick(screen.sign_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, worker)
    assert screen.model.rowCount() == before - 1
    assert (item.kind, item.ref) not in {
        (screen.model.item_at(r).kind, screen.model.item_at(r).ref)
        for r in range(screen.model.rowCount())
    }
    assert screen.note_edit.toPlainText() == ""
    signed = [r for r in world["ctrl"].db.audit.page(limit=5) if r.action == "approve"]
    assert signed and signed[0].reason == "Checked the incident log"


def test_a_refused_sign_off_shows_inline(qtbot: QtBot, worker: DbWorker, world: World) -> None:
    other = sources.register_source(world["keeper"], "Sanderling").urn
    with pytest.raises(PermissionDenied):
        sources.view_content(world["ctrl"], other)
    screen = _screen(qtbot, worker, world, "ctrl")
    row = next(
        r for r in range(screen.model.rowCount()) if screen.model.item_at(r).officer == "ctrl"
    )
    screen.select_row(row)
    qtbot.keyClicks(screen.note_edit, "Signing my own")
    qtbot.mouseClick(screen.sign_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, worker)
    assert "about yourself" in screen.note_error.text() and screen.note_error.isVisible()
    assert screen.model.rowCount() > 0


def test_auditors_see_the_queue_read_only(qtbot: QtBot, worker: DbWorker, world: World) -> None:
    screen = _screen(qtbot, worker, world, "auditor")
    assert screen.model.rowCount() > 0 and screen.read_only.isVisible()
    screen.select_row(0)
    assert not screen.sign_form.isVisible() and screen.detail.text()


def test_others_are_refused_and_lock_drops_everything(
    qtbot: QtBot, worker: DbWorker, world: World
) -> None:
    refused = _screen(qtbot, worker, world, "handler1")
    assert refused.body.currentIndex() == 1 and "review queue" in refused.denied.text()

    screen = _screen(qtbot, worker, world, "ctrl")
    screen.select_row(0)
    qtbot.keyClicks(screen.note_edit, "half typed")
    screen.close_view()
    refused.close_view()
    assert screen.model.rowCount() == 0 and screen.note_edit.toPlainText() == ""
    assert screen.detail.text() == "" and screen.count_label.text() == ""
    bus().publish(ChangeSet.of(Kind.ACCESS), "test")  # locked: nothing is read
    assert not worker.busy
