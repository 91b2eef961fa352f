"""A dialog form with inline errors that saves through the worker, and the helpers the
officer and account dialogs share (dates, asking for a second administrator's approval).

Each form checks what it can before saving and shows every problem under its field; the
service's own refusals land there too, placed by the field their findings name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.domain.clock import utc_now
from cim_desktop.domain.findings import RuleViolation
from cim_desktop.errors import CimError
from cim_desktop.services.officers import management as officers
from cim_desktop.ui.kit import fmt
from cim_desktop.ui.kit.approval_dialog import request_approval
from cim_desktop.ui.kit.operation import Operation
from cim_desktop.ui.kit.widgets import FieldError, form_field, heading, marked_frame, note
from cim_desktop.ui.kit.worker import DbWorker

if TYPE_CHECKING:
    from cim_desktop.services.access.approval import Approval
    from cim_desktop.services.session import Session


def with_approval(
    parent: QWidget,
    session: Session,
    worker: DbWorker,
    purpose: str,
    summary: str,
    then: Callable[[Approval | None], None],
    failed: Callable[[CimError], None] | None = None,
    exclude: frozenset[str] = frozenset(),
) -> None:
    """Ask a second administrator when one could approve; then call ``then(approval)``.

    ``failed`` shows a refusal (a form places its findings by field; else a message box); a
    bug goes to the crash dialog.
    """

    def decided(required: bool) -> None:
        if required:
            request_approval(parent, session, officers.ADMINS, purpose, summary, then, worker)
        else:
            then(None)

    asking = Operation(
        parent, worker, lambda: officers.second_officer_required(session, exclude), session=session
    ).success(decided)
    if failed is not None:
        show = failed

        def handled(exc: CimError) -> bool:
            show(exc)
            return True

        asking.handle(handled)
    asking.run()


def date_edit(day: date | None = None) -> QDateEdit:
    edit = fmt.day_edit(QDateEdit())
    edit.setCalendarPopup(True)
    today = day or utc_now().date()
    edit.setDate(QDate(today.year, today.month, today.day))
    return edit


def day_of(edit: QDateEdit) -> date:
    d = edit.date()
    return date(d.year(), d.month(), d.day())


class FormDialog(QDialog):
    """A fixed-width dialog with a marking, a heading, fields with inline errors and a form
    error, and a primary button that saves through the worker."""

    saved = Signal(object)
    # Findings name the domain's field ("collar_number"); where this form calls it something
    # else, say so here. A field mapped to '' is shown in the form error on top.
    finding_fields: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        title: str,
        intro: str,
        session: Session,
        worker: DbWorker,
        save_text: str,
        parent: QWidget | None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{title} — cim-desktop")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self._session = session
        self._worker = worker
        self._busy = False
        self.errors: dict[str, FieldError] = {}
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setVerticalSpacing(8)
        self.error = QLabel()
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.hide()
        self.save_button = QPushButton(save_text)
        self.save_button.setObjectName("primary")
        self.save_button.setDefault(True)
        buttons = QDialogButtonBox()
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.attempt)
        buttons.rejected.connect(self.reject)
        self.body = QVBoxLayout()
        self.body.setContentsMargins(28, 20, 28, 22)
        self.body.setSpacing(10)
        self.body.addWidget(heading(title))
        if intro:
            self.body.addWidget(note(intro))
        self.body.addLayout(self.form)
        self._tail = QVBoxLayout()
        self.body.addLayout(self._tail)
        self.body.addWidget(self.error)
        self.body.addWidget(buttons)
        marked_frame(self, self.body, 620)

    def add_field(
        self, key: str, label: str, widget: QWidget, hint: str = "", form: QFormLayout | None = None
    ) -> None:
        error = FieldError()
        error.setProperty("field", key)
        self.errors[key] = error
        (form or self.form).addRow(label, form_field(widget, error, hint))
        if isinstance(widget, QLineEdit):
            widget.textEdited.connect(lambda _t: error.clear_error())

    def field_error(self, key: str, message: str) -> None:
        self.errors[key].show_error(message)

    def clear_errors(self) -> None:
        for error in self.errors.values():
            error.clear_error()
        self.error.hide()

    def shown_errors(self) -> dict[str, str]:
        return {k: e.text() for k, e in self.errors.items() if not e.isHidden()}

    def show_problem(self, exc: CimError, fallback: str = "") -> None:
        """Put each finding under the field it names; what names no field of this form goes
        under ``fallback``, else on top. The message text is never parsed for a field."""
        findings = exc.findings if isinstance(exc, RuleViolation) else ()
        rest: list[str] = []
        for finding in findings:
            key = self.finding_fields.get(finding.field, finding.field)
            if key and key in self.errors:
                self.field_error(key, finding.message)
            elif finding.field and key == "":
                self.error.setText(finding.message)
                self.error.show()
            else:
                rest.append(finding.message)
        if not findings:
            rest.append(exc.message)
        if not rest:
            return
        if fallback in self.errors:
            self.field_error(fallback, " ".join(rest))
        else:
            self.error.setText(" ".join(rest))
            self.error.show()

    def checked(self, key: str, check: Callable[[], Any]) -> Any:
        try:
            return check()
        except CimError as exc:
            self.show_problem(exc, key)
            return None

    # -- saving ---------------------------------------------------------------------------
    def attempt(self) -> None:
        if self._busy:
            return
        self.clear_errors()
        self.submit()

    def submit(self) -> None:
        raise NotImplementedError

    def run(self, job: Callable[[], object], fallback: str = "") -> None:
        self._set_busy(True)
        (
            Operation(self, self._worker, job, session=self._session)
            .success(self._done)
            .handle(lambda exc: self._refused(exc, fallback))
            .finally_(lambda: self._set_busy(False))
            .run()
        )

    def _set_busy(self, on: bool) -> None:
        self._busy = on
        self.save_button.setEnabled(not on)

    def _done(self, result: object) -> None:
        self.accept()
        self.saved.emit(result)

    def _refused(self, exc: CimError, fallback: str) -> bool:
        self.failed(exc, fallback)
        return True

    def failed(self, exc: BaseException, fallback: str = "") -> None:
        """Show a refusal under its field (a subclass may choose the field differently).

        Only user errors arrive here: the operation helper sends bugs to the crash dialog."""
        self._set_busy(False)
        assert isinstance(exc, CimError)
        self.show_problem(exc, fallback)
