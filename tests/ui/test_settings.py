"""Remembered layout: per officer, never off screen, and no case data in the file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from cim_desktop.domain.officers.roles import Role
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.sources import register
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from cim_desktop.ui.kit import settings
from cim_desktop.ui.kit.settings import OfficerSettings, clamp
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.shell.main_window import MainWindow
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.officer_helpers import add_officer
from tests.ui.conftest import wait_idle

OTHER, OTHER_PASSWORD = "second", "another long passphrase"


def _open(
    qtbot: QtBot, vault: Path, user: str, password: str, worker: DbWorker, store: DeviceSecretStore
) -> MainWindow:
    main = MainWindow(unlock(vault, user, password, store), worker, store)
    qtbot.addWidget(main)
    main.show()
    wait_idle(qtbot, worker)
    return main


def test_layout_is_restored_for_the_same_officer_only(
    qtbot: QtBot, new_vault: NewVault, worker: DbWorker, keyring_store: DeviceSecretStore
) -> None:
    add_officer(new_vault.session, OTHER, OTHER_PASSWORD, [Role.ADMINISTRATOR])
    root = new_vault.session.paths.root
    new_vault.session.close()
    first = _open(qtbot, root, ADMIN, ADMIN_PASSWORD, worker, keyring_store)
    default_size = first.size()
    first.resize(640, 480)
    first.move(30, 50)
    first.workspace.show_page("policy")
    saved = first.geometry()
    first.close()
    wait_idle(qtbot, worker)

    again = _open(qtbot, root, ADMIN, ADMIN_PASSWORD, worker, keyring_store)
    assert again.geometry() == saved
    assert again.workspace.current_key() == "policy"
    again.close()
    wait_idle(qtbot, worker)

    other = _open(qtbot, root, OTHER, OTHER_PASSWORD, worker, keyring_store)
    assert other.size() == default_size
    assert other.workspace.current_key() == other.workspace.offered()[0].key != "policy"
    other.close()


def test_a_window_saved_off_screen_opens_wholly_on_screen(
    qtbot: QtBot, new_vault: NewVault, worker: DbWorker, keyring_store: DeviceSecretStore
) -> None:
    session = new_vault.session
    probe = MainWindow(session, worker, keyring_store)
    qtbot.addWidget(probe)
    probe.setGeometry(3000, 2500, 700, 500)  # a screen that is no longer attached
    OfficerSettings(session.officer.id).set_geometry(probe.saveGeometry())
    probe.resume(session)  # logging in restores the saved layout
    screen = QApplication.primaryScreen().availableGeometry()
    assert screen.contains(probe.frameGeometry())
    assert probe.width() == 700


def test_clamp_moves_and_shrinks_into_the_screen() -> None:
    screen = QRect(0, 0, 1366, 728)
    assert clamp(QRect(1200, 600, 400, 300), screen) == QRect(966, 428, 400, 300)
    assert clamp(QRect(-50, -20, 2000, 900), screen) == screen


def test_the_settings_file_holds_no_case_data(
    qtbot: QtBot, new_vault: NewVault, worker: DbWorker, keyring_store: DeviceSecretStore
) -> None:
    session = new_vault.session
    add_officer(session, "handler1", "a handler passphrase", [Role.RECORD_KEEPER])
    root = session.paths.root
    session.close()
    handler = unlock(root, "handler1", "a handler passphrase", keyring_store)
    source = register.register_source(handler, "NIGHTJAR")
    main = MainWindow(handler, worker, keyring_store)
    qtbot.addWidget(main)
    main.show()
    wait_idle(qtbot, worker)
    main.workspace.show_page("sources")
    wait_idle(qtbot, worker)
    main.close()
    text = settings.settings_file().read_text(encoding="utf-8")
    assert "last_screen=sources" in text
    assert source.urn not in text
    assert "NIGHTJAR" not in text
    assert "handler1" not in text
