"""Vault > Re-key in the main window: confirmation, work on the worker thread, progress."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from cim_desktop.services.vault.lifecycle import NewVault
from cim_desktop.ui.kit import dialogs
from cim_desktop.ui.shell.main_window import MainWindow
from tests.slot_attacker import opens_directly
from tests.ui.conftest import wait_idle


def test_re_keying_from_the_menu_runs_off_the_gui_thread_with_progress(
    qtbot: QtBot, window: MainWindow, new_vault: NewVault, vault_dir: Path
) -> None:
    session = new_vault.session
    old_key = session.vault_key
    assert window.rekey_action.isEnabled()
    assert window.rekey_action in window.menu_bar.actions()[0].menu().actions()

    dialogs.set_next_answer(dialogs.Answer.NO)
    window.rekey_action.trigger()
    wait_idle(qtbot, window.worker)
    assert session.vault_key == old_key  # declined: nothing happened

    dialogs.set_next_answer(dialogs.Answer.YES)
    window.rekey_action.trigger()
    run = window.rekey_run
    threads: list[int] = []
    steps: list[int] = []
    # Recorded in whichever thread reports the step: the worker's, not the GUI's.
    run._relay.step.connect(
        lambda *_: threads.append(threading.get_ident()), Qt.ConnectionType.DirectConnection
    )
    run._relay.step.connect(lambda step, *_: steps.append(step))
    qtbot.waitUntil(
        lambda: any(m.title == "Vault re-keyed" for m in dialogs.shown()), timeout=30_000
    )
    wait_idle(qtbot, window.worker)

    assert threads and threading.get_ident() not in threads
    assert steps == [0, 1, 2, 3, 4, 5]
    assert run.progress.labelText() == "Done" and run.progress.maximum() == 5
    assert not run.progress.isVisible()
    assert session.vault_key != old_key
    assert not opens_directly(vault_dir / "vault.db", old_key)
    assert opens_directly(vault_dir / "vault.db", session.vault_key)
    qtbot.waitUntil(lambda: "rekey" in [line.row.action for line in window.audit.model.rows])
