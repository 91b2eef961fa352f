"""Opening the vault with the recovery code when this workstation's keyring has no entry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.errors import CimError
from cim_desktop.security import recovery_code
from cim_desktop.ui.kit import dialogs
from cim_desktop.ui.kit.widgets import heading, marked_frame, mono_font, note
from cim_desktop.ui.kit.worker import DbWorker

if TYPE_CHECKING:
    from cim_desktop.security.device_secret import DeviceSecretStore


class RecoveryDialog(QDialog):
    """Emits ``recovered(slots_rewrapped)`` and closes once the vault is re-seated."""

    recovered = Signal(int)

    def __init__(
        self,
        root: Path,
        worker: DbWorker,
        keyring: DeviceSecretStore | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recover with recovery code — cim-desktop")
        self._root = root
        self._worker = worker
        self._keyring = keyring

        self.code = QLineEdit()
        self.code.setObjectName("recoveryCodeInput")
        self.code.setFont(mono_font(13))
        self.code.setPlaceholderText("XXXXXX-XXXXXX-XXXXXX-XXXXXX-XXXXXX-XXXXXX-XXXXXX-XXXXXX")
        self.code.setAccessibleName("Recovery code")
        self.error = QLabel()
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.hide()
        self.code.returnPressed.connect(self.attempt)
        self.code.textEdited.connect(lambda _text: self.error.hide())
        self.status = note("Opening the vault with the recovery code…")
        self.status.hide()

        buttons = QDialogButtonBox()
        self.recover_button = QPushButton("Recover")
        self.recover_button.setObjectName("primary")
        self.recover_button.setDefault(True)
        buttons.addButton(self.recover_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.attempt)
        buttons.rejected.connect(self.reject)

        body = QVBoxLayout()
        body.setContentsMargins(28, 20, 28, 24)
        body.setSpacing(10)
        body.addWidget(heading("Recover with the recovery code"))
        body.addWidget(
            note(
                "Use this when this workstation's keyring no longer holds the vault's device "
                "secret: a new or rebuilt workstation, or a reset keyring. Take the recovery code "
                "from the sealed recovery sheet, under the unit's two-person procedure."
            )
        )
        body.addWidget(
            note(
                "A new device secret is stored in this workstation's keyring and every officer "
                "account is re-sealed with it. Passwords do not change. The recovery is recorded "
                "in the audit trail."
            )
        )
        body.addSpacing(6)
        body.addWidget(QLabel("Recovery code (the dashes are optional):"))
        body.addWidget(self.code)
        body.addWidget(self.error)
        body.addWidget(self.status)
        body.addStretch(1)
        body.addWidget(buttons)
        marked_frame(self, body, 640)

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def attempt(self) -> None:
        if not self.recover_button.isEnabled():
            return
        try:
            code = recovery_code.normalise(self.code.text())
        except CimError as exc:
            # Named group errors before any slow derivation runs.
            self.show_error(exc.message)
            return
        root, keyring = self._root, self._keyring

        def recover() -> int:
            from cim_desktop.services.vault import recovery

            return recovery.recover(root, code, keyring)

        from cim_desktop.ui.kit.operation import Operation  # not needed before a login

        self.show_error("")
        self._set_waiting(True)
        # No session: the vault is not open. A bug still reaches the crash dialog.
        (
            Operation(self, self._worker, recover)
            .success(self._succeeded)
            .user_errors(self.show_error)
            .finally_(lambda: self._set_waiting(False))
            .run()
        )

    def _set_waiting(self, on: bool) -> None:
        self.code.setEnabled(not on)
        self.recover_button.setEnabled(not on)
        self.status.setVisible(on)
        if on:
            self.setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.unsetCursor()

    def _succeeded(self, rewrapped: int) -> None:
        self._set_waiting(False)
        self.code.clear()
        dialogs.information(
            self,
            "Vault recovered",
            "The vault was opened with the recovery code and re-sealed to this workstation.",
            f"{rewrapped} officer account(s) were re-sealed. Log in with your usual username "
            "and password. Return the recovery sheet to its sealed custody.",
        )
        self.recovered.emit(rewrapped)
        self.accept()
