"""Ctrl+L from every window and dialog.

The lock action's shortcut is application-wide, but Qt does not deliver any shortcut of a
window that a modal dialog blocks: with a dialog open, Ctrl+L reached the dialog's field as
a key press and nothing locked. This filter sees that key press wherever it lands and
triggers the lock action, which closes the dialogs as it hides the content.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication


class LockKey(QObject):
    def __init__(self, action: QAction, parent: QObject) -> None:
        super().__init__(parent)
        self._action = action
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Where the shortcut works (no modal dialog), Qt turns the keys into the action and
        # no key press arrives here; so this never locks twice.
        if event.type() != QEvent.Type.KeyPress or not self._action.isEnabled():
            return False
        key: QKeyEvent = event  # type: ignore[assignment]
        sequence = self._action.shortcut()
        if sequence.isEmpty() or QKeySequence(key.keyCombination()) != sequence:
            return False
        self._action.trigger()
        return True
