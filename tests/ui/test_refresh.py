"""Screens refresh when the data changes: a change made on one screen reaches the others and
the main window without a manual refresh, and a change committed by another connection to the
vault (as ``cim`` makes while the window is open) is noticed and reloads the open screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from cim_desktop.domain.officers.roles import Role
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from cim_desktop.ui.kit.changes import ExternalChanges
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.officers.screen import OfficersScreen
from cim_desktop.ui.policy.screen import PolicyScreen
from cim_desktop.ui.shell.main_window import MainWindow
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.officer_helpers import add_officer
from tests.ui.conftest import wait_idle


def _usernames(screen: OfficersScreen) -> set[str]:
    return {row.officer.username for row in screen.model.rows}


def test_a_policy_saved_on_its_screen_reaches_the_window_and_the_officers_screen(
    qtbot: QtBot, window: MainWindow
) -> None:
    ws = window.workspace
    ws.show_page("officers")
    wait_idle(qtbot, window.worker)
    officers = ws.page("officers").widget
    assert isinstance(officers, OfficersScreen) and officers.loads == 1
    ws.show_page("policy")
    wait_idle(qtbot, window.worker)
    screen = ws.page("policy").widget
    assert isinstance(screen, PolicyScreen)
    before = window.idle.timeout_ms
    minutes = before // 60_000 + 2

    row = screen.rows["idle_lock_minutes"]
    row.editor.set_value(minutes)
    row.edited.emit("idle_lock_minutes")
    screen.save()  # one administrator: no approval asked
    qtbot.waitUntil(lambda: window.idle.timeout_ms == minutes * 60_000)
    wait_idle(qtbot, window.worker)
    assert officers.loads == 1  # hidden: it reloads when shown, not before
    ws.show_page("officers")
    qtbot.waitUntil(lambda: officers.loads == 2)


@pytest.fixture
def watched(
    qtbot: QtBot,
    new_vault: NewVault,
    worker: DbWorker,
    keyring_store: DeviceSecretStore,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[MainWindow]:
    monkeypatch.setattr(ExternalChanges, "POLL_MS", request.param)
    main = MainWindow(new_vault.session, worker, keyring_store)
    qtbot.addWidget(main)
    main.show()
    main.workspace.show_page("officers")
    wait_idle(qtbot, worker)
    yield main
    main.close()


def _add_outside(vault_dir: Path, keyring_store: DeviceSecretStore, username: str) -> None:
    # A second connection to the same vault, as ``cim user add`` would open.
    other = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)
    try:
        add_officer(other, username, "a long enough password", [Role.RECORD_KEEPER])
    finally:
        other.close()


@pytest.mark.parametrize("watched", [50], indirect=True)
def test_a_change_made_outside_is_noticed_within_the_poll(
    qtbot: QtBot, watched: MainWindow, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    officers = watched.workspace.page("officers").widget
    assert isinstance(officers, OfficersScreen)
    assert watched.external.timer.interval() == 50
    _add_outside(vault_dir, keyring_store, "zelda")
    qtbot.waitUntil(lambda: "zelda" in _usernames(officers), timeout=5000)

    watched.lock()
    assert not watched.external.timer.isActive()  # no polling without a session


@pytest.mark.parametrize("watched", [3_600_000], indirect=True)
def test_a_change_made_outside_is_noticed_when_the_window_is_activated(
    qtbot: QtBot, watched: MainWindow, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    officers = watched.workspace.page("officers").widget
    assert isinstance(officers, OfficersScreen)
    loads = officers.loads
    _add_outside(vault_dir, keyring_store, "yusuf")
    watched.activateWindow()
    qtbot.waitUntil(watched.isActiveWindow)
    QApplication.sendEvent(watched, QEvent(QEvent.Type.ActivationChange))
    qtbot.waitUntil(lambda: "yusuf" in _usernames(officers), timeout=5000)
    assert officers.loads > loads
