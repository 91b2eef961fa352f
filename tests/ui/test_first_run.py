"""The first-run wizard, end to end, on a real vault in tmp_path."""

from __future__ import annotations

from pathlib import Path

from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from cim_desktop.security import recovery_code
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.vault.paths import VaultPaths
from cim_desktop.ui.kit import dialogs
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.vault.first_run import FirstRunWizard
from tests.conftest import ADMIN, ADMIN_PASSWORD, UNIT
from tests.memory_keyring import MemoryKeyring


def _mistype_group(code: str, index: int) -> str:
    groups = code.split("-")
    group = groups[index]
    replacement = "0" if group[0] != "0" else "1"
    groups[index] = replacement + group[1:]
    return "-".join(groups)


def _leave_without_asking(wizard: QWidget) -> None:
    """Closing a wizard with typed text asks first; at the end of a test, say discard."""
    assert isinstance(wizard, FirstRunWizard)
    if wizard.isVisible() and wizard.session is None and wizard.typed_anything():
        dialogs.set_next_answer(dialogs.Answer.YES)


def _wizard(
    qtbot: QtBot, root: Path, worker: DbWorker, keyring: DeviceSecretStore
) -> FirstRunWizard:
    wizard = FirstRunWizard(root, worker, keyring)
    qtbot.addWidget(wizard, before_close_func=_leave_without_asking)
    wizard.show()
    # The keyring is checked first, on the worker; the form opens once it has answered.
    qtbot.waitUntil(lambda: wizard.keyring_panel.usable is not None, timeout=10_000)
    return wizard


def test_no_keyring_is_named_on_the_first_page_and_nothing_can_be_filled_in(
    qtbot: QtBot, vault_dir: Path, worker: DbWorker
) -> None:
    wizard = _wizard(qtbot, vault_dir, worker, DeviceSecretStore(fail.Keyring()))
    panel = wizard.keyring_panel
    assert wizard.current == FirstRunWizard.UNIT
    assert panel.isVisible() and panel.check_again_button.isVisible()
    assert panel.message.text().startswith("There is no secure keyring")
    assert "To fix it:" in panel.message.text() and "keyring.backends" not in panel.message.text()
    assert not wizard.unit_name.isEnabled() and not wizard.next_button.isEnabled()
    qtbot.keyClicks(wizard.unit_name, UNIT)
    qtbot.keyClick(wizard.unit_name, Qt.Key.Key_Return)
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    wizard.next()
    assert wizard.unit_name.text() == "" and wizard.current == FirstRunWizard.UNIT
    assert not vault_dir.exists()


def test_check_again_proceeds_once_the_keyring_is_unlocked(
    qtbot: QtBot, vault_dir: Path, worker: DbWorker
) -> None:
    backend = MemoryKeyring()
    backend.locked = True
    wizard = _wizard(qtbot, vault_dir, worker, DeviceSecretStore(backend))
    panel = wizard.keyring_panel
    assert panel.isVisible() and "is locked" in panel.message.text()
    assert not wizard.unit_name.isEnabled()

    backend.locked = False
    qtbot.mouseClick(panel.check_again_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.usable is True, timeout=10_000)
    assert not panel.isVisible() and wizard.unit_name.isEnabled()
    qtbot.keyClicks(wizard.unit_name, UNIT)
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.current == FirstRunWizard.ADMIN
    assert backend.entries == {}, "the check writes nothing"


def test_unit_name_is_required(
    qtbot: QtBot, vault_dir: Path, worker: DbWorker, keyring_store: DeviceSecretStore
) -> None:
    wizard = _wizard(qtbot, vault_dir, worker, keyring_store)
    qtbot.keyClicks(wizard.unit_name, "   ")
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.current == FirstRunWizard.UNIT
    assert wizard.unit_error.isVisible()
    assert wizard.unit_error.text() == "Enter the unit's name."


def test_wizard_end_to_end(
    qtbot: QtBot, vault_dir: Path, worker: DbWorker, keyring_store: DeviceSecretStore
) -> None:
    wizard = _wizard(qtbot, vault_dir, worker, keyring_store)
    qtbot.keyClicks(wizard.unit_name, UNIT)
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.current == FirstRunWizard.ADMIN

    # Field errors come from the password and username rules; nothing is created.
    qtbot.keyClicks(wizard.admin_username, "a!")
    qtbot.keyClicks(wizard.admin_password, "short")
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.current == FirstRunWizard.ADMIN
    assert "username is 2 to 64" in wizard.username_error.text()
    assert "at least 12 characters" in wizard.password_error.text()
    assert wizard.username_error.isVisible() and wizard.password_error.isVisible()
    assert not VaultPaths(vault_dir).exists()

    wizard.admin_username.clear()
    wizard.admin_password.clear()
    qtbot.keyClicks(wizard.admin_username, ADMIN)
    qtbot.keyClicks(wizard.admin_display, "Duty Administrator")
    qtbot.keyClicks(wizard.admin_password, ADMIN_PASSWORD)
    qtbot.keyClicks(wizard.admin_confirm, ADMIN_PASSWORD + "x")
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.confirm_error.text() == "The two passwords are not the same."
    assert not wizard.username_error.isVisible()
    assert not VaultPaths(vault_dir).exists()

    wizard.admin_confirm.clear()
    qtbot.keyClicks(wizard.admin_confirm, ADMIN_PASSWORD)
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.current == FirstRunWizard.CODE, timeout=15_000)

    # The vault is on disk, the admin's session open, the code shown in groups.
    paths = VaultPaths(vault_dir)
    assert paths.db.exists() and paths.keys.exists() and paths.public_key.exists()
    session = wizard.session
    assert session is not None and session.officer.username == ADMIN
    assert session.unit_name == UNIT
    shown = wizard.code_label.text()
    groups = shown.split()
    assert len(groups) == recovery_code.GROUPS
    code = "-".join(groups)
    assert recovery_code.normalise(code) == code
    assert wizard.code_label.textInteractionFlags() == Qt.TextInteractionFlag.NoTextInteraction
    assert not wizard.back_button.isVisible()  # no way back to re-create or re-show

    # Copying needs the explicit button; moving on clears the clipboard and the label.
    assert not wizard.next_button.isEnabled()
    qtbot.mouseClick(wizard.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == code
    wizard.recorded.setChecked(True)
    assert wizard.next_button.isEnabled()
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.current == FirstRunWizard.CONFIRM
    assert QGuiApplication.clipboard().text() != code
    assert wizard.code_label.text() == ""
    assert not wizard.back_button.isVisible()

    # Leaving now is questioned; staying keeps the wizard open.
    dialogs.set_next_answer(dialogs.Answer.NO)
    wizard.reject()
    assert wizard.isVisible() and not session.closed
    assert dialogs.shown()[-1].title == "Leave set-up?"

    # A mistyped group is named, and refused.
    with qtbot.assertNotEmitted(wizard.completed):
        qtbot.keyClicks(wizard.typed_code, _mistype_group(code, 2))
        qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.current == FirstRunWizard.CONFIRM
    assert "Group 3" in wizard.typed_error.text()

    wizard.typed_code.clear()
    qtbot.keyClicks(wizard.typed_code, code.lower().replace("-", " "))
    with qtbot.waitSignal(wizard.completed) as completed:
        qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert completed.args == [session]
    assert not wizard.isVisible()
    assert not session.closed
    session.close()


def test_other_valid_code_is_refused(
    qtbot: QtBot, vault_dir: Path, worker: DbWorker, keyring_store: DeviceSecretStore
) -> None:
    wizard = _wizard(qtbot, vault_dir, worker, keyring_store)
    wizard.unit_name.setText(UNIT)
    wizard.next()
    wizard.admin_username.setText(ADMIN)
    wizard.admin_password.setText(ADMIN_PASSWORD)
    wizard.admin_confirm.setText(ADMIN_PASSWORD)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.current == FirstRunWizard.CODE, timeout=15_000)
    code = "-".join(wizard.code_label.text().split())
    wizard.recorded.setChecked(True)
    wizard.next()

    other = recovery_code.generate()
    while other.split("-")[0] == code.split("-")[0]:
        other = recovery_code.generate()
    wizard.typed_code.setText(other)
    wizard.next()
    assert wizard.current == FirstRunWizard.CONFIRM
    assert wizard.typed_error.text().startswith("Group 1 does not match")

    # Leaving after creation, when confirmed, locks the new session.
    session = wizard.session
    assert session is not None
    dialogs.set_next_answer(dialogs.Answer.YES)
    wizard.reject()
    assert session.closed
    assert not wizard.isVisible()
