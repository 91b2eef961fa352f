"""From start-up to the main window: the first-run wizard or the login dialog, then the
main window, all sharing one worker thread."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QWidget

from cim_desktop.services.vault.paths import VaultPaths
from cim_desktop.ui.kit.worker import DbWorker

if TYPE_CHECKING:
    from cim_desktop.security.device_secret import DeviceSecretStore
    from cim_desktop.services.session import Session
    from cim_desktop.ui.shell.main_window import MainWindow


def _warm_imports() -> None:
    # Loaded while the officer types, so the first login does not wait for them.
    import cim_desktop.services.vault.lifecycle  # noqa: F401


class AppFlow(QObject):
    quit_requested = Signal()

    def __init__(
        self,
        root: Path,
        keyring: DeviceSecretStore | None = None,
        idle_ms: int | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.root = root
        self.keyring = keyring
        self.idle_ms = idle_ms
        self.worker = DbWorker(self)
        self.first_window: QWidget | None = None
        self.main_window: MainWindow | None = None
        self.password_dialog: QDialog | None = None

    def start(self) -> QWidget:
        """Show the wizard (no vault here yet) or the login dialog, and return it."""
        window: QWidget
        if VaultPaths(self.root).exists():
            from cim_desktop.ui.vault.login import LoginDialog

            login = LoginDialog(self.root, self.worker, self.keyring)
            login.logged_in.connect(self._logged_in)
            login.rejected.connect(self.quit_requested)
            window = login
        else:
            from cim_desktop.ui.vault.first_run import FirstRunWizard

            wizard = FirstRunWizard(self.root, self.worker, self.keyring)
            wizard.completed.connect(self.open_main)
            wizard.rejected.connect(self.quit_requested)
            window = wizard
        self.first_window = window
        window.show()
        return window

    def warm_up(self) -> None:
        # Not vault work and nothing to report: the one plain worker call outside ui/kit.
        self.worker.run(_warm_imports)

    def _logged_in(self, session: Session) -> None:
        """A temporary password is replaced before the main window opens."""
        from cim_desktop.ui.account.password_change import gate

        self.password_dialog = gate(
            session, self.worker, None, self.open_main, lambda: self._gave_up(session)
        )

    def _gave_up(self, session: Session) -> None:
        from cim_desktop.domain.audit.rows import Action
        from cim_desktop.ui.kit.operation import Operation

        Operation(None, self.worker, lambda: session.lock(Action.LOGOUT)).run()
        self.start()

    def open_main(self, session: Session) -> MainWindow:
        from cim_desktop.ui.shell.main_window import MainWindow

        window = MainWindow(session, self.worker, self.keyring, self.idle_ms)
        self.main_window = window
        window.show()
        return window

    def shutdown(self) -> None:
        """Log out of any open session and stop the worker thread."""
        if self.main_window is not None:
            self.main_window.close()
        self.worker.stop()
