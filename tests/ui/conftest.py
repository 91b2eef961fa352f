"""Fixtures for the GUI tests: dialogs answered by seams, one worker thread per test."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.vault.lifecycle import NewVault
from cim_desktop.ui.kit import crash, dialogs, settings, wheel_guard
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.shell.main_window import MainWindow

# The offscreen platform cannot pass window size hints on and says so whenever a layout
# sets a top-level window's minimum size; real platforms (xcb, Windows) do not.
OFFSCREEN_NOTICE = "This plugin does not support propagateSizeHints()"


# The offscreen platform's default screen is 800x800, smaller than the main window; the GUI
# tests run on the smallest screen the application is made for instead.
SCREEN = Path(__file__).with_name("screen-1366x768.json")


@pytest.fixture(scope="session")
def qapp_args() -> list[str]:
    return ["cim-desktop-tests", "-platform", f"offscreen:configfile={SCREEN}"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.qt_log_ignore(re.escape(OFFSCREEN_NOTICE)))


@pytest.fixture(autouse=True)
def _wheel_guard(qapp: QApplication) -> None:
    # As the application does at start-up (ui/app.py); installing again is a no-op.
    wheel_guard.install(qapp)


@pytest.fixture(autouse=True)
def _dialog_seams(tmp_path: Path) -> Iterator[None]:
    dialogs.set_test_mode(True)
    crash.configure(tmp_path / "logs")
    # Remembered layouts go to this test's own folder, never the user's configuration.
    settings.use_folder(tmp_path / "settings")
    yield
    dialogs.set_test_mode(False)


@pytest.fixture
def worker(qtbot: QtBot) -> Iterator[DbWorker]:
    db_worker = DbWorker()
    yield db_worker
    db_worker.stop()


def wait_idle(qtbot: QtBot, worker: DbWorker, timeout: int = 10_000) -> None:
    qtbot.waitUntil(lambda: not worker.busy, timeout=timeout)


@pytest.fixture
def window(
    qtbot: QtBot, new_vault: NewVault, worker: DbWorker, keyring_store: DeviceSecretStore
) -> Iterator[MainWindow]:
    main = MainWindow(new_vault.session, worker, keyring_store)
    qtbot.addWidget(main)
    main.show()
    wait_idle(qtbot, worker)
    yield main
    main.close()
