"""Break-glass: the dialog that opens a record outside one's caseload, and the banner that
shows while such access lasts.

The dialog asks for the officer's password again and a written justification; the service
checks both, records the grant and puts it in the controllers' review queue. The banner
counts down from the grant's expiry on the application clock and disappears when it ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QHideEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.domain.access import rules
from cim_desktop.domain.clock import utc_now
from cim_desktop.domain.policy.settings import Policy
from cim_desktop.domain.sources.model import BreakGlassGrant
from cim_desktop.errors import CimError, InvalidInput, WrongCredentials
from cim_desktop.services.access import permissions as access
from cim_desktop.ui.kit.operation import Operation
from cim_desktop.ui.kit.widgets import FieldError, form_field, heading, marked_frame, note
from cim_desktop.ui.kit.worker import DbWorker

if TYPE_CHECKING:
    from cim_desktop.services.session import Session

BANNER_STYLE = """
QFrame#breakGlassBanner { background: #fdecea; border: 2px solid #b3261e; border-radius: 4px; }
QLabel#breakGlassText { color: #7a1712; font-weight: bold; }
"""


class BreakGlassDialog(QDialog):
    """Emits ``granted(BreakGlassGrant)`` and closes once access is granted."""

    granted = Signal(object)

    def __init__(
        self,
        worker: DbWorker,
        session: Session,
        urn: str,
        policy: Policy | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        # The caller passes the policy in force: reading it here could touch the database on
        # the GUI thread while the worker is busy. The service checks the same values again.
        policy = policy or Policy.defaults()
        self._worker = worker
        self._session = session
        self.urn = urn
        self.minimum = policy.number("break_glass_min_justification")
        minutes = rules.grant_minutes(policy)
        self.setWindowTitle("Break-glass access — cim-desktop")

        warning = QLabel(
            f"{urn} is outside your caseload. If you open it, your access and your "
            f"justification are recorded, the access ends after {minutes} minutes, and a "
            "controller reviews it. The source's identity stays sealed."
        )
        warning.setObjectName("instruction")
        warning.setWordWrap(True)
        self.justification = QPlainTextEdit()
        self.justification.setAccessibleName("Justification")
        self.justification.setPlaceholderText("Why you need this record now, and for what")
        self.justification.setFixedHeight(90)
        self.justification.textChanged.connect(self._justification_changed)
        self.counter = note("")
        self.justification_error = FieldError()
        self.password_error = FieldError()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Your password")
        self.password.textEdited.connect(lambda _t: self.password_error.clear_error())
        self.password.returnPressed.connect(self.attempt)
        self.error = QLabel()
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.hide()
        self.status = note("Checking your password…")
        self.status.hide()

        buttons = QDialogButtonBox()
        self.open_button = QPushButton("Open the record")
        self.open_button.setObjectName("primary")
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.attempt)
        buttons.rejected.connect(self.reject)

        body = QVBoxLayout()
        body.setContentsMargins(28, 20, 28, 22)
        body.setSpacing(8)
        body.addWidget(heading(f"Break-glass access to {urn}"))
        body.addWidget(warning)
        body.addSpacing(4)
        body.addWidget(QLabel("Justification"))
        body.addWidget(self.justification)
        body.addWidget(self.counter)
        body.addWidget(self.justification_error)
        body.addWidget(QLabel("Re-enter your password"))
        body.addWidget(form_field(self.password, self.password_error))
        body.addWidget(self.error)
        body.addWidget(self.status)
        body.addWidget(buttons)
        marked_frame(self, body, 560)
        self._justification_changed()

    def _justification_changed(self) -> None:
        length = len(" ".join(self.justification.toPlainText().split()))
        self.counter.setText(f"{length} characters (at least {self.minimum})")
        if length >= self.minimum:
            self.justification_error.clear_error()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def attempt(self) -> None:
        if not self.open_button.isEnabled():
            return
        text = self.justification.toPlainText()
        password = self.password.text()
        self.show_error("")
        length = len(" ".join(text.split()))
        problems = False
        if length < self.minimum:
            self.justification_error.show_error(
                f"Write at least {self.minimum} characters ({length} so far)."
            )
            problems = True
        if not password:
            self.password_error.show_error("Re-enter your password.")
            problems = True
        if problems:
            return
        # The password leaves the widget at once; a retry means typing it again.
        self.password.clear()
        session, urn = self._session, self.urn
        self._set_waiting(True)
        # The grant (and a refusal's audit row) is published: the banner and the review queue
        # follow from the change set.
        (
            Operation(
                self,
                self._worker,
                lambda: access.break_glass(session, urn, password, text),
                session=session,
            )
            .success(self._succeeded)
            .handle(self._failed)
            .finally_(lambda: self._set_waiting(False))
            .run()
        )

    def _set_waiting(self, on: bool) -> None:
        for widget in (self.justification, self.password, self.open_button):
            widget.setEnabled(not on)
        self.status.setVisible(on)

    def _succeeded(self, grant: BreakGlassGrant) -> None:
        self.granted.emit(grant)
        self.accept()

    def _failed(self, exc: CimError) -> bool:
        self._set_waiting(False)  # before focusing a field
        if isinstance(exc, WrongCredentials):
            self.password_error.show_error(
                "Wrong password. Failed attempts count towards locking your account."
            )
            self.password.setFocus()
        elif isinstance(exc, InvalidInput) and "justification" in exc.message:
            self.justification_error.show_error(exc.message)
        else:
            self.show_error(exc.message)
        return True

    def _forget(self) -> None:
        self.password.clear()
        self.justification.clear()

    def done(self, result: int) -> None:
        # Closing for any reason (including the idle lock) drops what was typed.
        self._forget()
        super().done(result)

    def hideEvent(self, event: QHideEvent) -> None:
        self.password.clear()
        super().hideEvent(event)


class BreakGlassBanner(QFrame):
    """Shows each break-glass grant in force and the time it has left; hides when none."""

    expired = Signal(str)  # grant id

    def __init__(self, parent: QWidget | None = None, tick_ms: int = 1000) -> None:
        super().__init__(parent)
        self.setObjectName("breakGlassBanner")
        self.setStyleSheet(BANNER_STYLE)
        self._grants: dict[str, BreakGlassGrant] = {}
        self.text = QLabel()
        self.text.setObjectName("breakGlassText")
        self.text.setWordWrap(True)
        self.text.setAccessibleName("Break-glass access in force")
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 6, 12, 6)
        row.addWidget(self.text, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self.refresh)
        self.hide()

    @property
    def grants(self) -> list[BreakGlassGrant]:
        return list(self._grants.values())

    def add(self, grant: BreakGlassGrant) -> None:
        self._grants[grant.id] = grant
        self.refresh()

    def set_grants(self, grants: list[BreakGlassGrant]) -> None:
        self._grants = {g.id: g for g in grants}
        self.refresh()

    def clear(self) -> None:
        """Forget every grant (the vault is locking or another officer logs in)."""
        self._grants.clear()
        self.refresh()

    def refresh(self) -> None:
        now = utc_now()
        for grant in [g for g in self._grants.values() if not g.active(now)]:
            del self._grants[grant.id]
            self.expired.emit(grant.id)
        if not self._grants:
            self._timer.stop()
            self.text.clear()
            self.hide()
            return
        parts = [
            f"{g.urn} ({_left(g.seconds_left(now))} left)"
            for g in sorted(self._grants.values(), key=lambda g: g.expires_at)
        ]
        self.text.setText(
            "BREAK-GLASS ACCESS IN FORCE: "
            + "; ".join(parts)
            + ". Recorded, and reviewed by a controller."
        )
        self.show()
        if not self._timer.isActive():
            self._timer.start()


def _left(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"
