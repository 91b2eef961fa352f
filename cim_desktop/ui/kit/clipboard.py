"""Copying text out of the application: cleared from the clipboard after a while.

The clipboard is cleared only if it still holds what we put there, so text the officer has
since copied from elsewhere is left alone. Copied text is marked for clipboard managers not
to keep in their history. Identity fields offer no copy at all; this is for the rest.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QObject, QTimer, Signal
from PySide6.QtGui import QClipboard, QGuiApplication

DEFAULT_CLEAR_SECONDS = 10
# Read by KDE's Klipper and other managers: do not keep this entry in the history.
_MANAGER_HINT = "x-kde-passwordManagerHint"


class ClipboardGuard(QObject):
    """Puts text on the clipboard and takes it off again after ``timeout_ms``."""

    # Emitted when the timer runs out: True if our text was still there and was cleared.
    expired = Signal(bool)

    def __init__(
        self, timeout_ms: int = DEFAULT_CLEAR_SECONDS * 1000, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._copied: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(timeout_ms)
        self._timer.timeout.connect(self._expire)

    @property
    def timeout_ms(self) -> int:
        return self._timer.interval()

    def set_seconds(self, seconds: int) -> None:
        """Follow the policy's ``clipboard_clear_seconds``."""
        self._timer.setInterval(max(1, seconds) * 1000)

    @property
    def pending(self) -> bool:
        return self._copied is not None

    def copy(self, text: str) -> None:
        data = QMimeData()
        data.setText(text)
        data.setData(_MANAGER_HINT, b"secret")
        _clipboard().setMimeData(data)
        self._copied = text
        self._timer.start()

    def clear_now(self) -> bool:
        """Take our text off the clipboard at once (on lock); True if it was still there."""
        self._timer.stop()
        copied, self._copied = self._copied, None
        if copied is None:
            return False
        board = _clipboard()
        if board.text() != copied:
            return False
        board.clear()
        return True

    def _expire(self) -> None:
        self.expired.emit(self.clear_now())


def _clipboard() -> QClipboard:
    board = QGuiApplication.clipboard()
    assert board is not None, "the clipboard needs a running QGuiApplication"
    return board


_guard: ClipboardGuard | None = None


def guard() -> ClipboardGuard:
    """The application's one guard (created on first use, after the QApplication)."""
    global _guard
    if _guard is None:
        _guard = ClipboardGuard()
    return _guard


def copy_text(text: str) -> None:
    guard().copy(text)
