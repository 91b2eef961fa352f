"""Vault > Re-key in the main window: confirmation, work on the worker thread, progress."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from cim_desktop.services.vault.lifecycle import NewVault
from cim_desktop.ui.kit import dialogs
from cim_desktop.ui.kit.operation import Progress
from cim_desktop.ui.shell.main_window import MainWindow
from tests.slot_attacker import opens_directly
from tests.ui.conftest import wait_idle


def test_re_keying_from_the_menu_runs_off_the_gui_thread_with_progress(
    qtbot: QtBot,
    window: MainWindow,
    new_vault: NewVault,
    vault_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = new_vault.session
    old_key = session.vault_key
    assert window.rekey_action.isEnabled()
    assert window.rekey_action in window.menu_bar.actions()[0].menu().actions()

    dialogs.set_next_answer(dialogs.Answer.NO)
    window.rekey_action.trigger()
    wait_idle(qtbot, window.worker)
    assert session.vault_key == old_key  # declined: nothing happened

    threads: list[int] = []
    report = Progress.report

    def recorded(progress: Progress, done: int, total: int, text: str = "") -> None:
        threads.append(threading.get_ident())  # whichever thread reports the step
        report(progress, done, total, text)

    monkeypatch.setattr(Progress, "report", recorded)
    dialogs.set_next_answer(dialogs.Answer.YES)
    window.rekey_action.trigger()
    run = window.rekey_run
    qtbot.waitUntil(
        lambda: any(m.title == "Vault re-keyed" for m in dialogs.shown()), timeout=30_000
    )
    wait_idle(qtbot, window.worker)

    assert threads and threading.get_ident() not in threads
    assert [step for step, _total, _text in run.steps] == [0, 1, 2, 3, 4, 5]
    assert run.steps[-1] == (5, 5, "Done")
    assert run.operation is not None and run.operation.dialog is None  # closed
    assert session.vault_key != old_key
    assert not opens_directly(vault_dir / "vault.db", old_key)
    assert opens_directly(vault_dir / "vault.db", session.vault_key)
    qtbot.waitUntil(lambda: "rekey" in [line.row.action for line in window.audit.model.rows])
