"""Menus and shortcuts: Ctrl+1..9, F5, Ctrl+F, the screen guide and About."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

import cim_desktop
from cim_desktop.domain.officers.roles import Role
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from cim_desktop.ui.kit import guide
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.review.screen import ReviewScreen
from cim_desktop.ui.shell.main_window import MainWindow
from tests.officer_helpers import add_officer
from tests.ui.conftest import wait_idle

AUDITOR, AUDITOR_PASSWORD = "auditor1", "a long auditor passphrase"


@pytest.fixture
def auditor_window(
    qtbot: QtBot, new_vault: NewVault, worker: DbWorker, keyring_store: DeviceSecretStore
) -> Iterator[MainWindow]:
    """An auditor sees five screens: audit, officers, review, policy, account."""
    add_officer(new_vault.session, AUDITOR, AUDITOR_PASSWORD, [Role.AUDITOR])
    session = unlock(new_vault.session.paths.root, AUDITOR, AUDITOR_PASSWORD, keyring_store)
    main = MainWindow(session, worker, keyring_store)
    qtbot.addWidget(main)
    main.show()
    main.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is main)
    wait_idle(qtbot, worker)
    yield main
    main.close()


def _press(qtbot: QtBot, window: MainWindow, keys: str) -> None:
    sequence = QKeySequence(keys)[0]
    qtbot.keyClick(window, sequence.key(), sequence.keyboardModifiers())


def test_ctrl_number_shows_each_offered_screen(qtbot: QtBot, auditor_window: MainWindow) -> None:
    offered = [p.key for p in auditor_window.workspace.offered()]
    assert offered == ["audit", "officers", "review", "policy", "account"]
    titles = [a.text() for a in auditor_window.menus.screen_actions]
    assert titles == [p.title for p in auditor_window.workspace.offered()]
    for number in (3, 5, 1, 4, 2):
        _press(qtbot, auditor_window, f"Ctrl+{number}")
        key = offered[number - 1]
        qtbot.waitUntil(lambda key=key: auditor_window.workspace.current_key() == key)
        assert auditor_window.workspace.stack.currentWidget() is (
            auditor_window.workspace.page(key).widget
        )


def test_f5_reads_the_current_screen_again(qtbot: QtBot, auditor_window: MainWindow) -> None:
    _press(qtbot, auditor_window, "Ctrl+3")
    review = auditor_window.workspace.page("review").widget
    assert isinstance(review, ReviewScreen)
    qtbot.waitUntil(lambda: review.loads == 1)
    _press(qtbot, auditor_window, "F5")
    qtbot.waitUntil(lambda: review.loads == 2)


def test_ctrl_f_focuses_the_screens_search(qtbot: QtBot, auditor_window: MainWindow) -> None:
    _press(qtbot, auditor_window, "Ctrl+2")
    officers = auditor_window.workspace.page("officers").widget
    field = officers.search  # type: ignore[attr-defined]
    assert not field.hasFocus()
    _press(qtbot, auditor_window, "Ctrl+F")
    qtbot.waitUntil(field.hasFocus)


def test_help_shows_the_current_screens_guide_and_about_the_version(
    qtbot: QtBot, auditor_window: MainWindow
) -> None:
    _press(qtbot, auditor_window, "Ctrl+4")
    qtbot.waitUntil(lambda: auditor_window.workspace.current_key() == "policy")
    _press(qtbot, auditor_window, "F1")
    shown = auditor_window.menus.text_window
    assert shown is not None and shown.isVisible()
    assert shown.plain_text().startswith("Local policy")
    assert shown.plain_text() != guide.MISSING

    auditor_window.menus.about_action.trigger()
    about = auditor_window.menus.text_window
    assert about is not None and about.isVisible()
    text = about.plain_text()
    assert f"cim-desktop {cim_desktop.__version__}" in text
    assert "Build: " in text
    for licence in ("LGPL", "SQLCipher", "cryptography", "keyring", "ReportLab", "pyHanko"):
        assert licence in text
    assert "Tabler Icons" in text


def test_every_offered_screen_has_a_guide_page() -> None:
    for key in ("sources", "audit", "officers", "review", "policy", "account", "shortcuts"):
        assert guide.guide(key) != guide.MISSING


def test_screen_shortcuts_do_nothing_while_locked(qtbot: QtBot, auditor_window: MainWindow) -> None:
    auditor_window.lock()
    assert auditor_window.menus.screen_actions == []
    assert not auditor_window.menus.refresh_action.isEnabled()
    _press(qtbot, auditor_window, "Ctrl+2")
    assert auditor_window.workspace.current_key() is None
