"""Changing one's own password: the form (also on the My account screen) and the dialog
that forces the change right after a login with a temporary password.

The change runs on the worker (two key derivations): the current password must unwrap the
officer's slot, which is then re-wrapped under the new one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.domain.officers.passwords import MIN_LENGTH, check_new_password
from cim_desktop.errors import CimError
from cim_desktop.services.officers import accounts
from cim_desktop.ui.kit.operation import Operation
from cim_desktop.ui.kit.widgets import FieldError, form_field, heading, marked_frame, note
from cim_desktop.ui.kit.worker import DbWorker

if TYPE_CHECKING:
    from cim_desktop.services.session import Session


def _password_field(name: str, accessible: str) -> QLineEdit:
    field = QLineEdit()
    field.setObjectName(name)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setAccessibleName(accessible)
    field.setMinimumWidth(260)
    return field


class PasswordChangeForm(QWidget):
    """Current password, new password twice; emits ``changed`` once the slot is re-wrapped."""

    changed = Signal()

    def __init__(
        self,
        worker: DbWorker,
        submit_text: str = "Change password",
        current_label: str = "&Current password",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._session: Session | None = None
        self._waiting = False
        self.current = _password_field("currentPassword", "Current password")
        self.new = _password_field("newPassword", "New password")
        self.repeat = _password_field("repeatPassword", "Repeat the new password")
        self.current_error, self.new_error, self.repeat_error = (
            FieldError(),
            FieldError(),
            FieldError(),
        )
        self.error = QLabel()
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.hide()
        self.status = note("Re-sealing your key…")
        self.status.hide()
        self.submit = QPushButton(submit_text)
        self.submit.setObjectName("primary")
        self.submit.clicked.connect(self.attempt)
        self.current.returnPressed.connect(self.new.setFocus)
        self.new.returnPressed.connect(self.repeat.setFocus)
        self.repeat.returnPressed.connect(self.attempt)
        for field, error in (
            (self.current, self.current_error),
            (self.new, self.new_error),
            (self.repeat, self.repeat_error),
        ):
            field.textEdited.connect(lambda _t, e=error: e.clear_error())

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(8)
        form.addRow(current_label, form_field(self.current, self.current_error))
        form.addRow(
            "&New password",
            form_field(
                self.new, self.new_error, f"At least {MIN_LENGTH} characters, not your username."
            ),
        )
        form.addRow("&Repeat new password", form_field(self.repeat, self.repeat_error))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.status)
        buttons.addWidget(self.submit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

    def set_session(self, session: Session | None) -> None:
        self._session = session
        self.clear()

    def clear(self) -> None:
        for field in (self.current, self.new, self.repeat):
            field.clear()
        for error in (self.current_error, self.new_error, self.repeat_error):
            error.clear_error()
        self.show_error("")
        self._set_waiting(False)

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def validate(self) -> bool:
        """Check what can be checked here; show each problem under its field."""
        session = self._session
        ok = True
        current, new, repeat = self.current.text(), self.new.text(), self.repeat.text()
        self.show_error("")
        if not current:
            self.current_error.show_error("Enter your current password.")
            ok = False
        try:
            check_new_password(new, session.officer.username if session else "")
        except CimError as exc:
            self.new_error.show_error(exc.message)
            ok = False
        else:
            if new == current:
                self.new_error.show_error("The new password must differ from the current one.")
                ok = False
        if repeat != new:
            self.repeat_error.show_error("The two new passwords do not match.")
            ok = False
        return ok

    def attempt(self) -> None:
        session = self._session
        if self._waiting or session is None or not self.validate():
            return
        current, new = self.current.text(), self.new.text()
        self._set_waiting(True)
        (
            Operation(
                self,
                self._worker,
                lambda: accounts.change_password(session, current, new),
                session=session,
            )
            .success(self._succeeded)
            .handle(self._refused)
            .finally_(lambda: self._set_waiting(False))
            .run()
        )

    def _set_waiting(self, on: bool) -> None:
        self._waiting = on
        for widget in (self.current, self.new, self.repeat, self.submit):
            widget.setEnabled(not on)
        self.status.setVisible(on)

    def _succeeded(self, _result: object) -> None:
        self.clear()
        self.changed.emit()

    def _refused(self, exc: CimError) -> bool:
        self.current.clear()
        if exc.message.startswith("Current password:"):
            self.current_error.show_error(exc.message.removeprefix("Current password: "))
            self.current.setFocus()
        else:
            self.show_error(exc.message)
        return True


class PasswordChangeDialog(QDialog):
    """Shown after a login with a temporary password, before anything else."""

    password_changed = Signal(object)  # the session, now with the officer's own password
    gave_up = Signal()  # logged out (or closed the dialog) instead

    def __init__(self, session: Session, worker: DbWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Choose your password — cim-desktop")
        self.setWindowModality(
            Qt.WindowModality.WindowModal
            if parent is not None
            else Qt.WindowModality.ApplicationModal
        )
        self.form = PasswordChangeForm(worker, "Set my password", "&Temporary password")
        self.form.set_session(session)
        self.form.changed.connect(self._changed)
        self.logout_button = QPushButton("Log out")
        self.logout_button.clicked.connect(self.reject)
        self._settled = False
        row = QHBoxLayout()
        row.addWidget(self.logout_button)
        row.addStretch(1)

        body = QVBoxLayout()
        body.setContentsMargins(28, 20, 28, 22)
        body.setSpacing(10)
        body.addWidget(heading("Choose your own password"))
        body.addWidget(
            note(
                f"You logged in as {session.officer.username} with a temporary password that an "
                "administrator set. Choose your own now: nothing else opens until you do. Only "
                "you will know it."
            )
        )
        body.addSpacing(4)
        body.addWidget(self.form)
        body.addLayout(row)
        marked_frame(self, body, 560)
        self.form.current.setFocus()

    # What comes next is shown before this dialog hides: hiding the last window on screen
    # would end the application.
    def _changed(self) -> None:
        self._settled = True
        self.password_changed.emit(self.session)
        self.accept()

    def reject(self) -> None:
        if not self._settled:
            self._settled = True
            self.gave_up.emit()
        super().reject()


def gate(
    session: Session,
    worker: DbWorker,
    parent: QWidget | None,
    proceed: Callable[[Session], object],
    give_up: Callable[[], object],
) -> PasswordChangeDialog | None:
    """Call ``proceed(session)`` at once, or after the officer replaces a temporary password.

    If they log out instead, ``give_up()`` runs; the caller closes the session.
    """
    if not session.officer.must_change_password:
        proceed(session)
        return None
    dialog = PasswordChangeDialog(session, worker, parent)
    dialog.password_changed.connect(proceed)
    dialog.gave_up.connect(give_up)
    dialog.open()
    return dialog
