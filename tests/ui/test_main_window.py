"""The main window: chrome, locking (on demand and idle), re-login, backup, crash handling."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit
from pytestqt.qtbot import QtBot

from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import InvalidInput
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.vault.lifecycle import NewVault
from cim_desktop.ui.audit.model import Column
from cim_desktop.ui.kit import crash, dialogs
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.shell.idle import IdleWatcher
from cim_desktop.ui.shell.main_window import MainWindow
from tests.conftest import ADMIN, ADMIN_PASSWORD, UNIT
from tests.officer_helpers import add_officer
from tests.ui.conftest import wait_idle

AUDITOR = "auditor1"
AUDITOR_PASSWORD = "a long auditor passphrase"


def _actions(window: MainWindow) -> list[str]:
    model = window.audit.model
    return [model.row_at(r).row.action for r in range(model.rowCount())]


def _relogin(qtbot: QtBot, window: MainWindow, username: str, password: str) -> None:
    form = window.lock_screen.form
    form.username.setText(username)
    qtbot.keyClicks(form.password, password)
    with qtbot.waitSignal(window.locked_changed, timeout=10_000):
        qtbot.keyClick(form.password, Qt.Key.Key_Return)
    wait_idle(qtbot, window.worker)


def test_chrome_shows_who_where_and_the_verified_chain(window: MainWindow) -> None:
    assert window.windowTitle() == f"{UNIT} — cim-desktop"  # Qt adds no second name
    assert window.user_label.text() == f"Logged in: {ADMIN} (Administrator)"
    assert window.unit_label.text() == f"Unit: {UNIT}"
    assert window.lock_label.text() == "Unlocked"
    menus = [a.text() for a in window.menu_bar.actions()]
    assert menus == ["&Vault", "&Edit", "Vie&w", "&Audit", "&Help"]
    assert window.lock_action.shortcut().toString() == "Ctrl+L"
    result = window.audit.last_verify
    assert result is not None and result.ok
    assert window.audit.chain_title.text() == "Audit chain intact"
    assert "Last verified" in window.audit.chain_detail.text()
    # The verification itself reached the trail, and the view shows it.
    assert _actions(window)[0] == "verify"


def test_ctrl_l_locks_hides_content_and_relogin_resumes(
    qtbot: QtBot, window: MainWindow, new_vault: NewVault
) -> None:
    session = new_vault.session
    assert window.audit.model.rowCount() > 0
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    other = QDialog(window)
    other.show()

    with qtbot.waitSignal(window.locked_changed):
        qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.locked
    assert not window.audit.isVisible() and window.lock_screen.isVisible()
    assert window.audit.model.rowCount() == 0
    assert not other.isVisible()
    assert window.lock_label.text() == "Locked"
    assert not window.backup_action.isEnabled()
    qtbot.waitUntil(lambda: session.closed)
    assert window.lock_screen.form.username.text() == ADMIN
    assert "on request" in window.lock_screen.reason.text()

    # Ctrl+L again while locked is harmless.
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)

    # A wrong password keeps it locked.
    form = window.lock_screen.form
    qtbot.keyClicks(form.password, "wrong password here")
    qtbot.keyClick(form.password, Qt.Key.Key_Return)
    qtbot.waitUntil(form.login_button.isEnabled, timeout=10_000)
    assert window.locked and form.error.text() == "Wrong username or password."

    _relogin(qtbot, window, ADMIN, ADMIN_PASSWORD)
    assert not window.locked and window.audit.isVisible()
    resumed = window.session
    assert resumed is not None and resumed.session_id != session.session_id
    actions = _actions(window)
    assert "lock" in actions and "login" in actions
    assert window.lock_label.text() == "Unlocked"


def test_relogin_as_another_officer(qtbot: QtBot, window: MainWindow, new_vault: NewVault) -> None:
    add_officer(new_vault.session, AUDITOR, AUDITOR_PASSWORD, [Role.AUDITOR])
    window.lock()
    wait_idle(qtbot, window.worker)
    _relogin(qtbot, window, AUDITOR, AUDITOR_PASSWORD)
    session = window.session
    assert session is not None and session.officer.username == AUDITOR
    assert window.user_label.text() == (f"Logged in: {AUDITOR} (Auditor / professional standards)")
    assert window.audit.model.rowCount() > 0


def test_idle_lock(
    qtbot: QtBot, new_vault: NewVault, worker: DbWorker, keyring_store: DeviceSecretStore
) -> None:
    main = MainWindow(new_vault.session, worker, keyring_store, idle_ms=300)
    qtbot.addWidget(main)
    main.show()
    assert main.idle.running
    qtbot.waitUntil(lambda: main.locked, timeout=5_000)
    assert "without activity" in main.lock_screen.reason.text()
    assert main.audit.model.rowCount() == 0
    qtbot.waitUntil(lambda: new_vault.session.closed, timeout=5_000)
    assert not main.idle.running
    main.close()


def test_input_postpones_the_idle_lock(qtbot: QtBot) -> None:
    field = QLineEdit()
    qtbot.addWidget(field)
    watcher = IdleWatcher(timeout_ms=4_000)
    watcher.start()
    try:
        timer = watcher._timer
        qtbot.waitUntil(lambda: timer.remainingTime() < 3_500)
        qtbot.keyClick(field, Qt.Key.Key_A)
        assert timer.remainingTime() > 3_700
        assert field.text() == "a"  # the filter watches input, it does not eat it
    finally:
        watcher.stop()


def test_backup_from_the_menu(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    dest = tmp_path / "backups"
    dest.mkdir()
    dialogs.set_next_file(dest)
    window.backup_action.trigger()
    qtbot.waitUntil(
        lambda: any(s.title == "Backup complete" for s in dialogs.shown()), timeout=15_000
    )
    written = sorted(p.name for p in dest.iterdir())
    assert len(written) == 2
    message = next(s for s in dialogs.shown() if s.title == "Backup complete")
    assert str(dest) in message.text
    wait_idle(qtbot, window.worker)
    assert "backup" in _actions(window)[:3]


def test_backup_cancelled_does_nothing(window: MainWindow) -> None:
    dialogs.set_next_file(None)
    window.backup_action.trigger()
    assert not window.worker.busy


def test_cim_error_in_a_job_shows_its_message(qtbot: QtBot, worker: DbWorker) -> None:
    def fail() -> None:
        raise InvalidInput("The folder is not writable.")

    worker.run(fail)
    wait_idle(qtbot, worker)
    assert dialogs.shown()[-1] == dialogs.Shown(
        "warning", "Cannot continue", "The folder is not writable."
    )


def test_bug_shows_crash_dialog_without_its_content(
    qtbot: QtBot, worker: DbWorker, tmp_path: Path
) -> None:
    secret = "SOURCE-NAME-Jane-Example"

    def bug() -> None:
        raise RuntimeError(secret)

    worker.run(bug)
    wait_idle(qtbot, worker)
    shown = dialogs.shown()[-1]
    assert shown.kind == "critical" and "Reference: CIM-" in shown.text
    reference = shown.text.split("Reference: ")[1].strip()
    log = tmp_path / "logs" / f"crash-{reference}.log"
    text = log.read_text()
    assert "builtins.RuntimeError" in text and " in bug" in text
    assert secret not in text and secret not in shown.text
    assert crash.log_dir() == tmp_path / "logs"


def test_table_columns_are_the_enum(window: MainWindow) -> None:
    model = window.audit.model
    assert model.columnCount() == len(Column)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in Column]
    assert headers[Column.ACTION] == "Action" and headers[Column.SEQ] == "Seq"
