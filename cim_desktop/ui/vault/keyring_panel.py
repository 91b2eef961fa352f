"""The keyring check the wizard and the login window make before anyone types anything.

A workstation without a usable keyring can neither create nor open a vault, so the question
is asked first, on the worker thread (importing the keyring and asking D-Bus must not hold up
the first window). The panel stays hidden while the keyring works; otherwise it shows the
plain message from ``security/keyring_check.py`` and a "Check again" button for after the
user has set the keyring up or unlocked it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from cim_desktop.ui.kit.operation import Operation
from cim_desktop.ui.kit.worker import DbWorker

if TYPE_CHECKING:
    from cim_desktop.security.device_secret import DeviceSecretStore


def _problem_text(keyring: DeviceSecretStore | None) -> str | None:
    from cim_desktop.security import keyring_check
    from cim_desktop.security.device_secret import DeviceSecretStore

    problem = (keyring or DeviceSecretStore()).problem()
    return None if problem is None else keyring_check.message(problem)


class KeyringPanel(QWidget):
    """Emits ``checked(bool)``: True when the keyring can hold the device secret."""

    checked = Signal(bool)

    def __init__(
        self,
        worker: DbWorker,
        keyring: DeviceSecretStore | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("keyringPanel")
        self._worker = worker
        self._keyring = keyring
        self.checking = False
        self.usable: bool | None = None  # None until the first answer
        self.message = QLabel()
        self.message.setObjectName("formError")
        self.message.setWordWrap(True)
        self.check_again_button = QPushButton("Check again")
        self.check_again_button.setObjectName("checkKeyringAgain")
        self.check_again_button.clicked.connect(self.check)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addStretch(1)
        row.addWidget(self.check_again_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.message)
        layout.addLayout(row)
        self.hide()

    def check(self) -> None:
        if self.checking:
            return
        self.checking = True
        self.check_again_button.setEnabled(False)
        keyring = self._keyring
        (
            Operation(self, self._worker, lambda: _problem_text(keyring))
            .success(self._answered)
            .finally_(self._settled)
            .run()
        )

    def _settled(self) -> None:
        # Also after a failed check (a bug, sent to the crash dialog): the user may try again.
        self.checking = False
        self.check_again_button.setEnabled(True)

    def show_problem(self, text: str) -> None:
        """Show a keyring problem found elsewhere (an unlock that met one)."""
        self._answered(text)

    def _answered(self, problem: str | None) -> None:
        self.checking = False
        self.check_again_button.setEnabled(True)
        self.usable = problem is None
        self.message.setText(problem or "")
        self.setVisible(problem is not None)
        if problem is not None:  # the one thing left to do, for keyboard users too
            self.check_again_button.setFocus()
        self.checked.emit(self.usable)
