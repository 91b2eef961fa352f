"""The GUI's crash path: a bug carrying a source's name in its message, in its cause and in a
local variable leaves that name in none of the log, standard error or the dialog."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from cim_desktop.ui.kit import crash, dialogs
from cim_desktop.ui.kit.worker import DbWorker
from tests.ui.conftest import wait_idle

CANARY = "CANARY-Jane-Sealed-Example-7f3a"


def _failing_operation() -> None:
    particulars = {"full_name": CANARY, "address": "7 Hidden Row"}
    try:
        raise KeyError(particulars["full_name"])
    except KeyError as cause:
        raise ValueError(f"cannot save {particulars['full_name']}") from cause


def _check_no_canary(tmp_path: Path, err: str, function: str) -> None:
    shown = dialogs.shown()[-1]
    assert shown.kind == "critical" and shown.title == "Internal error"
    text = f"{shown.title}\n{shown.text}\n{shown.informative}"
    assert CANARY not in text and CANARY not in err and "cannot save" not in text + err
    reference = shown.text.split("Reference: ")[1].strip()
    log = tmp_path / "logs" / f"crash-{reference}.log"
    assert str(log) in shown.informative
    content = log.read_text()
    assert CANARY not in content and "cannot save" not in content
    assert "program: cim-desktop" in content and "exception: builtins.ValueError" in content
    assert f" in {function}" in content and "caused by: builtins.KeyError" in content
    assert log.stat().st_mode & 0o777 == 0o600


def test_a_bug_in_a_background_job(
    qtbot: QtBot, worker: DbWorker, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    worker.run(_failing_operation)
    wait_idle(qtbot, worker)
    _check_no_canary(tmp_path, capfd.readouterr().err, "_failing_operation")


@pytest.mark.qt_no_exception_capture
def test_a_bug_escaping_a_qt_slot(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # put back after the test
    crash.install()
    before = len(dialogs.shown())
    QTimer.singleShot(0, _failing_operation)
    qtbot.waitUntil(lambda: len(dialogs.shown()) > before)
    _check_no_canary(tmp_path, capfd.readouterr().err, "_failing_operation")
