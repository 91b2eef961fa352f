"""My account (change password, my declarations) and the forced password change after a
login with a temporary password: at start-up and at the lock screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import WrongCredentials
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.officers import associations
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from cim_desktop.ui.account.password_change import PasswordChangeDialog, PasswordChangeForm
from cim_desktop.ui.account.screen import AccountScreen, Column, DeclareDialog
from cim_desktop.ui.kit import dialogs
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.shell.flow import AppFlow
from cim_desktop.ui.shell.main_window import MainWindow
from cim_desktop.ui.vault.login import LoginDialog
from tests.conftest import ADMIN_PASSWORD
from tests.officer_helpers import add_officer
from tests.ui.conftest import wait_idle

TEMP = "temporary for first day"
MINE = "my own good passphrase"


def _fill(qtbot: QtBot, form: PasswordChangeForm, current: str, new: str, repeat: str) -> None:
    for field, text in ((form.current, current), (form.new, new), (form.repeat, repeat)):
        field.clear()
        qtbot.keyClicks(field, text)
    qtbot.mouseClick(form.submit, Qt.MouseButton.LeftButton)


def _visible[T](kind: type[T]) -> list[T]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]


@pytest.fixture
def screen(qtbot: QtBot, new_vault: NewVault, worker: DbWorker) -> AccountScreen:
    widget = AccountScreen(worker)
    qtbot.addWidget(widget)
    widget.resize(1200, 600)
    widget.show()
    widget.open(new_vault.session)
    wait_idle(qtbot, worker)
    return widget


def test_change_my_password_with_inline_errors(
    qtbot: QtBot,
    screen: AccountScreen,
    new_vault: NewVault,
    worker: DbWorker,
    vault_dir: Path,
    keyring_store: DeviceSecretStore,
) -> None:
    form = screen.password_form
    _fill(qtbot, form, "", "too short", "different")
    assert form.current_error.isVisible() and form.new_error.isVisible()
    assert "at least 12" in form.new_error.text()
    assert form.repeat_error.text() == "The two new passwords do not match."
    assert not worker.busy

    _fill(qtbot, form, "not my current one", MINE, MINE)
    qtbot.waitUntil(lambda: form.current_error.isVisible(), timeout=10_000)
    assert form.current_error.text() == "that is not your current password."

    _fill(qtbot, form, ADMIN_PASSWORD, MINE, MINE)
    qtbot.waitUntil(lambda: screen.password_done.isVisible(), timeout=10_000)
    assert form.current.text() == form.new.text() == ""
    wait_idle(qtbot, worker)
    with pytest.raises(WrongCredentials):
        unlock(vault_dir, "admin", ADMIN_PASSWORD, keyring_store)
    unlock(vault_dir, "admin", MINE, keyring_store).close()


def test_declare_and_withdraw(
    qtbot: QtBot,
    screen: AccountScreen,
    new_vault: NewVault,
    worker: DbWorker,
    qtmodeltester: ModelTester,
) -> None:
    qtbot.mouseClick(screen.declare_button, Qt.MouseButton.LeftButton)
    (dialog,) = _visible(DeclareDialog)
    qtbot.keyClicks(dialog.relationship, "cousin")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.shown_errors() == {"name": "Give the person's name."}
    qtbot.keyClicks(dialog.person, "Dwayne OConnor")
    qtbot.keyClicks(dialog.notes, "Known to local CID.")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.model.rowCount() == 1, timeout=10_000)
    assert not dialog.isVisible()
    qtmodeltester.check(screen.model)
    assert screen.model.index(0, 0).data() == "Dwayne OConnor"
    assert screen.model.index(0, Column.STATUS).data() == "Current"

    screen.table.selectRow(0)
    assert screen.withdraw_button.isEnabled()
    dialogs.set_next_answer(dialogs.Answer.YES)
    qtbot.mouseClick(screen.withdraw_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            screen.model.rowCount() == 1
            and str(screen.model.index(0, Column.STATUS).data()).startswith("Withdrawn")
        ),
        timeout=10_000,
    )
    kept = associations.declarations(new_vault.session)
    assert len(kept) == 1 and not kept[0].active

    screen.close_view()
    assert screen.model.rowCount() == 0 and screen.who.text() == ""


def test_first_login_with_a_temporary_password_must_change_it_before_the_main_window(
    qtbot: QtBot, new_vault: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    add_officer(new_vault.session, "bob", TEMP, [Role.AUDITOR], temporary=True)
    new_vault.session.lock()
    flow = AppFlow(vault_dir, keyring_store, idle_ms=60_000)
    try:
        login = flow.start()
        assert isinstance(login, LoginDialog)
        qtbot.addWidget(login)
        login.form.username.setText("bob")
        login.form.password.setText(TEMP)
        login.form.attempt()
        qtbot.waitUntil(lambda: flow.password_dialog is not None, timeout=10_000)
        dialog = flow.password_dialog
        assert isinstance(dialog, PasswordChangeDialog) and dialog.isVisible()
        qtbot.addWidget(dialog)
        assert flow.main_window is None

        _fill(qtbot, dialog.form, TEMP, MINE, MINE)
        qtbot.waitUntil(lambda: flow.main_window is not None, timeout=10_000)
        assert not dialog.isVisible()
        main = flow.main_window
        assert main is not None and main.session is not None
        assert not main.session.officer.must_change_password
        wait_idle(qtbot, flow.worker)
    finally:
        flow.shutdown()
    unlock(vault_dir, "bob", MINE, keyring_store).close()


def test_logging_out_of_the_forced_change_returns_to_the_login(
    qtbot: QtBot, new_vault: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    add_officer(new_vault.session, "bob", TEMP, [Role.AUDITOR], temporary=True)
    new_vault.session.lock()
    flow = AppFlow(vault_dir, keyring_store, idle_ms=60_000)
    try:
        first = flow.start()
        qtbot.addWidget(first)
        assert isinstance(first, LoginDialog)
        first.form.username.setText("bob")
        first.form.password.setText(TEMP)
        first.form.attempt()
        qtbot.waitUntil(lambda: flow.password_dialog is not None, timeout=10_000)
        dialog = flow.password_dialog
        assert isinstance(dialog, PasswordChangeDialog)
        qtbot.addWidget(dialog)
        session = dialog.session
        qtbot.mouseClick(dialog.logout_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: session.closed, timeout=10_000)
        again = flow.first_window
        assert isinstance(again, LoginDialog) and again is not first and again.isVisible()
        qtbot.addWidget(again)
        assert flow.main_window is None
    finally:
        flow.shutdown()


def test_relogin_at_the_lock_screen_with_a_temporary_password(
    qtbot: QtBot, new_vault: NewVault, worker: DbWorker, keyring_store: DeviceSecretStore
) -> None:
    add_officer(new_vault.session, "bob", TEMP, [Role.AUDITOR], temporary=True)
    main = MainWindow(new_vault.session, worker, keyring_store)
    qtbot.addWidget(main)
    main.show()
    wait_idle(qtbot, worker)
    main.lock()
    wait_idle(qtbot, worker)
    form = main.lock_screen.form
    form.username.setText("bob")
    form.password.setText(TEMP)
    form.attempt()
    qtbot.waitUntil(lambda: bool(_visible(PasswordChangeDialog)), timeout=10_000)
    (dialog,) = _visible(PasswordChangeDialog)
    assert main.locked and main.lock_screen.isVisible()

    with qtbot.waitSignal(main.locked_changed, timeout=10_000):
        _fill(qtbot, dialog.form, TEMP, MINE, MINE)
    assert not main.locked and main.session is not None
    assert main.session.officer.username == "bob"
    wait_idle(qtbot, worker)
    main.close()
