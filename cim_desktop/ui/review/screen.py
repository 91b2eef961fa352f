"""The review queue screen: break-glass sessions, denied accesses and lockouts waiting for a
controller's sign-off. Auditors see the same queue read-only.

Every read and sign-off runs on the worker (opening the queue writes an audit row); the
screen never touches the database on the GUI thread.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.domain.changes import Kind
from cim_desktop.services.review import queue as review
from cim_desktop.services.review.queue import Queue, ReviewItem
from cim_desktop.ui.kit import fmt
from cim_desktop.ui.kit.empty_state import EmptyState
from cim_desktop.ui.kit.list_model import ListTableModel
from cim_desktop.ui.kit.screen import Screen
from cim_desktop.ui.kit.widgets import FieldError, note, record_table
from cim_desktop.ui.kit.worker import DbWorker

if TYPE_CHECKING:
    from cim_desktop.services.session import Session

ModelIndex = QModelIndex | QPersistentModelIndex
# Topics after which new items may be waiting ("review" is this screen's own: it reloads
# itself after a sign-off).


class Column(IntEnum):
    KIND = 0
    OFFICER = 1
    WHEN = 2
    RECORD = 3
    SUMMARY = 4


HEADERS = {
    Column.KIND: "Kind",
    Column.OFFICER: "Officer",
    Column.WHEN: "When (local)",
    Column.RECORD: "Record",
    Column.SUMMARY: "What happened",
}
_WIDTHS = {Column.KIND: 120, Column.OFFICER: 110, Column.WHEN: 160, Column.RECORD: 130}


def _when(iso: str) -> str:
    return fmt.stored_moment(iso)


class ReviewModel(ListTableModel[ReviewItem]):
    headers = tuple(HEADERS[c] for c in Column)

    def set_items(self, items: list[ReviewItem]) -> None:
        self.set_rows(items)

    def clear(self) -> None:
        self.set_rows([])

    def item_at(self, row: int) -> ReviewItem:
        return self.rows[row]

    def display(self, row: ReviewItem, column: int) -> Any:
        return {
            Column.KIND: row.kind.label,
            Column.OFFICER: row.officer or "unknown",
            Column.WHEN: _when(row.when),
            Column.RECORD: row.entity,
            Column.SUMMARY: row.summary,
        }[Column(column)]

    def tooltip(self, row: ReviewItem, column: int) -> Any:
        return row.summary if Column(column) is Column.SUMMARY else None


class ReviewScreen(Screen):
    title = "Review queue"
    intro = (
        "Break-glass sessions, denied accesses and account lockouts wait here until a "
        "controller signs them off. Opening the queue and every sign-off are recorded in "
        "the audit trail."
    )
    help_topic = "review"
    kinds = frozenset({Kind.REVIEW, Kind.ACCESS, Kind.SOURCES, Kind.OFFICERS})

    def __init__(self, worker: DbWorker, parent: QWidget | None = None) -> None:
        super().__init__(worker, parent)
        self.can_sign = False
        self.model = ReviewModel(self)

        self.count_label = note("")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.count_label, 1)
        top.addWidget(self.refresh_button)
        self.read_only = QLabel(
            "Read-only: professional standards can see the queue; only a "
            "controller signs items off."
        )
        self.read_only.setObjectName("instruction")
        self.read_only.setWordWrap(True)
        self.read_only.hide()

        self.table = record_table(self.model)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for section, width in _WIDTHS.items():
            self.table.setColumnWidth(section, width)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.empty = EmptyState.attach(
            self.table,
            "Nothing to review. Break-glass access to sources and other events that need a "
            "controller's or professional standards' look appear here by themselves.",
        )

        # The selected item and the sign-off form.
        self.detail_title = QLabel("Select an item to review it.")
        self.detail_title.setObjectName("subheading")
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note_error = FieldError()
        self.note_edit = QPlainTextEdit()
        self.note_edit.setPlaceholderText("What you checked, and what follows from it")
        self.note_edit.setAccessibleName("Sign-off note")
        self.note_edit.setFixedHeight(64)
        self.note_edit.textChanged.connect(self.note_error.clear_error)
        self.sign_button = QPushButton("Sign off")
        self.sign_button.setObjectName("primary")
        self.sign_button.clicked.connect(self.sign_off)
        self.sign_form = QWidget()
        form = QVBoxLayout(self.sign_form)
        form.setContentsMargins(0, 4, 0, 0)
        form.setSpacing(4)
        form.addWidget(QLabel("Sign-off note"))
        form.addWidget(self.note_edit)
        form.addWidget(self.note_error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.sign_button)
        form.addLayout(buttons)
        panel = QFrame()
        panel.setObjectName("card")
        panel_box = QVBoxLayout(panel)
        panel_box.setContentsMargins(14, 10, 14, 12)
        panel_box.addWidget(self.detail_title)
        panel_box.addWidget(self.detail)
        panel_box.addWidget(self.sign_form)

        queue = QWidget()
        queue_box = QVBoxLayout(queue)
        queue_box.setContentsMargins(0, 0, 0, 0)
        queue_box.setSpacing(8)
        queue_box.addLayout(top)
        queue_box.addWidget(self.read_only)
        queue_box.addWidget(self.table, 1)
        queue_box.addWidget(panel)
        self.set_content(queue)
        self._show_selected()

    # -- loading --------------------------------------------------------------------------
    def clear(self) -> None:
        """Drop every item and the typed note (the vault is locking)."""
        self.model.clear()
        self.note_edit.clear()
        self.note_error.clear_error()
        self.count_label.clear()
        self._show_selected()

    def fetch(self, session: Session) -> Queue:
        return review.pending(session)

    def show_data(self, data: Any) -> None:
        queue: Queue = data
        selected = self.selected()
        self.can_sign = queue.can_sign
        self.model.set_items(queue.items)
        self.read_only.setVisible(not queue.can_sign)
        shown = len(queue.items)
        if not queue.total:
            self.count_label.setText("Nothing is waiting for review.")
        elif shown < queue.total:
            self.count_label.setText(f"{queue.total} items waiting; the newest {shown} shown.")
        else:
            self.count_label.setText(
                f"{queue.total} item{'s' if queue.total != 1 else ''} waiting for sign-off."
            )
        if selected is not None:
            self._select(selected.kind.value, selected.ref)
        self._show_selected()

    # -- selection ------------------------------------------------------------------------
    def selected(self) -> ReviewItem | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.item_at(rows[0].row()) if rows else None

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)

    def _select(self, kind: str, ref: str) -> None:
        for row in range(self.model.rowCount()):
            item = self.model.item_at(row)
            if item.kind.value == kind and item.ref == ref:
                self.table.selectRow(row)
                return

    def _selection_changed(self, _new: QItemSelection, _old: QItemSelection) -> None:
        self.note_error.clear_error()
        self._show_selected()

    def _show_selected(self) -> None:
        item = self.selected()
        self.sign_form.setVisible(self.can_sign and item is not None)
        if item is None:
            self.detail_title.setText(
                "Select an item to review it." if self.model.rowCount() else ""
            )
            self.detail.clear()
            return
        self.detail_title.setText(
            f"{item.kind.label}: {item.officer or 'unknown officer'}, {_when(item.when)}"
        )
        lines = [item.summary]
        if item.justification:
            lines.append(f"Justification: \u201c{item.justification}\u201d")
        if item.expires_at:
            end = item.ended_at or item.expires_at
            lines.append(f"Access {'ended' if item.ended_at else 'runs until'} {_when(end)}.")
        self.detail.setText("\n".join(lines))

    # -- signing off ----------------------------------------------------------------------
    def sign_off(self) -> None:
        session, item = self.session, self.selected()
        if session is None or item is None or not self.can_sign:
            return
        text = self.note_edit.toPlainText().strip()
        if not text:
            self.note_error.show_error("Write a note saying what you checked.")
            self.note_edit.setFocus()
            return
        self.sign_button.setEnabled(False)
        (
            self.operation(lambda: review.sign_off(session, item.kind, item.ref, text))
            .success(lambda _none: self._signed())
            .user_errors(self.note_error.show_error)
            .finally_(lambda: self.sign_button.setEnabled(True))
            .run()
        )

    def _signed(self) -> None:
        # The queue reloads from the change set this sign-off published.
        self.note_edit.clear()
        self.table.clearSelection()
