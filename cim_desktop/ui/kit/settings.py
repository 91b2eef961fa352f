"""The workstation's remembered layout, per officer, through one typed wrapper over QSettings.

Only layout lives here: window geometry and state, splitter positions, table column states
and the last screen shown, each under the officer's id (a random id, never a name). No case
data, no URN, no pseudonym, no search text: the settings file is plain text outside the
encrypted vault.

The file is an INI file in the user's configuration folder; tests point it elsewhere with
``use_folder``.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QByteArray, QRect, QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHeaderView, QMainWindow, QSplitter, QTableView, QWidget

ORGANISATION = "cim-desktop"
APPLICATION = "cim-desktop"
_KEY = re.compile(r"[A-Za-z0-9_.-]+")


def use_folder(folder: Path) -> None:
    """Keep the settings file in ``folder`` (tests; a portable install)."""
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))


def _store() -> QSettings:
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION
    )


def settings_file() -> Path:
    return Path(_store().fileName())


def _checked(part: str) -> str:
    # Keys are built from ids and widget names only; anything else is a programming error.
    if not _KEY.fullmatch(part):
        raise ValueError(f"not a settings key part: {part!r}")
    return part


class OfficerSettings:
    """One officer's remembered layout."""

    def __init__(self, officer_id: str) -> None:
        self._prefix = f"officer-{_checked(officer_id)}"
        self._store = _store()

    def _key(self, *parts: str) -> str:
        return "/".join([self._prefix, *(_checked(p) for p in parts)])

    def _bytes(self, *parts: str) -> QByteArray | None:
        value = self._store.value(self._key(*parts))
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def _set_bytes(self, value: QByteArray, *parts: str) -> None:
        self._store.setValue(self._key(*parts), value)

    # -- typed values -------------------------------------------------------------------
    def geometry(self) -> QByteArray | None:
        return self._bytes("window", "geometry")

    def set_geometry(self, value: QByteArray) -> None:
        self._set_bytes(value, "window", "geometry")

    def window_state(self) -> QByteArray | None:
        return self._bytes("window", "state")

    def set_window_state(self, value: QByteArray) -> None:
        self._set_bytes(value, "window", "state")

    def splitter(self, name: str) -> QByteArray | None:
        return self._bytes("splitter", name)

    def set_splitter(self, name: str, value: QByteArray) -> None:
        self._set_bytes(value, "splitter", name)

    def header(self, name: str) -> QByteArray | None:
        return self._bytes("header", name)

    def set_header(self, name: str, value: QByteArray) -> None:
        self._set_bytes(value, "header", name)

    def last_screen(self) -> str | None:
        value = self._store.value(self._key("last_screen"))
        return value if isinstance(value, str) and _KEY.fullmatch(value) else None

    def set_last_screen(self, key: str) -> None:
        self._store.setValue(self._key("last_screen"), _checked(key))

    def sync(self) -> None:
        self._store.sync()

    # -- whole widgets ------------------------------------------------------------------
    def save_window(self, window: QMainWindow) -> None:
        self.set_geometry(window.saveGeometry())
        self.set_window_state(window.saveState())

    def restore_window(self, window: QMainWindow) -> bool:
        geometry = self.geometry()
        restored = geometry is not None and window.restoreGeometry(geometry)
        state = self.window_state()
        if state is not None:
            window.restoreState(state)
        keep_on_screen(window)
        return restored

    def save_layout(self, name: str, root: QWidget) -> None:
        """Splitter positions and column states of every splitter and table under ``root``."""
        for i, split in enumerate(root.findChildren(QSplitter)):
            self.set_splitter(f"{name}.{i}", split.saveState())
        for i, table in enumerate(root.findChildren(QTableView)):
            self.set_header(f"{name}.{i}", table.horizontalHeader().saveState())

    def restore_layout(self, name: str, root: QWidget) -> None:
        # Found in the same order as saved: a screen's widget tree is built the same way each
        # time; a state that no longer fits (columns added) is refused by Qt and ignored.
        for i, split in enumerate(root.findChildren(QSplitter)):
            state = self.splitter(f"{name}.{i}")
            if state is not None:
                split.restoreState(state)
        for i, table in enumerate(root.findChildren(QTableView)):
            header: QHeaderView = table.horizontalHeader()
            state = self.header(f"{name}.{i}")
            if state is not None:
                header.restoreState(state)


def clamp(frame: QRect, available: QRect) -> QRect:
    """``frame`` moved (and shrunk if need be) to lie wholly inside ``available``."""
    width = min(frame.width(), available.width())
    height = min(frame.height(), available.height())
    left = min(max(frame.left(), available.left()), available.right() + 1 - width)
    top = min(max(frame.top(), available.top()), available.bottom() + 1 - height)
    return QRect(left, top, width, height)


def keep_on_screen(window: QWidget) -> None:
    """Move a top-level window wholly onto the screen it is (mostly) on, or the primary one."""
    frame = window.frameGeometry()
    screen = QGuiApplication.screenAt(frame.center()) or QGuiApplication.primaryScreen()
    if screen is None:
        return
    available = screen.availableGeometry()
    if available.contains(frame):
        return
    fitted = clamp(frame, available)
    # The frame (title bar, borders) is outside the client geometry: shrink the client by it.
    extra_w = frame.width() - window.width()
    extra_h = frame.height() - window.height()
    window.resize(fitted.width() - extra_w, fitted.height() - extra_h)
    window.move(fitted.topLeft())
