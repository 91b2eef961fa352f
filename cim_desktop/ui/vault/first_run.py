"""The first-run wizard: name the unit, create the first administrator, record the code.

The recovery code is shown on one page only, once: there is no way back to that page, it
cannot be selected with the mouse, and copying it needs the explicit button (the clipboard
is cleared again after a few seconds). It must be typed back before the vault opens.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.domain.officers.passwords import check_new_password
from cim_desktop.errors import CimError, RecoveryCodeInvalid
from cim_desktop.security import recovery_code
from cim_desktop.ui.kit import dialogs
from cim_desktop.ui.kit.widgets import (
    FieldError,
    MarkingBanner,
    heading,
    note,
)
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.vault.first_run_pages import WizardPages
from cim_desktop.ui.vault.keyring_panel import KeyringPanel

if TYPE_CHECKING:
    from cim_desktop.security.device_secret import DeviceSecretStore
    from cim_desktop.services.session import Session

CLIPBOARD_CLEAR_MS = 10_000


class FirstRunWizard(WizardPages):
    """Emits ``completed(Session)`` when the administrator has confirmed the recovery code."""

    completed = Signal(object)

    def __init__(
        self,
        root: Path,
        worker: DbWorker,
        keyring: DeviceSecretStore | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Set up the vault — cim-desktop")
        self.root = root
        self._worker = worker
        self._keyring = keyring
        self._code = ""
        self.session: Session | None = None
        self._creating = False
        self._finished = False
        # Nothing can be typed until the keyring is known to work: without it the vault
        # cannot be created, and finding out after every step was the old defect.
        self.keyring_panel = KeyringPanel(worker, keyring)
        self.keyring_panel.checked.connect(self._keyring_checked)
        self._clipboard_timer = QTimer(self)
        self._clipboard_timer.setSingleShot(True)
        self._clipboard_timer.timeout.connect(self._clear_clipboard)

        self.pages = QStackedWidget()
        self.pages.addWidget(self._unit_page())
        self.pages.addWidget(self._admin_page())
        self.pages.addWidget(self._code_page())
        self.pages.addWidget(self._confirm_page())

        self.step_label = QLabel()
        self.step_label.setObjectName("note")
        self.title_label = heading("")
        self.subtitle_label = note("")
        header = QFrame()
        header.setObjectName("header")
        header_box = QVBoxLayout(header)
        header_box.setContentsMargins(28, 16, 28, 16)
        header_box.setSpacing(4)
        header_box.addWidget(self.step_label)
        header_box.addWidget(self.title_label)
        header_box.addWidget(self.subtitle_label)

        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.back_button = QPushButton("Back")
        self.back_button.clicked.connect(self.back)
        self.next_button = QPushButton("Next")
        self.next_button.setObjectName("primary")
        self.next_button.setDefault(True)
        self.next_button.clicked.connect(self.next)
        self.busy_label = note("")
        footer = QHBoxLayout()
        footer.setContentsMargins(28, 10, 28, 18)
        footer.addWidget(self.cancel_button)
        footer.addStretch(1)
        footer.addWidget(self.busy_label)
        footer.addWidget(self.back_button)
        footer.addWidget(self.next_button)

        body = QVBoxLayout()
        body.setContentsMargins(28, 20, 28, 8)
        body.addWidget(self.pages)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(MarkingBanner())
        outer.addWidget(header)
        outer.addLayout(body, 1)
        outer.addLayout(footer)
        self.resize(760, 600)
        self._show_page(self.UNIT)
        self.unit_name.setEnabled(False)
        self.busy_label.setText("Checking this workstation's keyring…")
        self.keyring_panel.check()

    # -- navigation -----------------------------------------------------------------------
    @property
    def current(self) -> int:
        return self.pages.currentIndex()

    def _show_page(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        title, subtitle = self._STEPS[index]
        self.step_label.setText(f"STEP {index + 1} OF {len(self._STEPS)}")
        self.title_label.setText(title)
        self.subtitle_label.setText(subtitle)
        focus = {
            self.UNIT: self.unit_name,
            self.ADMIN: self.admin_username,
            self.CODE: self.recorded,
            self.CONFIRM: self.typed_code,
        }[index]
        focus.setFocus()
        self._update_buttons()

    def _update_buttons(self) -> None:
        index = self.current
        self.back_button.setVisible(index == self.ADMIN)
        self.back_button.setEnabled(not self._creating)
        self.cancel_button.setEnabled(not self._creating)
        self.next_button.setText(
            {
                self.UNIT: "Next",
                self.ADMIN: "Create the vault",
                self.CODE: "Next",
                self.CONFIRM: "Confirm and open",
            }[index]
        )
        self.next_button.setEnabled(
            not self._creating
            and self.keyring_panel.usable is True
            and (index != self.CODE or self.recorded.isChecked())
        )

    def back(self) -> None:
        if self.current == self.ADMIN and not self._creating:
            self._show_page(self.UNIT)

    def next(self) -> None:
        if not self.next_button.isEnabled():
            return
        index = self.current
        if index == self.UNIT and self._check_unit():
            self._show_page(self.ADMIN)
        elif index == self.ADMIN and self._check_admin():
            self._create()
        elif index == self.CODE and self.recorded.isChecked():
            self._clear_clipboard()
            self.code_label.clear()
            self._show_page(self.CONFIRM)
        elif index == self.CONFIRM:
            self._confirm()

    # -- checks ---------------------------------------------------------------------------
    def _keyring_checked(self, usable: bool) -> None:
        self.busy_label.setText("")
        self.unit_name.setEnabled(usable)
        self._update_buttons()
        if usable and self.current == self.UNIT:
            self.unit_name.setFocus()

    def _check_unit(self) -> bool:
        name = self.unit_name.text().strip()
        self.unit_error.show_error("" if name else "Enter the unit's name.")
        if not name:
            self.unit_name.setFocus()
        return bool(name)

    def _check_admin(self) -> bool:
        from cim_desktop.security.slotfile import check_username

        self.admin_error.hide()
        errors: list[tuple[QLineEdit, FieldError, str]] = []
        username = self.admin_username.text()
        try:
            check_username(username)
        except CimError as exc:
            errors.append((self.admin_username, self.username_error, exc.message))
        password = self.admin_password.text()
        try:
            check_new_password(password, username)
        except CimError as exc:
            errors.append((self.admin_password, self.password_error, exc.message))
        else:
            # Only once the password itself is acceptable does a mismatch mean anything.
            if self.admin_confirm.text() != password:
                errors.append(
                    (self.admin_confirm, self.confirm_error, "The two passwords are not the same.")
                )
        for error in (
            self.username_error,
            self.display_error,
            self.password_error,
            self.confirm_error,
        ):
            error.clear_error()
        for _, error, message in errors:
            error.show_error(message)
        if errors:
            errors[0][0].setFocus()
        return not errors

    # -- creating the vault ---------------------------------------------------------------
    def _create(self) -> None:
        root, keyring = self.root, self._keyring
        unit = self.unit_name.text().strip()
        username = self.admin_username.text().strip()
        password = self.admin_password.text()
        display = self.admin_display.text().strip()

        def create() -> tuple[Session, str]:
            from cim_desktop.services.vault.lifecycle import create_vault

            made = create_vault(
                root,
                unit_name=unit,
                admin_username=username,
                admin_password=password,
                admin_display_name=display,
                keyring=keyring,
            )
            return made.session, made.recovery_code

        from cim_desktop.ui.kit.operation import Operation  # not needed before set-up

        self._set_creating(True)
        # No session until the vault exists: nothing to publish. Bugs reach the crash dialog.
        (
            Operation(self, self._worker, create)
            .success(self._created)
            .user_errors(self._create_failed)
            .finally_(lambda: self._set_creating(False) if self._creating else None)
            .run()
        )

    def _set_creating(self, on: bool) -> None:
        self._creating = on
        self.busy_label.setText("Creating the encrypted vault…" if on else "")
        for field in (
            self.admin_username,
            self.admin_display,
            self.admin_password,
            self.admin_confirm,
        ):
            field.setEnabled(not on)
        if on:
            self.setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.unsetCursor()
        self._update_buttons()

    def _created(self, made: tuple[Session, str]) -> None:
        self.session, self._code = made
        self.admin_password.clear()
        self.admin_confirm.clear()
        self._set_creating(False)
        groups = self._code.split("-")
        half = len(groups) // 2
        self.code_label.setText("   ".join(groups[:half]) + "\n" + "   ".join(groups[half:]))
        self._show_page(self.CODE)

    def _create_failed(self, message: str) -> None:
        self._set_creating(False)
        self.admin_error.setText(message)
        self.admin_error.show()

    # -- the recovery code ----------------------------------------------------------------
    def copy_code(self) -> None:
        if not self._code:
            return
        QGuiApplication.clipboard().setText(self._code)
        self.copy_note.setText(
            f"Copied. The clipboard is cleared in {CLIPBOARD_CLEAR_MS // 1000} seconds."
        )
        self._clipboard_timer.start(CLIPBOARD_CLEAR_MS)

    def print_code(self) -> None:
        from cim_desktop.ui.vault import code_print

        if not self._code:
            return
        if code_print.print_code(self, self._code, self.unit_name.text().strip()):
            self.copy_note.setText("Sent to the printer. Collect the sheet at once.")

    def _clear_clipboard(self) -> None:
        self._clipboard_timer.stop()
        clipboard = QGuiApplication.clipboard()
        if self._code and clipboard.text() == self._code:
            clipboard.clear()
        self.copy_note.setText("")

    def _confirm(self) -> None:
        try:
            typed = recovery_code.normalise(self.typed_code.text())
        except RecoveryCodeInvalid as exc:
            self.typed_error.show_error(exc.message)
            return
        if typed != self._code:
            wrong = next(
                i
                for i, (a, b) in enumerate(
                    zip(typed.split("-"), self._code.split("-"), strict=True)
                )
                if a != b
            )
            self.typed_error.show_error(
                f"Group {wrong + 1} does not match the recovery code that was shown. "
                "Check your written copy."
            )
            return
        session = self.session
        assert session is not None
        self._code = ""
        self._finished = True
        self.typed_code.clear()
        self.completed.emit(session)
        self.accept()

    # -- leaving early --------------------------------------------------------------------
    def typed_anything(self) -> bool:
        fields = (
            self.unit_name,
            self.admin_username,
            self.admin_display,
            self.admin_password,
            self.admin_confirm,
        )
        return any(field.text() for field in fields)

    def reject(self) -> None:
        if self._creating:
            return
        # Escape and Cancel sit close to fingers: ask before throwing typing away.
        if (
            self.session is None
            and self.typed_anything()
            and not dialogs.question(
                self,
                "Discard what you typed?",
                "The vault has not been created yet. Leaving now discards the unit name and "
                "the administrator's details you typed.",
                yes="Discard and leave",
                no="Stay",
            )
        ):
            return
        if not self._finished and self.session is not None and not self.session.closed:
            if not dialogs.question(
                self,
                "Leave set-up?",
                "The vault has been created, but the recovery code has not been confirmed. "
                "It cannot be shown again. Leave set-up anyway?",
                yes="Leave set-up",
                no="Stay",
            ):
                return
            self._clear_clipboard()
            self._code = ""
            self.session.lock()
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing the window is cancelling; reject() decides whether that is allowed.
        event.ignore()
        self.reject()
