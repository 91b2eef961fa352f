"""The audit screen's parts: the chain status header, the selected row's detail, and the
sizing of its columns and date filters."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QDateEdit,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.services.audit.lines import AuditLine, role_label
from cim_desktop.ui.audit.model import Column, action_label, outcome_label, when
from cim_desktop.ui.kit import fmt
from cim_desktop.ui.kit.widgets import mono_font, note

# (attribute, label) in the order the pane shows them.
FIELDS = (
    ("seq", "Sequence"),
    ("time", "Time (local)"),
    ("officer", "Officer"),
    ("role", "Acting role"),
    ("action", "Action"),
    ("record", "Record"),
    ("detail", "Details"),
    ("reason", "Reason"),
    ("outcome", "Outcome"),
    ("session", "Session"),
    ("hash", "Row hash"),
    ("prev_hash", "Previous hash"),
)


NO_DATE = QDate(2000, 1, 1)  # a date edit at this date means "any"
# Each column as wide as its usual text in the font in use (so a larger system font widens
# them too), narrow enough that all but the detail fit beside the detail pane at 1366 wide;
# the detail column takes what is left and the pane shows everything whole.
_SAMPLES = {
    Column.SEQ: "00000",
    Column.TIME: "28 Nov 2026 08:21:37",
    Column.OFFICER: "Jo Bloggs (jbloggs)",
    Column.ROLE: "Controller",
    Column.ACTION: "Break glass",
    Column.RECORD: "Source DSU-2026-0000",
    Column.OUTCOME: "Denied",
}


def size_columns(table: QTableView, headers: tuple[str, ...]) -> None:
    body, head = table.fontMetrics(), table.horizontalHeader().fontMetrics()
    for column, sample in _SAMPLES.items():
        width = max(
            body.horizontalAdvance(sample) + 14,
            # Headers are bold in the style sheet: allow for it.
            int(head.horizontalAdvance(headers[column]) * 1.15) + 18,
        )
        table.setColumnWidth(column, width)


def date_edit() -> QDateEdit:
    edit = fmt.day_edit(QDateEdit())
    edit.setCalendarPopup(True)
    edit.setMinimumDate(NO_DATE)
    edit.setSpecialValueText("Any")
    edit.setDate(NO_DATE)
    edit.setMinimumWidth(110)
    return edit


def local_midnight(day: QDate) -> datetime:
    return datetime(day.year(), day.month(), day.day()).astimezone()


def short_hash(value: object) -> str:
    """Enough of a hash to compare by eye; the export holds it whole."""
    text = value.hex() if isinstance(value, bytes) else str(value or "")
    return text if len(text) <= 16 else f"{text[:8]}…{text[-8:]}"


class ChainStatus(QFrame):
    """The chain's verification state, and the button that verifies it again."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chainStatus")
        self.dot = QLabel("●")
        self.dot.setStyleSheet("font-size: 16pt; color: #8a8a8a;")
        self.title = QLabel("Audit chain not verified yet")
        self.title.setObjectName("subheading")
        self.detail = note("")
        self.verify_button = QPushButton("Verify now")
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.title)
        text.addWidget(self.detail)
        row = QHBoxLayout(self)
        row.setContentsMargins(14, 8, 14, 8)
        row.addWidget(self.dot)
        row.addLayout(text, 1)
        row.addWidget(self.verify_button)


class RowDetail(QScrollArea):
    """Every column of the selected row, labelled, with the reason, outcome and hashes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setMinimumWidth(260)
        inner = QFrame()
        inner.setObjectName("card")
        column = QVBoxLayout(inner)
        column.setContentsMargins(14, 12, 14, 12)
        self.heading = QLabel("Select a row to see it in full.")
        self.heading.setObjectName("subheading")
        self.heading.setWordWrap(True)
        column.addWidget(self.heading)
        self.form = QFormLayout()
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self.values: dict[str, QLabel] = {}
        for key, label in FIELDS:
            value = QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setObjectName(f"audit_{key}")
            if key in ("hash", "prev_hash"):
                value.setFont(mono_font())
            self.values[key] = value
            self.form.addRow(label, value)
        column.addLayout(self.form)
        column.addStretch(1)
        self.setWidget(inner)
        self.show_line(None)

    def show_line(self, line: AuditLine | None) -> None:
        if line is None:
            self.heading.setText("Select a row to see it in full.")
            for value in self.values.values():
                value.clear()
            self._visible(False)
            return
        row = line.row
        texts = {
            "seq": str(row.seq),
            "time": f"{when(row.ts)}\nUTC {row.ts.replace('T', ' ').rstrip('Z')}",
            "officer": line.officer,
            "role": role_label(row.role),
            "action": action_label(row.action),
            "record": line.record,
            "detail": line.detail.replace("; ", "\n") or "—",
            "reason": row.reason or "—",
            "outcome": outcome_label(row.outcome),
            "session": row.session_id[:8] or "—",
            "hash": short_hash(row.hash),
            "prev_hash": short_hash(row.prev_hash),
        }
        self.heading.setText(f"{action_label(row.action)}: {line.record}")
        for key, value in self.values.items():
            value.setText(texts[key])
        self._visible(True)

    def _visible(self, on: bool) -> None:
        for number in range(self.form.rowCount()):
            for role in (QFormLayout.ItemRole.LabelRole, QFormLayout.ItemRole.FieldRole):
                item = self.form.itemAt(number, role)
                widget = item.widget() if item is not None else None
                if widget is not None:
                    widget.setVisible(on)

    def text(self) -> str:
        """What the pane shows, label by label (for tests and copying)."""
        return "\n".join(f"{label}: {self.values[key].text()}" for key, label in FIELDS)
