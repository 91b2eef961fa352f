"""The break-glass dialog and banner, an expiring session, and the lock closing every window
and dialog."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDialog, QLabel, QWidget
from pytestqt.qtbot import QtBot

from cim_desktop.domain import clock
from cim_desktop.domain.access.rules import Act, TeamRole, Tier
from cim_desktop.domain.sources.model import BreakGlassGrant
from cim_desktop.errors import PermissionDenied
from cim_desktop.services.access import permissions as access
from cim_desktop.services.sources import register as sources
from cim_desktop.ui.access.break_glass import BreakGlassBanner, BreakGlassDialog
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.shell.main_window import MainWindow
from tests.access_world import World, build, password
from tests.ui.conftest import wait_idle

WHY = "Source's handler is off sick and a threat came in"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build(tmp_path_factory.mktemp("glass-ui") / "vault", "ctrl", "handler1", "handler2")
    yield built
    built.close()


def _source(world: World, pseudonym: str) -> str:
    urn = sources.register_source(world["ctrl"], pseudonym).urn
    sources.assign_team_role(world["ctrl"], urn, "handler1", TeamRole.HANDLER)
    return urn


def _dialog(qtbot: QtBot, worker: DbWorker, world: World, urn: str) -> BreakGlassDialog:
    dialog = BreakGlassDialog(worker, world["handler2"], urn)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_a_break_glass_session_opens_shows_and_expires(
    qtbot: QtBot, worker: DbWorker, world: World
) -> None:
    urn = _source(world, "Redshank")
    outsider = world["handler2"]
    start = clock.utc_now()
    clock.set_clock(lambda: start)
    dialog = _dialog(qtbot, worker, world, urn)
    assert any(urn in label.text() for label in dialog.findChildren(QLabel))

    # Nothing typed: both fields say what they need.
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    assert dialog.justification_error.isVisible() and dialog.password_error.isVisible()
    qtbot.keyClicks(dialog.justification, "too short")
    assert dialog.counter.text() == "9 characters (at least 20)"
    qtbot.keyClicks(dialog.password, password("handler2"))
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    assert "at least 20" in dialog.justification_error.text()
    assert not worker.busy, "nothing was sent"

    # A wrong password: said inline, and the field is emptied.
    dialog.justification.setPlainText(WHY)
    assert not dialog.justification_error.isVisible()
    dialog.password.clear()
    qtbot.keyClicks(dialog.password, "not the password")
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    assert dialog.password.text() == ""
    wait_idle(qtbot, worker)
    assert "Wrong password" in dialog.password_error.text()

    banner = BreakGlassBanner(tick_ms=50)
    qtbot.addWidget(banner)
    dialog.granted.connect(banner.add)
    qtbot.keyClicks(dialog.password, password("handler2"))
    with qtbot.waitSignal(dialog.granted, timeout=10_000) as granted:
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    grant = granted.args[0]
    assert isinstance(grant, BreakGlassGrant) and grant.urn == urn
    assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.isVisible()
    assert dialog.justification.toPlainText() == "" and dialog.password.text() == ""
    banner.show()
    assert banner.isVisible() and urn in banner.text.text() and "60 min 00 s" in banner.text.text()
    assert sources.view_content(outsider, urn).pseudonym == "Redshank"

    clock.set_clock(lambda: start + timedelta(minutes=45))
    qtbot.waitUntil(lambda: "15 min 00 s" in banner.text.text(), timeout=3_000)
    with qtbot.waitSignal(banner.expired, timeout=3_000) as expired:
        clock.set_clock(lambda: start + timedelta(minutes=60, seconds=1))
    assert expired.args == [grant.id]
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=3_000)
    assert banner.grants == [] and banner.text.text() == ""
    assert not access.permission(outsider, Act.VIEW, urn, Tier.CONTENT).allowed
    with pytest.raises(PermissionDenied):
        sources.view_content(outsider, urn)


def test_a_refusal_from_the_service_shows_in_the_dialog(
    qtbot: QtBot, worker: DbWorker, world: World
) -> None:
    urn = _source(world, "Greenshank")
    dialog = BreakGlassDialog(worker, world["handler1"], urn)  # already on the team
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.justification.setPlainText(WHY)
    qtbot.keyClicks(dialog.password, password("handler1"))
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, worker)
    assert dialog.error.isVisible() and "already have access" in dialog.error.text()
    assert dialog.isVisible()


def test_the_banner_clears_on_lock(qtbot: QtBot) -> None:
    now = clock.utc_now()
    grant = BreakGlassGrant(
        "g1",
        "o1",
        "DSU-2025-0009",
        WHY,
        now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    )
    banner = BreakGlassBanner()
    qtbot.addWidget(banner)
    banner.set_grants([grant])
    banner.show()
    assert banner.isVisible()
    banner.clear()
    assert not banner.isVisible() and banner.grants == []


def test_locking_closes_every_window_and_dialog(
    qtbot: QtBot, worker: DbWorker, world: World
) -> None:
    urn = _source(world, "Whimbrel")
    session = world.login("handler2")
    main = MainWindow(session, worker, world.keyring)
    qtbot.addWidget(main)
    main.show()
    wait_idle(qtbot, worker)
    # A non-modal dialog with a typed password, a window-modal one, and a separate window.
    loose = BreakGlassDialog(worker, session, urn, parent=main)
    loose.justification.setPlainText(WHY)
    loose.password.setText("typed but not sent")
    loose.show()
    sheet = QDialog(main)
    sheet.open()
    tool = QWidget()
    qtbot.addWidget(tool)
    tool.setWindowTitle("A separate window")
    tool.show()
    assert loose.isVisible() and sheet.isVisible() and tool.isVisible()

    # A modal run inside its own event loop ends when the lock arrives.
    modal = QDialog(main)
    QTimer.singleShot(0, lambda: main.lock("on request"))
    assert modal.exec() == QDialog.DialogCode.Rejected
    assert main.locked
    for window in (loose, sheet, tool, modal):
        assert not window.isVisible()
    assert loose.password.text() == "" and loose.justification.toPlainText() == ""
    wait_idle(qtbot, worker)
    assert session.closed
    main.close()
