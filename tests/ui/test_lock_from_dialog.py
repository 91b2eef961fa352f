"""Ctrl+L locks the vault from inside a modal dialog, and the dialog goes with the content."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from cim_desktop.services.vault.lifecycle import NewVault
from cim_desktop.ui.account.screen import AccountScreen
from cim_desktop.ui.shell.main_window import MainWindow


def test_ctrl_l_in_a_modal_dialog_locks_and_closes_it(
    qtbot: QtBot, window: MainWindow, new_vault: NewVault
) -> None:
    window.workspace.show_page("account")
    screen = window.workspace.page("account").widget
    assert isinstance(screen, AccountScreen)
    screen.declare()
    dialog = screen.dialog
    assert dialog is not None and dialog.isModal()
    qtbot.waitUntil(dialog.isVisible)
    dialog.activateWindow()
    dialog.person.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.person)

    with qtbot.waitSignal(window.locked_changed, timeout=5_000):
        qtbot.keyClick(dialog.person, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.locked
    assert window.lock_screen.isVisible()
    assert not dialog.isVisible()
    assert dialog.person.text() == ""  # the key reached no field
    qtbot.waitUntil(lambda: new_vault.session.closed)
