"""The audit trail screen: chain status, filters and the paged table.

Database reads here run on the GUI thread only while the worker is idle (they are single
keyset pages, well under a millisecond); anything asked for while it is busy is done as soon
as it is idle again. Verification runs on the worker.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.errors import CimError, PermissionDenied
from cim_desktop.services.audit import trail as audit
from cim_desktop.services.officers import accounts
from cim_desktop.ui.audit.model import AuditTableModel, Column, action_label
from cim_desktop.ui.kit import crash, dialogs, fmt
from cim_desktop.ui.kit.style import ERROR, OK
from cim_desktop.ui.kit.widgets import heading, note, record_table
from cim_desktop.ui.kit.worker import DbWorker

if TYPE_CHECKING:
    from cim_desktop.services.audit.trail import VerifyResult
    from cim_desktop.services.session import Session
    from cim_desktop.store.audit.chain import AuditFilter

NO_DATE = QDate(2000, 1, 1)
_WIDTHS = {
    Column.SEQ: 60,
    Column.TIME: 160,
    Column.OFFICER: 110,
    Column.ROLE: 210,
    Column.ACTION: 130,
    Column.ENTITY: 150,
    Column.OUTCOME: 80,
}
SYSTEM_USER = "system"


def _date_edit() -> QDateEdit:
    edit = fmt.day_edit(QDateEdit())
    edit.setCalendarPopup(True)
    edit.setMinimumDate(NO_DATE)
    edit.setSpecialValueText("Any")
    edit.setDate(NO_DATE)
    edit.setMinimumWidth(120)
    return edit


def _local_midnight(day: QDate) -> datetime:
    return datetime(day.year(), day.month(), day.day()).astimezone()


class AuditScreen(QWidget):
    changed = Signal(str)
    verified = Signal(object)

    def __init__(
        self, worker: DbWorker, page_size: int | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._session: Session | None = None
        self._filters_pending = False
        self._refresh_pending = False
        self.last_verify: VerifyResult | None = None
        self.model = AuditTableModel(
            can_read=lambda: not worker.busy,
            parent=self,
            **({"page_size": page_size} if page_size else {}),
        )
        worker.busy_changed.connect(self._busy_changed)

        # Chain status.
        self.chain_dot = QLabel("●")
        self.chain_dot.setStyleSheet("font-size: 16pt; color: #8a8a8a;")
        self.chain_title = QLabel("Audit chain not verified yet")
        self.chain_title.setObjectName("subheading")
        self.chain_detail = note("")
        self.verify_button = QPushButton("Verify now")
        self.verify_button.clicked.connect(self.verify)
        chain = QFrame()
        chain.setObjectName("chainStatus")
        chain_text = QVBoxLayout()
        chain_text.setSpacing(2)
        chain_text.addWidget(self.chain_title)
        chain_text.addWidget(self.chain_detail)
        chain_row = QHBoxLayout(chain)
        chain_row.setContentsMargins(14, 8, 14, 8)
        chain_row.addWidget(self.chain_dot)
        chain_row.addLayout(chain_text, 1)
        chain_row.addWidget(self.verify_button)

        # Filters.
        self.officer_filter = QComboBox()
        self.officer_filter.setMinimumWidth(180)
        self.action_filter = QComboBox()
        self.action_filter.addItem("All actions", None)
        for name in audit.action_names():
            self.action_filter.addItem(action_label(name), name)
        self.date_from = _date_edit()
        self.date_to = _date_edit()
        self.clear_button = QPushButton("Clear filters")
        self.clear_button.clicked.connect(self.clear_filters)
        self.count_label = note("")
        filters = QHBoxLayout()
        filters.setSpacing(8)
        for text, widget in (
            ("Officer", self.officer_filter),
            ("Action", self.action_filter),
            ("From", self.date_from),
            ("To", self.date_to),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            filters.addWidget(label)
            filters.addWidget(widget)
            filters.addSpacing(6)
        filters.addWidget(self.clear_button)
        filters.addStretch(1)
        filters.addWidget(self.count_label)
        self.officer_filter.currentIndexChanged.connect(self.apply_filters)
        self.action_filter.currentIndexChanged.connect(self.apply_filters)
        self.date_from.dateChanged.connect(self.apply_filters)
        self.date_to.dateChanged.connect(self.apply_filters)

        # The table.
        self.table = record_table(self.model)
        self.table.verticalHeader().setDefaultSectionSize(26)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column, width in _WIDTHS.items():
            self.table.setColumnWidth(column, width)

        trail = QWidget()
        trail_box = QVBoxLayout(trail)
        trail_box.setContentsMargins(0, 0, 0, 0)
        trail_box.setSpacing(10)
        trail_box.addWidget(chain)
        trail_box.addLayout(filters)
        trail_box.addWidget(self.table, 1)
        self.denied = note("")
        self.denied.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body = QStackedWidget()
        self.body.addWidget(trail)
        self.body.addWidget(self.denied)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 12)
        layout.setSpacing(6)
        layout.addWidget(heading("Audit trail"))
        layout.addWidget(
            note(
                "Every action on this vault, newest first. The trail is "
                "hash-chained and append-only; opening or filtering it is "
                "itself recorded."
            )
        )
        layout.addSpacing(6)
        layout.addWidget(self.body, 1)

    # -- opening and closing --------------------------------------------------------------
    def open(self, session: Session) -> None:
        """Show the trail for ``session``'s officer; the worker must be idle."""
        self._session = session
        try:
            officers = accounts.list_officers(session)
        except PermissionDenied:
            officers = []
        self._fill_officers(
            [
                (
                    o.id,
                    f"{o.username} ({o.display_name})"
                    if o.display_name != o.username
                    else o.username,
                )
                for o in officers
            ]
        )
        self._reset_filter_widgets()
        try:
            self.model.set_view(audit.open_view(session))
        except PermissionDenied as exc:
            self.denied.setText(exc.message)
            self.body.setCurrentIndex(1)
            return
        self.body.setCurrentIndex(0)
        self._update_count()
        self.verify()

    def close_view(self) -> None:
        """Drop every row and the session (the vault is locking)."""
        self._session = None
        self.model.clear()
        self.count_label.clear()
        self._filters_pending = self._refresh_pending = False

    def _fill_officers(self, officers: list[tuple[str, str]]) -> None:
        self.officer_filter.blockSignals(True)
        self.officer_filter.clear()
        self.officer_filter.addItem("All officers", None)
        for officer_id, label in sorted(officers, key=lambda o: o[1].casefold()):
            self.officer_filter.addItem(label, officer_id)
        self.officer_filter.addItem("System", SYSTEM_USER)
        self.officer_filter.blockSignals(False)

    def _reset_filter_widgets(self) -> None:
        for widget in (self.officer_filter, self.action_filter, self.date_from, self.date_to):
            widget.blockSignals(True)
        self.officer_filter.setCurrentIndex(0)
        self.action_filter.setCurrentIndex(0)
        self.date_from.setDate(NO_DATE)
        self.date_to.setDate(NO_DATE)
        for widget in (self.officer_filter, self.action_filter, self.date_from, self.date_to):
            widget.blockSignals(False)

    # -- filters --------------------------------------------------------------------------
    def current_filter(self) -> AuditFilter:
        start = self.date_from.date()
        end = self.date_to.date()
        return audit.make_filter(
            user_id=self.officer_filter.currentData(),
            action=self.action_filter.currentData(),
            date_from=_local_midnight(start) if start != NO_DATE else None,
            date_to=_local_midnight(end) + timedelta(days=1) if end != NO_DATE else None,
        )

    def clear_filters(self) -> None:
        self._reset_filter_widgets()
        self.apply_filters()

    def apply_filters(self) -> None:
        if self._session is None:
            return
        if self._worker.busy:
            self._filters_pending = True
            return
        self._filters_pending = False
        flt = self.current_filter()
        if self.model.view is not None and self.model.view.filter == flt:
            return
        try:
            self.model.set_view(audit.open_view(self._session, flt))
        except CimError as exc:
            crash.report(exc, self)
            return
        self._update_count()

    def _update_count(self) -> None:
        view = self.model.view
        if view is None:
            return
        self.count_label.setText("Counting…")
        self._worker.run(view.count, self._counted, owner=self)

    def _counted(self, count: int) -> None:
        self.count_label.setText(f"{count:,} matching row{'s' if count != 1 else ''}")

    # -- keeping up to date ---------------------------------------------------------------
    def on_data_changed(self, what: str) -> None:
        if what != "audit" or self._session is None:
            return
        if self._worker.busy:
            self._refresh_pending = True
            return
        if self.model.refresh_head():
            self._update_count()

    def _busy_changed(self, busy: bool) -> None:
        if busy or self._session is None:
            return
        if self._filters_pending:
            self.apply_filters()
        elif self._refresh_pending:
            self._refresh_pending = False
            self.on_data_changed("audit")
        bar = self.table.verticalScrollBar()
        if self.model.canFetchMore() and bar.value() >= bar.maximum():
            # The view asked for more while the worker was busy; ask again now.
            self.model.fetchMore()

    # -- verification ---------------------------------------------------------------------
    def verify(self, *, announce: bool = False) -> None:
        session = self._session
        if session is None:
            return

        def run() -> VerifyResult:
            return audit.verify(session)  # reads the vault's own checkpoint file

        self.verify_button.setEnabled(False)
        self.chain_title.setText("Verifying the audit chain…")
        self._worker.run(
            run, lambda result: self._verified(result, announce), self._verify_failed, owner=self
        )

    def _verified(self, result: VerifyResult, announce: bool) -> None:
        self.verify_button.setEnabled(True)
        self.last_verify = result
        when = fmt.stored_moment(result.verified_at)
        self.chain_dot.setStyleSheet(f"font-size: 16pt; color: {OK if result.ok else ERROR};")
        if result.ok:
            title = "Audit chain intact"
        elif result.damaged_pages:
            title = "VAULT FILE DAMAGED"
        else:
            title = "AUDIT CHAIN BROKEN"
        self.chain_title.setText(title)
        self.chain_title.setStyleSheet("" if result.ok else f"color: {ERROR};")
        self.chain_detail.setText(f"{result.summary()}  ·  Last verified {when}")
        self.verified.emit(result)
        self.changed.emit("audit")
        if announce or not result.ok:
            show = dialogs.information if result.ok else dialogs.critical
            show(
                self,
                "Audit chain",
                self.chain_title.text() + ".",
                "\n".join([result.summary(), *result.details()]),
            )

    def _verify_failed(self, exc: BaseException) -> None:
        self.verify_button.setEnabled(True)
        self.chain_title.setText("The audit chain could not be verified")
        crash.report(exc, self)
