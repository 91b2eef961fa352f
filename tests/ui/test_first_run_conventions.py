"""The wizard's conventions: show password, a strength hint, Escape asks, a real print."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.ui.kit import dialogs
from cim_desktop.ui.kit.password_hint import estimate_bits, strength
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.vault import code_print
from cim_desktop.ui.vault.first_run import FirstRunWizard
from tests.conftest import ADMIN, ADMIN_PASSWORD, UNIT
from tests.ui.test_first_run import _wizard


def test_show_password_toggle_shows_both_fields(
    qtbot: QtBot, vault_dir: Path, worker: DbWorker, keyring_store: DeviceSecretStore
) -> None:
    wizard = _wizard(qtbot, vault_dir, worker, keyring_store)
    fields = (wizard.admin_password, wizard.admin_confirm)
    assert wizard.show_password in wizard.admin_password.actions()
    assert all(f.echoMode() == QLineEdit.EchoMode.Password for f in fields)
    wizard.show_password.trigger()
    assert all(f.echoMode() == QLineEdit.EchoMode.Normal for f in fields)
    assert wizard.show_password.text() == "Hide password"
    wizard.show_password.trigger()
    assert all(f.echoMode() == QLineEdit.EchoMode.Password for f in fields)


def test_strength_hint_follows_the_password(
    qtbot: QtBot, vault_dir: Path, worker: DbWorker, keyring_store: DeviceSecretStore
) -> None:
    wizard = _wizard(qtbot, vault_dir, worker, keyring_store)
    hint = wizard.strength_hint
    assert hint.text() == ""
    wizard.admin_password.setText("password")
    assert hint.text() == "Strength (a hint only): weak"
    wizard.admin_password.setText("correct horse battery staple on the night shift")
    assert hint.text() == "Strength (a hint only): strong"
    assert estimate_bits("aaaaaaaaaaaaaaaa") < estimate_bits("abcdefghijklmnop")
    assert strength("password1") == "Strength (a hint only): weak"


def test_escape_asks_before_discarding_what_was_typed(
    qtbot: QtBot, vault_dir: Path, worker: DbWorker, keyring_store: DeviceSecretStore
) -> None:
    wizard = _wizard(qtbot, vault_dir, worker, keyring_store)
    qtbot.keyClicks(wizard.unit_name, UNIT)
    dialogs.set_next_answer(dialogs.Answer.NO)
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)
    assert [s.title for s in dialogs.shown()] == ["Discard what you typed?"]
    assert wizard.isVisible() and wizard.unit_name.text() == UNIT

    dialogs.set_next_answer(dialogs.Answer.YES)
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)
    assert not wizard.isVisible()


def test_escape_on_an_untouched_wizard_leaves_without_asking(
    qtbot: QtBot, vault_dir: Path, worker: DbWorker, keyring_store: DeviceSecretStore
) -> None:
    wizard = _wizard(qtbot, vault_dir, worker, keyring_store)
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)
    assert not wizard.isVisible() and dialogs.shown() == []


def test_the_recovery_code_can_be_printed(
    qtbot: QtBot,
    tmp_path: Path,
    vault_dir: Path,
    worker: DbWorker,
    keyring_store: DeviceSecretStore,
) -> None:
    wizard = _wizard(qtbot, vault_dir, worker, keyring_store)
    qtbot.keyClicks(wizard.unit_name, UNIT)
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(wizard.admin_username, ADMIN)
    qtbot.keyClicks(wizard.admin_password, ADMIN_PASSWORD)
    qtbot.keyClicks(wizard.admin_confirm, ADMIN_PASSWORD)
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.current == FirstRunWizard.CODE, timeout=15_000)
    assert wizard.print_button.isVisible()
    code = wizard.code_label.text().split()

    sheet = tmp_path / "sheet.pdf"
    code_print.set_next_pdf(sheet)
    qtbot.mouseClick(wizard.print_button, Qt.MouseButton.LeftButton)
    assert sheet.is_file()
    document = QPdfDocument()
    document.load(str(sheet))
    text = document.getAllText(0).text()
    document.close()
    assert all(group in text for group in code)
    assert UNIT in text
    assert wizard.copy_note.text() == "Sent to the printer. Collect the sheet at once."
    session = wizard.session
    assert session is not None
    session.close()
