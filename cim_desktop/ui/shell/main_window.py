"""The main window: menus, status bar, the audit trail, and locking.

Locking hides every piece of content at once (the screen is swapped for the lock screen and
the table model is emptied), closes other windows and dialogs, and hands ``Session.lock`` to
the worker, which records the lock, signs a checkpoint and closes the database after any job
already running. Logging in again, as the same or another officer, starts a new session.

While a session is open the window watches for commits made outside it (``cim`` run while
the application is open): at each activation and every few seconds, through
``ExternalChanges``; screens refresh from what that publishes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMenuBar,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.domain.audit.rows import Action
from cim_desktop.domain.changes import ChangeSet, Kind
from cim_desktop.domain.clock import utc_now
from cim_desktop.domain.officers.roles import AUDIT_READERS, Role
from cim_desktop.errors import CimError
from cim_desktop.ui.audit.screen import AuditScreen
from cim_desktop.ui.kit import clipboard, dialogs
from cim_desktop.ui.kit.changes import ExternalChanges, bus
from cim_desktop.ui.kit.icons import icon
from cim_desktop.ui.kit.operation import Operation
from cim_desktop.ui.kit.settings import OfficerSettings
from cim_desktop.ui.kit.widgets import MarkingBanner
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.shell.idle import DEFAULT_IDLE_MINUTES, IdleWatcher
from cim_desktop.ui.shell.lock_key import LockKey
from cim_desktop.ui.shell.lock_screen import LockScreen
from cim_desktop.ui.shell.menus import Menus
from cim_desktop.ui.shell.workspace import Workspace

if TYPE_CHECKING:
    from cim_desktop.domain.policy.settings import Policy
    from cim_desktop.security.device_secret import DeviceSecretStore
    from cim_desktop.services.session import Session
    from cim_desktop.services.vault.backup import BackupResult

APP_NAME = "cim-desktop"


def roles_text(roles: frozenset[Role]) -> str:
    return ", ".join(r.label for r in Role if r in roles) or "no role"


class MainWindow(QMainWindow):
    locked_changed = Signal(bool)

    def __init__(
        self,
        session: Session,
        worker: DbWorker,
        keyring: DeviceSecretStore | None = None,
        idle_ms: int | None = None,
        page_size: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session: Session | None = None
        self.prefs: OfficerSettings | None = None
        self.worker = worker
        self.root: Path = session.paths.root
        self._last_user = session.officer.username
        self._unit_name = ""
        self._backup_dir: Path | None = None
        # None: the unit's policy sets the idle time (read at each login and policy change).
        self._idle_from_policy = idle_ms is None
        self.idle = IdleWatcher(idle_ms or DEFAULT_IDLE_MINUTES * 60_000, self)
        self.idle.idle.connect(lambda: self.lock("after a period without activity"))

        self.audit = AuditScreen(worker, page_size)
        self.workspace = Workspace(worker, self.audit)
        self.external = ExternalChanges(worker, self)
        bus().changed.connect(self._policy_may_have_changed)
        self.lock_screen = LockScreen(self.root, worker, keyring)
        self.lock_screen.form.unlocked.connect(self._unlocked)
        self.lock_screen.form.recovery_requested.connect(self._open_recovery)
        self._keyring = keyring
        self.stack = QStackedWidget()
        self.stack.addWidget(self.workspace)
        self.stack.addWidget(self.lock_screen)
        self.setCentralWidget(self.stack)

        # The marking sits above the menus, at the very top of the window.
        self.menu_bar = QMenuBar()
        top = QWidget()
        column = QVBoxLayout(top)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(MarkingBanner())
        column.addWidget(self.menu_bar)
        self.setMenuWidget(top)
        self._build_menus()
        self.user_label = QLabel()
        self.unit_label = QLabel()
        self.lock_label = QLabel()
        status = self.statusBar()
        status.setSizeGripEnabled(False)
        status.addPermanentWidget(self.user_label)
        status.addPermanentWidget(self.unit_label)
        status.addPermanentWidget(self.lock_label)
        self.resize(1180, 720)
        self.resume(session)

    def _build_menus(self) -> None:
        vault = self.menu_bar.addMenu("&Vault")
        self.lock_action = QAction(icon("lock"), "&Lock", self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.lock_action.triggered.connect(lambda: self.lock("on request"))
        self.lock_key = LockKey(self.lock_action, self)
        self.backup_action = QAction(icon("database-export"), "&Back up…", self)
        self.backup_action.triggered.connect(self.backup)
        quit_action = QAction(icon("door-exit"), "&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        self.rekey_action = QAction(icon("key"), "Re-&key the vault…", self)
        self.rekey_action.triggered.connect(self.rekey)
        vault.addAction(self.lock_action)
        vault.addAction(self.backup_action)
        vault.addAction(self.rekey_action)
        vault.addSeparator()
        vault.addAction(quit_action)
        self.menus = Menus(self)
        trail = QMenu("&Audit", self.menu_bar)
        self.menu_bar.insertMenu(self.menus.help.menuAction(), trail)
        self.verify_action = QAction(icon("shield-check"), "&Verify chain", self)
        self.verify_action.triggered.connect(lambda: self.audit.verify(announce=True))
        trail.addAction(self.verify_action)
        self._session_actions = (
            self.lock_action,
            self.backup_action,
            self.verify_action,
            self.rekey_action,
            *self.menus.session_actions,
        )

    # -- state ----------------------------------------------------------------------------
    @property
    def locked(self) -> bool:
        return self.session is None

    def _update_chrome(self) -> None:
        session = self.session
        for action in self._session_actions:
            action.setEnabled(session is not None)
        self.verify_action.setEnabled(
            session is not None and any(session.officer.has(r) for r in AUDIT_READERS)
        )
        self.rekey_action.setEnabled(
            session is not None and session.officer.has(Role.ADMINISTRATOR)
        )
        if session is not None:
            unit = self._unit_name = session.unit_name
            # Qt adds the application's name after the title on Windows and X11 unless the
            # title already ends with it: ending with it names the application once everywhere.
            self.setWindowTitle(f"{unit} — {APP_NAME}" if unit else APP_NAME)
            self.unit_label.setText(f"Unit: {unit}")
            self.user_label.setText(
                f"Logged in: {session.officer.username} ({roles_text(session.officer.roles)})"
            )
            self.lock_label.setText("Unlocked")
            self.lock_label.setStyleSheet("color: #1b6e3a; font-weight: bold;")
        else:
            self.user_label.setText("Not logged in")
            self.lock_label.setText("Locked")
            self.lock_label.setStyleSheet("color: #b3261e; font-weight: bold;")

    def _unlocked(self, session: Session) -> None:
        """Logged in again from the lock screen: a temporary password is replaced first."""
        from cim_desktop.ui.account.password_change import gate

        def give_up() -> None:
            Operation(self, self.worker, lambda: session.lock(Action.LOGOUT)).run()

        gate(session, self.worker, self, self.resume, give_up)

    def resume(self, session: Session) -> None:
        """Show the content for a freshly unlocked session, laid out as the officer left it."""
        self.session = session
        self._last_user = session.officer.username
        self.prefs = OfficerSettings(session.officer.id)
        self.prefs.restore_window(self)
        for page in self.workspace.pages:
            self.prefs.restore_layout(page.key, page.widget)
        self.stack.setCurrentWidget(self.workspace)
        self._update_chrome()
        self.workspace.open(session, self.prefs.last_screen())
        self.menus.rebuild_view()
        self.idle.start()
        self._apply_policy(session)
        self.external.start(session)
        self.locked_changed.emit(False)

    def lock(self, why: str = "on request") -> None:
        session = self.session
        if session is None:
            return
        self.session = None
        self.idle.stop()
        self.external.stop()
        self._remember_layout()
        self._close_secondary_windows()
        self.workspace.close_view()
        self.menus.rebuild_view()
        clipboard.guard().clear_now()
        self.stack.setCurrentWidget(self.lock_screen)
        self.lock_screen.prepare(self._last_user, why, utc_now(), self._unit_name)
        self._update_chrome()
        self.statusBar().clearMessage()
        # Not recorded as a change set: the connection closes; the next login reads afresh.
        Operation(self, self.worker, session.lock).run()
        self.locked_changed.emit(True)

    def _remember_layout(self) -> None:
        prefs = self.prefs
        if prefs is None:
            return
        prefs.save_window(self)
        for page in self.workspace.pages:
            prefs.save_layout(page.key, page.widget)
        current = self.workspace.current_key()
        if current is not None:
            prefs.set_last_screen(current)
        prefs.sync()

    def _apply_policy(self, session: Session) -> None:
        """Idle time and clipboard clearing follow the unit's policy."""
        from cim_desktop.services.policy import settings as policy

        def apply(current: Policy) -> None:
            if self._idle_from_policy:
                self.idle.set_timeout(current.number("idle_lock_minutes") * 60_000)
            clipboard.guard().set_seconds(current.number("clipboard_clear_seconds"))

        (
            Operation(self, self.worker, lambda: policy.current(session), session=session)
            .stale("policy")
            .success(lambda current: apply(current) if session is self.session else None)
            .run()
        )

    def _policy_may_have_changed(self, changed: ChangeSet, _initiator: object) -> None:
        if changed.touches({Kind.POLICY}) and self.session is not None:
            self._apply_policy(self.session)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # Coming back to the window is when a change made with ``cim`` should show.
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            self.external.check()

    def _close_secondary_windows(self) -> None:
        dialogs.close_all()
        for widget in QApplication.topLevelWidgets():
            if widget is self or not widget.isVisible():
                continue
            if isinstance(widget, QDialog):
                widget.reject()
            widget.hide()

    # -- commands -------------------------------------------------------------------------
    def backup(self) -> None:
        if self.session is None:
            return
        dest = dialogs.choose_directory(
            self, "Choose the folder for the encrypted backup", self._backup_dir
        )
        session = self.session
        if dest is None or session is None:
            return
        self._backup_dir = dest

        def run() -> BackupResult:
            from cim_desktop.services.vault.backup import create_backup

            return create_backup(session, dest)

        self.backup_action.setEnabled(False)
        self.statusBar().showMessage("Writing the encrypted backup…")
        (
            Operation(self, self.worker, run, session=session)
            .success(self._backed_up)
            .user_errors(self._backup_failed)
            .finally_(lambda: self.backup_action.setEnabled(self.session is not None))
            .run()
        )

    def _backed_up(self, result: BackupResult) -> None:
        # The audit trail learns of the backup from the change set the operation publishes.
        self.statusBar().showMessage("Backup written.", 8000)
        dialogs.information(
            self,
            "Backup complete",
            f"The encrypted backup was written to:\n{result.path}",
            f"Its manifest (counts, schema version and signed checkpoint) is:\n"
            f"{result.manifest_path}\n\nThe backup opens only with an officer's password on "
            "this workstation, or with the recovery code elsewhere. Store it as the unit's "
            "procedure requires.",
        )

    def _backup_failed(self, message: str) -> None:
        self.statusBar().clearMessage()
        dialogs.warning(self, "Backup failed", message)

    def rekey(self) -> None:
        """Vault > Re-key: confirmation, approval, then the work on the worker thread."""
        from cim_desktop.ui.vault.rekey_dialog import RekeyRun

        if self.session is None:
            return
        run = RekeyRun(self, self.session, self.worker)
        self.rekey_run = run
        run.start()

    def _open_recovery(self) -> None:
        from cim_desktop.ui.vault.recovery import RecoveryDialog

        dialog = RecoveryDialog(self.root, self.worker, self._keyring, self)
        dialog.recovered.connect(lambda _n: self.lock_screen.form.show_recovery_route(False))
        dialog.open()

    # -- closing --------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self.idle.stop()
        self.external.stop()
        if self.session is not None:
            self._remember_layout()
        session, self.session = self.session, None
        self.workspace.close_view()
        clipboard.guard().clear_now()
        # Let a queued lock or backup finish before the process may exit.
        self.worker.drain()
        if session is not None and not session.closed:
            try:
                session.lock(Action.LOGOUT)
            except CimError as exc:
                dialogs.warning(self, "Closing the vault", exc.message)
        event.accept()
