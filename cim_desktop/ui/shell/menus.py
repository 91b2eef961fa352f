"""The main window's Edit, View and Help menus, and what their actions do.

The View menu is rebuilt at each login: it offers exactly the screens in the navigation list,
in the same order, on Ctrl+1 to Ctrl+9. F5 and Ctrl+F act on the current screen through the
screen base's ``refresh()`` and ``search_field()``; screens not yet on the base are reached
through the names they use today.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
)

from cim_desktop.ui.kit import clipboard, guide
from cim_desktop.ui.kit.icons import icon
from cim_desktop.ui.shell.help_window import TextWindow

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from cim_desktop.ui.kit.screen import Screen
    from cim_desktop.ui.shell.main_window import MainWindow


def selected_text(widget: QWidget | None) -> str:
    if isinstance(widget, QLineEdit):
        # A password field's text is never copied, selected or not.
        return "" if widget.echoMode() != QLineEdit.EchoMode.Normal else widget.selectedText()
    if isinstance(widget, QTextEdit | QPlainTextEdit):
        return widget.textCursor().selectedText().replace("\u2029", "\n")
    if isinstance(widget, QLabel):
        return widget.selectedText()
    if isinstance(widget, QAbstractItemView):
        # Lists show no identity (only URNs and pseudonyms), so a cell may be copied.
        value = widget.currentIndex().data()
        return str(value) if value is not None else ""
    return ""


class Menus:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.text_window: TextWindow | None = None
        bar = window.menu_bar
        self.edit = bar.addMenu("&Edit")
        self.copy_action = self._action(
            "&Copy", "copy", QKeySequence(QKeySequence.StandardKey.Copy)
        )
        self.copy_action.triggered.connect(self.copy)
        self.find_action = self._action(
            "&Find", "search", QKeySequence(QKeySequence.StandardKey.Find)
        )
        self.find_action.triggered.connect(self.find)
        self.edit.addActions([self.copy_action, self.find_action])

        self.view = bar.addMenu("Vie&w")
        self.screen_actions: list[QAction] = []
        self.refresh_action = self._action("&Refresh", "refresh", QKeySequence("F5"))
        self.refresh_action.triggered.connect(self.refresh)

        self.help = bar.addMenu("&Help")
        self.guide_action = self._action("Guide to this &screen", "help", QKeySequence("F1"))
        self.guide_action.triggered.connect(self.show_guide)
        self.shortcuts_action = self._action("&Keyboard shortcuts", "keyboard")
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        self.about_action = self._action("&About cim-desktop", "info-circle")
        self.about_action.triggered.connect(self.show_about)
        self.help.addActions([self.guide_action, self.shortcuts_action])
        self.help.addSeparator()
        self.help.addAction(self.about_action)
        self.session_actions = (
            self.copy_action,
            self.find_action,
            self.refresh_action,
            self.guide_action,
        )

    def _action(self, text: str, icon_name: str, keys: QKeySequence | None = None) -> QAction:
        action = QAction(icon(icon_name), text, self.window)
        if keys is not None:
            action.setShortcut(keys)
        return action

    # -- View ---------------------------------------------------------------------------
    def rebuild_view(self) -> None:
        """One action per screen offered to the officer now logged in (none while locked)."""
        self.view.clear()
        for action in self.screen_actions:
            action.deleteLater()
        self.screen_actions = []
        workspace = self.window.workspace
        for number, page in enumerate(workspace.offered(), start=1):
            action = QAction(icon(page.icon), page.title, self.window)
            if number <= 9:
                action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(lambda _=False, key=page.key: workspace.show_page(key))
            self.screen_actions.append(action)
        self.view.addActions(self.screen_actions)
        self.view.addSeparator()
        self.view.addAction(self.refresh_action)

    def _current(self) -> tuple[str, Screen] | None:
        key = self.window.workspace.current_key()
        if key is None or self.window.locked:
            return None
        return key, self.window.workspace.page(key).widget

    def refresh(self) -> None:
        current = self._current()
        if current is not None:
            current[1].refresh()

    # -- Edit ---------------------------------------------------------------------------
    def find(self) -> None:
        current = self._current()
        field = current[1].search_field() if current is not None else None
        if field is None:
            self.window.statusBar().showMessage("This screen has no search.", 4000)
            return
        field.setFocus()
        field.selectAll()

    def copy(self) -> None:
        text = selected_text(QApplication.focusWidget())
        if text:
            # Through the guard, so that it leaves the clipboard after the policy's time.
            clipboard.copy_text(text)

    # -- Help ---------------------------------------------------------------------------
    def _show(self, title: str, markdown: str) -> TextWindow:
        if self.text_window is not None:
            self.text_window.close()
        self.text_window = TextWindow(title, markdown, self.window)
        self.text_window.show()
        return self.text_window

    def show_guide(self) -> None:
        current = self._current()
        if current is None:
            return
        key, screen = current
        self._show("Guide", guide.guide(screen.help_topic or key))

    def show_shortcuts(self) -> None:
        self._show("Keyboard shortcuts", guide.guide("shortcuts"))

    def show_about(self) -> None:
        self._show("About cim-desktop", guide.about())
