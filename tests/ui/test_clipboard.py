"""Copied text leaves the clipboard after the timeout, unless something else replaced it."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from cim_desktop.domain.policy.settings import Policy
from cim_desktop.ui.kit import clipboard
from cim_desktop.ui.kit.clipboard import ClipboardGuard


def _board_text() -> str:
    board = QApplication.clipboard()
    assert board is not None
    return board.text()


def test_copied_text_is_cleared_after_the_timeout(qtbot: QtBot) -> None:
    guard = ClipboardGuard(timeout_ms=300)
    guard.copy("DSU-2025-0001")
    assert _board_text() == "DSU-2025-0001" and guard.pending
    board = QApplication.clipboard()
    assert board is not None
    mime = board.mimeData()
    assert mime is not None and mime.hasFormat("x-kde-passwordManagerHint")
    with qtbot.waitSignal(guard.expired, timeout=3_000) as blocker:
        qtbot.waitUntil(lambda: _board_text() == "", timeout=3_000)
    assert blocker.args == [True] and not guard.pending


def test_text_copied_elsewhere_since_is_left_alone(qtbot: QtBot) -> None:
    guard = ClipboardGuard(timeout_ms=200)
    guard.copy("ours")
    board = QApplication.clipboard()
    assert board is not None
    board.setText("the officer's own note")
    with qtbot.waitSignal(guard.expired, timeout=3_000) as blocker:
        pass
    assert blocker.args == [False]
    assert _board_text() == "the officer's own note"


def test_clear_now_for_locking(qtbot: QtBot) -> None:
    guard = ClipboardGuard(timeout_ms=60_000)
    guard.copy("pseudonym KESTREL")
    assert guard.clear_now() is True
    assert _board_text() == "" and not guard.pending
    assert guard.clear_now() is False


def test_the_default_follows_the_policy(qtbot: QtBot) -> None:
    seconds = Policy.defaults().number("clipboard_clear_seconds")
    assert clipboard.guard().timeout_ms == seconds * 1000 == 10_000
    guard = ClipboardGuard()
    guard.set_seconds(30)
    assert guard.timeout_ms == 30_000
