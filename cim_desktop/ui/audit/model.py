"""The audit trail's table model: newest row first, a keyset page at a time on the worker.

Each page arrives labelled (``services.audit.lines``): officers and records by name, the
detail as text. The stored row stays with it for the detail pane, the tooltip and export.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from cim_desktop.domain.clock import parse_iso_utc
from cim_desktop.services.audit.lines import AuditLine, role_label
from cim_desktop.ui.kit.paged_model import PagedTableModel
from cim_desktop.ui.kit.widgets import local_time

if TYPE_CHECKING:
    from collections.abc import Hashable

PAGE_SIZE = 200
_ALERT = QBrush(QColor("#b3261e"))


class Column(IntEnum):
    SEQ = 0
    TIME = 1
    OFFICER = 2
    ROLE = 3
    ACTION = 4
    RECORD = 5
    OUTCOME = 6
    DETAIL = 7


HEADERS = {
    Column.SEQ: "Seq",
    Column.TIME: "Time (local)",
    Column.OFFICER: "Officer",
    Column.ROLE: "Acting role",
    Column.ACTION: "Action",
    Column.RECORD: "Record",
    Column.OUTCOME: "Outcome",
    Column.DETAIL: "Detail",
}


def action_label(action: str) -> str:
    return action.replace("-", " ").capitalize()


def outcome_label(outcome: str) -> str:
    return "OK" if outcome == "ok" else outcome.capitalize()


def when(ts: str) -> str:
    """The row's time for reading; any text that is not one of ours is shown as recorded
    (cut short), so one odd row cannot stop the trail from being read."""
    try:
        return local_time(parse_iso_utc(ts))
    except (ValueError, OverflowError, TypeError):
        text = str(ts)
        return ascii(text[:40] + ("…" if len(text) > 40 else ""))


def cells(line: AuditLine) -> tuple[str, ...]:
    """One row's cells, in ``Column`` order."""
    stored = line.row
    return (
        str(stored.seq),
        when(stored.ts),
        line.officer,
        role_label(stored.role),
        action_label(stored.action),
        line.record,
        outcome_label(stored.outcome),
        line.detail + (f"; Reason: {stored.reason}" if stored.reason else ""),
    )


class AuditTableModel(PagedTableModel[AuditLine]):
    headers = tuple(HEADERS[c] for c in Column)

    def key(self, row: AuditLine) -> Hashable:
        return row.row.seq

    def display(self, row: AuditLine) -> tuple[Any, ...]:
        return cells(row)

    def tooltip(self, row: AuditLine, column: int) -> Any:
        stored = row.row
        if column == Column.TIME:
            return f"{stored.ts} (UTC)"
        if column == Column.RECORD:
            return f"{stored.entity_type} {stored.entity_id}".strip() or None
        if column == Column.DETAIL:
            return stored.detail if stored.detail not in ("", "{}") else None
        return None

    def role_data(self, row: AuditLine, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.TextAlignmentRole and column == Column.SEQ:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and column == Column.OUTCOME
            and row.row.outcome != "ok"
        ):
            return _ALERT
        return None

    def line_at(self, row: int) -> AuditLine:
        return self.row_at(row)
