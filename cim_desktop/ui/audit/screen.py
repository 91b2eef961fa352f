"""The audit trail screen: chain status, search and filters, the paged table, a row's detail.

Every read runs on the worker: the first page, the count and the officer list through the
screen base (``fetch``), further pages through the paged model, verification and export
through the operation helper. Opening the trail or changing the filter is audited (by
``trail.open_view``); rows written since are shown when their change set arrives, by
reading the same filter again up to the new head, which is not audited again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelection, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.domain.changes import Kind
from cim_desktop.domain.clock import parse_iso_utc
from cim_desktop.errors import PermissionDenied
from cim_desktop.services.audit import trail as audit
from cim_desktop.services.officers import accounts
from cim_desktop.ui.audit.model import PAGE_SIZE, AuditTableModel, action_label
from cim_desktop.ui.audit.panels import (
    NO_DATE,
    ChainStatus,
    RowDetail,
    date_edit,
    local_midnight,
    size_columns,
)
from cim_desktop.ui.kit import dialogs
from cim_desktop.ui.kit.screen import Screen
from cim_desktop.ui.kit.style import ERROR, OK
from cim_desktop.ui.kit.widgets import local_time, note, record_table

if TYPE_CHECKING:
    from cim_desktop.services.audit.lines import AuditLine
    from cim_desktop.services.audit.trail import AuditView, VerifyResult
    from cim_desktop.services.session import Session
    from cim_desktop.store.audit.chain import AuditFilter
    from cim_desktop.ui.kit.worker import DbWorker

SYSTEM_USER = "system"
EMPTY_TRAIL = (
    "The audit trail will hold every action on this vault: logins, each view and change "
    "of a record, denials, exports and verifications."
)
NO_MATCH = "No rows match this search and these filters. Clear them to see the whole trail."


@dataclass(frozen=True)
class Loaded:
    view: AuditView
    first: list[AuditLine]
    count: int
    officers: list[tuple[str, str]] | None  # (id, label), read on the first load only


def _officers(session: Session) -> list[tuple[str, str]]:
    try:
        found = accounts.list_officers(session)
    except PermissionDenied:
        return []
    return [
        (o.id, o.username if o.display_name == o.username else f"{o.display_name} ({o.username})")
        for o in found
    ]


class AuditScreen(Screen):
    title = "Audit trail"
    intro = (
        "Every action on this vault, newest first. The trail is hash-chained and "
        "append-only; opening, searching or exporting it is itself recorded."
    )
    help_topic = "audit"
    kinds = frozenset({Kind.AUDIT})
    verified = Signal(object)

    def __init__(
        self, worker: DbWorker, page_size: int | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(worker, parent)
        self.model = AuditTableModel(self, worker, page_size or PAGE_SIZE)
        self.model.page_arrived.connect(lambda _n: self._update_empty())
        self._view: AuditView | None = None
        self._wanted: AuditFilter = audit.make_filter()
        self._officers_loaded = False
        self.count = 0
        self.last_verify: VerifyResult | None = None

        self.chain = ChainStatus()
        self.chain_title, self.chain_detail = self.chain.title, self.chain.detail
        self.chain.verify_button.clicked.connect(lambda: self.verify())

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by URN, officer or text")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search the audit trail")
        self.search.setMinimumWidth(220)
        # Typing settles for a moment before the trail is read (and the search audited).
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(300)
        self._typing.timeout.connect(self.apply_filters)
        self.search.textChanged.connect(lambda _t: self._typing.start())
        self.search.returnPressed.connect(self.apply_filters)
        self.officer_filter = QComboBox()
        self.officer_filter.setMinimumWidth(160)
        self._fill_officers([])
        self.action_filter = QComboBox()
        self.action_filter.addItem("All actions", None)
        for name in audit.action_names():
            self.action_filter.addItem(action_label(name), name)
        self.date_from = date_edit()
        self.date_to = date_edit()
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear_filters)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the rows this search and these filters show (CSV)")
        self.export_button.clicked.connect(self.export)
        self.count_label = note("")
        self.status = note("")

        filters = QHBoxLayout()
        filters.setSpacing(6)
        filters.addWidget(self.search, 2)
        for text, widget in (
            ("Officer", self.officer_filter),
            ("Action", self.action_filter),
            ("From", self.date_from),
            ("To", self.date_to),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            filters.addSpacing(4)
            filters.addWidget(label)
            filters.addWidget(widget)
        filters.addWidget(self.clear_button)
        self.officer_filter.currentIndexChanged.connect(self.apply_filters)
        self.action_filter.currentIndexChanged.connect(self.apply_filters)
        self.date_from.dateChanged.connect(self.apply_filters)
        self.date_to.dateChanged.connect(self.apply_filters)
        counts = QHBoxLayout()
        counts.addWidget(self.count_label)
        counts.addWidget(self.status, 1)
        counts.addWidget(self.export_button)

        self.table = record_table(self.model)
        self.table.verticalHeader().setDefaultSectionSize(26)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        size_columns(self.table, self.model.headers)
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.empty = note(EMPTY_TRAIL)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()
        self.detail = RowDetail()
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        left_box.addWidget(self.table, 1)
        left_box.addWidget(self.empty)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)

        content = QWidget()
        box = QVBoxLayout(content)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(8)
        box.addWidget(self.chain)
        box.addLayout(filters)
        box.addLayout(counts)
        box.addWidget(self.splitter, 1)
        self.set_content(content)

    def search_field(self) -> QLineEdit:
        return self.search

    # -- loading (``fetch`` on the worker, ``show_data`` on the GUI thread) ----------------
    def open(self, session: Session) -> None:
        self._view = None
        self._officers_loaded = False
        self._reset_filter_widgets()
        self._wanted = self.current_filter()
        super().open(session)
        self.verify()

    def fetch(self, session: Session) -> Loaded:
        wanted, view = self._wanted, self._view
        if view is not None and replace(view.filter, upto=None) == wanted:
            view = view.advanced()  # the same view with the rows written since
        else:
            view = audit.open_view(session, wanted)
        first = view.lines(limit=self.model.page_size)
        officers = None if self._officers_loaded else _officers(session)
        return Loaded(view, first, view.count(), officers)

    def show_data(self, data: Any) -> None:
        assert isinstance(data, Loaded)
        if data.officers is not None:
            self._fill_officers(data.officers)
            self._officers_loaded = True
        keep = self._selected_seq()
        self._view, view = data.view, data.view
        self.model.reset(self.session, lambda after, limit: view.lines(after, limit), data.first)
        self.count = data.count
        self.count_label.setText(f"{data.count:,} matching row{'s' if data.count != 1 else ''}")
        if keep is not None and (number := self.model.index_of(keep)) is not None:
            self.table.selectRow(number)
        else:
            self.detail.show_line(None)
        self._update_empty()

    def clear(self) -> None:
        self._view = None
        self.model.clear()
        self.count = 0
        self.count_label.clear()
        self.status.clear()
        self.detail.show_line(None)
        self._typing.stop()

    def _update_empty(self) -> None:
        empty = self.model.rowCount() == 0 and not self.model.loading
        searching = self._wanted != audit.make_filter()
        self.empty.setText(NO_MATCH if searching else EMPTY_TRAIL)
        self.empty.setVisible(empty)
        self.export_button.setEnabled(not empty)

    # -- filters --------------------------------------------------------------------------
    def _fill_officers(self, officers: list[tuple[str, str]]) -> None:
        current = self.officer_filter.currentData()
        self.officer_filter.blockSignals(True)
        self.officer_filter.clear()
        self.officer_filter.addItem("All officers", None)
        for officer_id, label in sorted(officers, key=lambda o: o[1].casefold()):
            self.officer_filter.addItem(label, officer_id)
        self.officer_filter.addItem("System", SYSTEM_USER)
        self.officer_filter.setCurrentIndex(max(0, self.officer_filter.findData(current)))
        self.officer_filter.blockSignals(False)

    def _reset_filter_widgets(self) -> None:
        widgets = (self.search, self.officer_filter, self.action_filter)
        for widget in (*widgets, self.date_from, self.date_to):
            widget.blockSignals(True)
        self.search.clear()
        self.officer_filter.setCurrentIndex(0)
        self.action_filter.setCurrentIndex(0)
        self.date_from.setDate(NO_DATE)
        self.date_to.setDate(NO_DATE)
        for widget in (*widgets, self.date_from, self.date_to):
            widget.blockSignals(False)

    def current_filter(self) -> AuditFilter:
        start = self.date_from.date()
        end = self.date_to.date()
        return audit.make_filter(
            user_id=self.officer_filter.currentData(),
            action=self.action_filter.currentData(),
            date_from=local_midnight(start) if start != NO_DATE else None,
            date_to=local_midnight(end) + timedelta(days=1) if end != NO_DATE else None,
            text=self.search.text(),
        )

    def clear_filters(self) -> None:
        self._reset_filter_widgets()
        self.apply_filters()

    def apply_filters(self) -> None:
        self._typing.stop()
        wanted = self.current_filter()
        if self.session is None or wanted == self._wanted:
            return
        self._wanted = wanted
        # Rows of the old filter go at once; a page still coming for them is dropped.
        self.model.clear()
        self.count_label.setText("Searching…")
        self.refresh()

    # -- the selected row -----------------------------------------------------------------
    def _selected_seq(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.line_at(rows[0].row()).row.seq if rows else None

    def _selected(self, _new: QItemSelection, _old: QItemSelection) -> None:
        rows = self.table.selectionModel().selectedRows()
        self.detail.show_line(self.model.line_at(rows[0].row()) if rows else None)

    # -- export ---------------------------------------------------------------------------
    def export(self) -> None:
        session, view = self.session, self._view
        if session is None or view is None:
            return
        path = dialogs.save_file(
            self, "Export the rows shown", Path.home() / "audit-trail.csv", "CSV files (*.csv)"
        )
        if path is None:
            return
        flt = view.filter

        def write() -> int:
            lines = 0
            with path.open("w", encoding="utf-8", newline="") as out:
                for chunk in audit.export(session, "csv", flt):
                    out.write(chunk)
                    lines += 1
            return lines - 1  # the header

        self.status.setText("Exporting…")
        (
            self.operation(write)
            .success(lambda n: self.status.setText(f"Exported {n:,} rows to {path.name}."))
            .user_errors(self.status.setText)
            .run()
        )

    # -- verification ---------------------------------------------------------------------
    def verify(self, *, announce: bool = False) -> None:
        session = self.session
        if session is None:
            return
        self.chain.verify_button.setEnabled(False)
        self.chain.title.setText("Verifying the audit chain…")
        (
            self.operation(lambda: audit.verify(session))
            .success(lambda result: self._verified(result, announce))
            .user_errors(self.chain.detail.setText)
            .finally_(lambda: self.chain.verify_button.setEnabled(True))
            .run()
        )

    def _verified(self, result: VerifyResult, announce: bool) -> None:
        self.last_verify = result
        when = local_time(parse_iso_utc(result.verified_at))
        self.chain.dot.setStyleSheet(f"font-size: 16pt; color: {OK if result.ok else ERROR};")
        if result.ok:
            title = "Audit chain intact"
        elif result.damaged_pages:
            title = "VAULT FILE DAMAGED"
        else:
            title = "AUDIT CHAIN BROKEN"
        self.chain.title.setText(title)
        self.chain.title.setStyleSheet("" if result.ok else f"color: {ERROR};")
        self.chain.detail.setText(f"{result.summary()}  ·  Last verified {when}")
        self.verified.emit(result)
        if announce or not result.ok:
            show = dialogs.information if result.ok else dialogs.critical
            show(
                self,
                "Audit chain",
                self.chain.title.text() + ".",
                "\n".join([result.summary(), *result.details()]),
            )
