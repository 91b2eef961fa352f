"""Login conventions: a steady size, the Caps Lock warning, the unit's name, the way back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from cim_desktop.security import slotfile as slot_files
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from cim_desktop.services.vault.paths import VaultPaths
from cim_desktop.services.vault.slots import load_slots, unit_name
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.shell.main_window import MainWindow
from cim_desktop.ui.vault import login
from cim_desktop.ui.vault.login import LoginDialog
from tests.conftest import ADMIN, ADMIN_PASSWORD, UNIT
from tests.ui.conftest import wait_idle
from tests.ui.test_login import WRONG, _attempt, _dialog


def test_a_wrong_password_error_does_not_resize_the_dialog(
    qtbot: QtBot,
    new_vault: NewVault,
    vault_dir: Path,
    worker: DbWorker,
    keyring_store: DeviceSecretStore,
) -> None:
    dialog = _dialog(qtbot, vault_dir, worker, keyring_store)
    before = dialog.size()
    _attempt(qtbot, dialog, ADMIN, WRONG)
    assert dialog.form.error.isVisible()
    qtbot.waitUntil(lambda: dialog.form.error.text() == "Wrong username or password.")
    QApplication.processEvents()  # let a pending layout request resize, if it would
    assert dialog.size() == before


def _type(widget: QWidget, text: str, shift: bool = False) -> None:
    modifiers = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    key = Qt.Key(ord(text.upper()))
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        QApplication.sendEvent(widget, QKeyEvent(kind, key, modifiers, text))


def test_caps_lock_warning_from_the_os_state(
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
    new_vault: NewVault,
    vault_dir: Path,
    worker: DbWorker,
    keyring_store: DeviceSecretStore,
) -> None:
    state = {"on": True}
    monkeypatch.setattr(login, "caps_lock_state", lambda: state["on"])
    dialog = _dialog(qtbot, vault_dir, worker, keyring_store)
    form = dialog.form
    size = dialog.size()
    assert not form.caps_warning.isVisible()
    dialog.activateWindow()
    form.password.setFocus()
    qtbot.waitUntil(form.caps_warning.isVisible)
    assert form.caps_warning.text() == "Caps Lock is on."
    assert dialog.size() == size
    state["on"] = False
    qtbot.keyClick(form.password, Qt.Key.Key_CapsLock)
    qtbot.waitUntil(lambda: not form.caps_warning.isVisible())


def test_caps_lock_inferred_from_typed_letters_where_the_os_says_nothing(
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
    new_vault: NewVault,
    vault_dir: Path,
    worker: DbWorker,
    keyring_store: DeviceSecretStore,
) -> None:
    monkeypatch.setattr(login, "caps_lock_state", lambda: None)
    dialog = _dialog(qtbot, vault_dir, worker, keyring_store)
    form = dialog.form
    _type(form.password, "A")  # upper case without Shift
    assert form.caps_warning.isVisible()
    _type(form.password, "a")
    assert not form.caps_warning.isVisible()
    _type(form.password, "a", shift=True)  # Shift gave lower case: Caps Lock is on
    assert form.caps_warning.isVisible()
    _type(form.password, "1")  # a digit says nothing
    assert form.caps_warning.isVisible()


def test_the_login_dialog_names_the_recovery_route(
    qtbot: QtBot,
    new_vault: NewVault,
    vault_dir: Path,
    worker: DbWorker,
    keyring_store: DeviceSecretStore,
) -> None:
    dialog = _dialog(qtbot, vault_dir, worker, keyring_store)
    assert isinstance(dialog, LoginDialog)
    texts = [label.text() for label in dialog.findChildren(type(dialog.form.error))]
    assert login.RECOVERY_ROUTE in texts


def test_the_lock_screen_names_the_unit(qtbot: QtBot, window: MainWindow) -> None:
    window.lock()
    form = window.lock_screen.form
    assert form.unit.isVisible()
    assert form.unit.text() == f"Unit: {UNIT}"


def test_the_login_names_the_unit_from_the_checked_slot_file(
    qtbot: QtBot,
    new_vault: NewVault,
    vault_dir: Path,
    worker: DbWorker,
    keyring_store: DeviceSecretStore,
) -> None:
    new_vault.session.close()
    dialog = _dialog(qtbot, vault_dir, worker, keyring_store)
    qtbot.waitUntil(lambda: dialog.form.unit.text() == f"Unit: {UNIT}")
    assert dialog.form.unit.isVisible()


def test_an_edited_unit_name_is_never_shown(
    qtbot: QtBot,
    new_vault: NewVault,
    vault_dir: Path,
    worker: DbWorker,
    keyring_store: DeviceSecretStore,
) -> None:
    new_vault.session.close()
    keys = vault_dir / "vault.keys"
    document = json.loads(keys.read_text())
    document["unit_name"] = "Someone else's unit"  # the MAC no longer matches
    keys.write_text(json.dumps(document))
    dialog = _dialog(qtbot, vault_dir, worker, keyring_store)
    qtbot.waitUntil(lambda: dialog.form.keyring_panel.usable is not None)
    wait_idle(qtbot, worker)
    assert dialog.form.unit.text() == "" and not dialog.form.unit.isVisible()


def test_a_vault_made_before_the_mirror_gets_the_name_at_its_next_login(
    new_vault: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    paths = VaultPaths(vault_dir)
    new_vault.session.close()
    with slot_files.exclusive(paths.keys):
        slots = load_slots(paths, keyring_store)
        slots.unit_name = ""
        slots.save(paths.keys)
    assert unit_name(paths, keyring_store) == ""
    unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store).close()
    assert unit_name(paths, keyring_store) == UNIT
