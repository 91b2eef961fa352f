"""The login dialog against a real vault: success, wrong password, lockout, recovery."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from cim_desktop.errors import AccountLocked, KeyringEntryMissing
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.vault.lifecycle import NewVault
from cim_desktop.ui.kit import dialogs
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.vault.login import LoginDialog
from cim_desktop.ui.vault.recovery import RecoveryDialog
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.memory_keyring import MemoryKeyring

WRONG = "not the right password"


def _dialog(qtbot: QtBot, root: Path, worker: DbWorker, keyring: DeviceSecretStore) -> LoginDialog:
    dialog = LoginDialog(root, worker, keyring)
    qtbot.addWidget(dialog)
    dialog.show()
    # The keyring check runs first on the worker; tests that count work start after it.
    qtbot.waitUntil(lambda: dialog.form.keyring_panel.usable is not None, timeout=10_000)
    return dialog


def _attempt(qtbot: QtBot, dialog: LoginDialog, username: str, password: str) -> None:
    form = dialog.form
    form.username.clear()
    qtbot.keyClicks(form.username, username)
    qtbot.keyClicks(form.password, password)
    qtbot.keyClick(form.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: form.login_button.isEnabled(), timeout=10_000)


def test_login_success(
    qtbot: QtBot,
    new_vault: NewVault,
    vault_dir: Path,
    worker: DbWorker,
    keyring_store: DeviceSecretStore,
) -> None:
    dialog = _dialog(qtbot, vault_dir, worker, keyring_store)
    with qtbot.waitSignal(dialog.logged_in, timeout=10_000) as signal:
        _attempt(qtbot, dialog, ADMIN, ADMIN_PASSWORD)
    session = dialog.session
    assert session is not None and session is signal.args[0]
    assert session.officer.username == ADMIN and not session.closed
    assert session.session_id != new_vault.session.session_id
    assert not dialog.isVisible()
    assert dialog.form.password.text() == ""
    session.close()


def test_empty_fields_are_refused_without_work(
    qtbot: QtBot,
    new_vault: NewVault,
    vault_dir: Path,
    worker: DbWorker,
    keyring_store: DeviceSecretStore,
) -> None:
    dialog = _dialog(qtbot, vault_dir, worker, keyring_store)
    qtbot.keyClicks(dialog.form.username, ADMIN)
    qtbot.mouseClick(dialog.form.login_button, Qt.MouseButton.LeftButton)
    assert dialog.form.error.text() == "Enter your username and password."
    assert not worker.busy


def test_wrong_password_message(
    qtbot: QtBot,
    new_vault: NewVault,
    vault_dir: Path,
    worker: DbWorker,
    keyring_store: DeviceSecretStore,
) -> None:
    dialog = _dialog(qtbot, vault_dir, worker, keyring_store)
    with qtbot.assertNotEmitted(dialog.logged_in):
        _attempt(qtbot, dialog, ADMIN, WRONG)
    assert dialog.form.error.isVisible()
    assert dialog.form.error.text() == "Wrong username or password."
    assert dialog.form.password.text() == ""
    assert not dialog.form.recover_button.isVisible()
    assert dialog.session is None and dialog.isVisible()

    # An unknown username gets the very same message.
    _attempt(qtbot, dialog, "nobody", WRONG)
    assert dialog.form.error.text() == "Wrong username or password."


def test_lockout_message_after_five_failures(
    qtbot: QtBot,
    new_vault: NewVault,
    vault_dir: Path,
    worker: DbWorker,
    keyring_store: DeviceSecretStore,
) -> None:
    dialog = _dialog(qtbot, vault_dir, worker, keyring_store)
    for _ in range(4):
        _attempt(qtbot, dialog, ADMIN, WRONG)
        assert dialog.form.error.text() == "Wrong username or password."
    _attempt(qtbot, dialog, ADMIN, WRONG)
    locked = AccountLocked(ADMIN).message
    assert dialog.form.error.text() == locked

    # The right password does not help now.
    with qtbot.assertNotEmitted(dialog.logged_in):
        _attempt(qtbot, dialog, ADMIN, ADMIN_PASSWORD)
    assert dialog.form.error.text() == locked


def test_recovery_route_when_keyring_entry_is_missing(
    qtbot: QtBot,
    new_vault: NewVault,
    vault_dir: Path,
    worker: DbWorker,
    memory_keyring: MemoryKeyring,
    keyring_store: DeviceSecretStore,
) -> None:
    new_vault.session.close()
    memory_keyring.entries.clear()  # a new workstation, or a wiped keyring
    dialog = _dialog(qtbot, vault_dir, worker, keyring_store)
    _attempt(qtbot, dialog, ADMIN, ADMIN_PASSWORD)
    assert dialog.form.error.text() == KeyringEntryMissing().message
    assert dialog.form.recover_button.isVisible()

    qtbot.mouseClick(dialog.form.recover_button, Qt.MouseButton.LeftButton)
    recovery = dialog.recovery_dialog
    assert isinstance(recovery, RecoveryDialog) and recovery.isVisible()

    # A mistyped group is named before any slow work; nothing changes.
    groups = new_vault.recovery_code.split("-")
    groups[4] = ("1" if groups[4][0] == "0" else "0") + groups[4][1:]
    qtbot.keyClicks(recovery.code, "-".join(groups))
    qtbot.mouseClick(recovery.recover_button, Qt.MouseButton.LeftButton)
    assert "Group 5" in recovery.error.text()
    assert not worker.busy and not memory_keyring.entries

    recovery.code.clear()
    qtbot.keyClicks(recovery.code, new_vault.recovery_code)
    with qtbot.waitSignal(recovery.recovered, timeout=15_000) as signal:
        qtbot.mouseClick(recovery.recover_button, Qt.MouseButton.LeftButton)
    assert signal.args == [1]
    assert not recovery.isVisible()
    assert dialogs.shown()[-1].title == "Vault recovered"
    assert memory_keyring.entries  # a new device secret was seated
    assert not dialog.form.recover_button.isVisible()

    with qtbot.waitSignal(dialog.logged_in, timeout=10_000) as login:
        _attempt(qtbot, dialog, ADMIN, ADMIN_PASSWORD)
    login.args[0].close()


def test_a_tampered_vault_keys_offers_the_recovery_route(
    qtbot: QtBot,
    new_vault: NewVault,
    vault_dir: Path,
    worker: DbWorker,
    keyring_store: DeviceSecretStore,
) -> None:
    """The message names 'Recover with recovery code': the button must be there."""
    new_vault.session.close()
    keys = vault_dir / "vault.keys"
    data = json.loads(keys.read_text())
    data["lockout_policy"]["max_failures"] = 10  # an edit without the keyring
    keys.write_text(json.dumps(data))
    dialog = _dialog(qtbot, vault_dir, worker, keyring_store)
    _attempt(qtbot, dialog, ADMIN, ADMIN_PASSWORD)
    assert "changed outside cim-desktop" in dialog.form.error.text()
    assert dialog.form.recover_button.isVisible()


def test_an_unusable_keyring_is_named_before_the_user_types(
    qtbot: QtBot,
    new_vault: NewVault,
    vault_dir: Path,
    worker: DbWorker,
    memory_keyring: MemoryKeyring,
    keyring_store: DeviceSecretStore,
) -> None:
    new_vault.session.lock()
    before = (vault_dir / "vault.keys").read_bytes()
    backend = memory_keyring
    backend.locked = True
    dialog = _dialog(qtbot, vault_dir, worker, keyring_store)
    form, panel = dialog.form, dialog.form.keyring_panel
    assert panel.isVisible() and "keyring is locked" in panel.message.text()
    assert "To fix it:" in panel.message.text() and "recovery" not in panel.message.text()
    # No password to type, and nothing sent to the vault: it could not be opened anyway.
    assert not form.username.isEnabled() and not form.password.isEnabled()
    assert not form.login_button.isEnabled() and not form.recover_button.isVisible()
    form.attempt()
    assert not form.status.isVisible()
    assert (vault_dir / "vault.keys").read_bytes() == before

    backend.locked = False
    qtbot.mouseClick(panel.check_again_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.usable is True, timeout=10_000)
    assert not panel.isVisible() and form.username.isEnabled()
    with qtbot.waitSignal(dialog.logged_in, timeout=10_000):
        _attempt(qtbot, dialog, ADMIN, ADMIN_PASSWORD)
    assert dialog.session is not None
    dialog.session.close()


def test_a_working_keyring_leaves_the_login_form_as_it_was(
    qtbot: QtBot,
    new_vault: NewVault,
    vault_dir: Path,
    worker: DbWorker,
    keyring_store: DeviceSecretStore,
) -> None:
    dialog = _dialog(qtbot, vault_dir, worker, keyring_store)
    assert dialog.form.keyring_panel.usable is True
    assert not dialog.form.keyring_panel.isVisible()
    assert dialog.form.username.isEnabled() and dialog.form.login_button.isEnabled()
