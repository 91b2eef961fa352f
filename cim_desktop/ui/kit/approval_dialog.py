"""Two-person approval in the GUI: a second officer types their username and password.

The check is ``services.approval.second_officer`` (their key slot must unwrap; a refusal is
audited). It runs on the worker thread when one is given, so the window keeps painting while
the key is derived. A refusal is shown inside the dialog and the second officer may try again;
``approved`` carries the ``Approval`` for the change's own service call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.errors import CimError
from cim_desktop.services.access import approval
from cim_desktop.ui.kit.operation import Operation
from cim_desktop.ui.kit.widgets import heading, marked_frame, note
from cim_desktop.ui.kit.worker import DbWorker

if TYPE_CHECKING:
    from cim_desktop.domain.officers.roles import Role
    from cim_desktop.services.access.approval import Approval
    from cim_desktop.services.session import Session


class ApprovalDialog(QDialog):
    approved = Signal(object)  # Approval

    def __init__(
        self,
        session: Session,
        roles: frozenset[Role],
        purpose: str,
        summary: str,
        worker: DbWorker | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Second officer's approval — cim-desktop")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self._session = session
        self._roles = roles
        self._purpose = purpose
        self._worker = worker
        self._waiting = False
        self.approval: Approval | None = None

        self.username = QLineEdit()
        self.username.setObjectName("approverUsername")
        self.username.setMaxLength(64)
        self.username.setAccessibleName("Approving officer's username")
        self.password = QLineEdit()
        self.password.setObjectName("approverPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Approving officer's password")
        self.username.returnPressed.connect(self.password.setFocus)
        self.password.returnPressed.connect(self.attempt)
        for field in (self.username, self.password):
            field.setMinimumWidth(240)
            field.textEdited.connect(lambda _t: self.show_error(""))
        self.error = QLabel()
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.hide()
        self.status = note("Checking the approving officer's password…")
        self.status.hide()

        self.approve_button = QPushButton("Approve")
        self.approve_button.setObjectName("primary")
        self.approve_button.setDefault(True)
        buttons = QDialogButtonBox()
        buttons.addButton(self.approve_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.attempt)
        buttons.rejected.connect(self.reject)

        needed = " or ".join(sorted(r.label.lower() for r in roles))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Approving &officer", self.username)
        form.addRow("Their &password", self.password)
        body = QVBoxLayout()
        body.setContentsMargins(28, 20, 28, 22)
        body.setSpacing(10)
        body.addWidget(heading("Second officer's approval"))
        self.summary = note(summary)
        self.summary.setObjectName("steps")
        body.addWidget(self.summary)
        body.addWidget(
            note(
                f"Another active {needed}, not you, types their own username "
                "and password here. Both of your names go into the audit trail."
            )
        )
        body.addLayout(form)
        body.addWidget(self.error)
        body.addWidget(self.status)
        body.addWidget(buttons)
        marked_frame(self, body, 480)
        self.username.setFocus()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def attempt(self) -> None:
        if self._waiting:
            return
        username = self.username.text().strip()
        password = self.password.text()
        if not username or not password:
            self.show_error("Enter the approving officer's username and password.")
            (self.username if not username else self.password).setFocus()
            return
        session, roles, purpose = self._session, self._roles, self._purpose

        def check() -> Approval:
            return approval.second_officer(session, username, password, roles, purpose)

        self.show_error("")
        if self._worker is None:
            try:
                result = check()
            except CimError as exc:  # shown inline, as from the worker; a bug propagates
                self._failed(exc)
                return
            self._succeeded(result)
            return
        self._set_waiting(True)
        # The approver's failed password is audited: the operation publishes that.
        (
            Operation(self, self._worker, check, session=session)
            .success(self._succeeded)
            .handle(self._failed)
            .finally_(lambda: self._set_waiting(False))
            .run()
        )

    def _set_waiting(self, on: bool) -> None:
        self._waiting = on
        for widget in (self.username, self.password, self.approve_button):
            widget.setEnabled(not on)
        self.status.setVisible(on)

    def _succeeded(self, result: Approval) -> None:
        self._set_waiting(False)
        self.password.clear()
        self.approval = result
        self.accept()
        self.approved.emit(result)

    def _failed(self, exc: CimError) -> bool:
        self._set_waiting(False)  # before focusing the field
        self.password.clear()
        self.show_error(exc.message)
        self.password.setFocus()
        return True


def request_approval(
    parent: QWidget | None,
    session: Session,
    roles: frozenset[Role],
    purpose: str,
    summary: str,
    done: Callable[[Approval], None],
    worker: DbWorker | None = None,
) -> ApprovalDialog:
    """Open the approval dialog; ``done(approval)`` runs once a second officer approves.

    Cancelling calls nothing. Pass the screen's ``worker`` so the password check runs off the
    GUI thread (without it the check runs here, which blocks painting for a moment).
    """
    dialog = ApprovalDialog(session, roles, purpose, summary, worker, parent)
    dialog.approved.connect(done)
    dialog.open()
    return dialog
