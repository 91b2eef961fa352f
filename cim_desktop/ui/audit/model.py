"""A keyset-paged table model over the audit trail, newest row first.

Rows arrive a page at a time through ``canFetchMore``/``fetchMore``, each page asking for the
rows below the last sequence number held: never ``OFFSET``, never the whole trail in memory
unless someone scrolls through all of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from cim_desktop.domain.audit.rows import AuditRow
from cim_desktop.domain.clock import parse_iso_utc
from cim_desktop.domain.officers.roles import Role
from cim_desktop.security import safe_json
from cim_desktop.ui.kit import fmt

if TYPE_CHECKING:
    from cim_desktop.services.audit.trail import AuditView

ModelIndex = QModelIndex | QPersistentModelIndex
PAGE_SIZE = 200
_ROLE_VALUES = {r.value for r in Role}
_ALERT = QBrush(QColor("#b3261e"))


class Column(IntEnum):
    SEQ = 0
    TIME = 1
    OFFICER = 2
    ROLE = 3
    ACTION = 4
    ENTITY = 5
    OUTCOME = 6
    DETAIL = 7


HEADERS = {
    Column.SEQ: "Seq",
    Column.TIME: "Time (local)",
    Column.OFFICER: "Officer",
    Column.ROLE: "Acting role",
    Column.ACTION: "Action",
    Column.ENTITY: "Record",
    Column.OUTCOME: "Outcome",
    Column.DETAIL: "Detail",
}


def action_label(action: str) -> str:
    return action.replace("-", " ").capitalize()


def role_label(role: str) -> str:
    if role in _ROLE_VALUES:
        return Role(role).label
    return {"none": "—", "system": "System"}.get(role, role)


def _when(ts: str) -> str:
    """The row's time for reading; any text that is not one of ours is shown as recorded
    (cut short), so one odd row cannot stop the trail from being read."""
    try:
        return fmt.moment(parse_iso_utc(ts))
    except (ValueError, OverflowError, TypeError):
        text = str(ts)
        return ascii(text[:40] + ("…" if len(text) > 40 else ""))


def detail_text(detail: str, reason: str = "") -> str:
    try:
        raw = str(detail).encode("utf-8", "replace")
        # Depth checked first: json.loads would raise RecursionError on deep nesting.
        if safe_json.nesting_too_deep(raw, 32):
            raise ValueError("too deep")
        data = json.loads(raw) if detail else {}
    except ValueError:  # JSONDecodeError and UnicodeDecodeError too
        data = {"detail": detail}
    parts: list[str] = []
    if isinstance(data, dict):
        # Internal identifiers last; empty values add nothing to read (the tooltip and the
        # export keep the row exactly as recorded).
        items = sorted(data.items(), key=lambda kv: kv[0].endswith("_id"))
        for key, value in items:
            if value is None:
                continue
            if isinstance(value, bool):
                value = "yes" if value else "no"
            elif isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            parts.append(f"{key.replace('_', ' ')}: {value}")
    else:
        parts.append(str(data))
    if reason:
        parts.append(f"reason: {reason}")
    return "; ".join(parts)


@dataclass(frozen=True)
class _Shown:
    """One row as displayed, formatted once when its page arrives."""

    row: AuditRow
    cells: tuple[str, ...]
    tips: tuple[str | None, ...]


def _present(row: AuditRow) -> _Shown:
    officer = row.username or (f"({row.user_id})" if row.user_id else "(unknown)")
    entity_id = row.entity_id
    short = entity_id if len(entity_id) <= 12 else entity_id[:8] + "…"
    entity = f"{row.entity_type} {short}".strip()
    detail = detail_text(row.detail, row.reason)
    recorded = row.detail + (f" reason: {row.reason}" if row.reason else "")
    cells = (
        str(row.seq),
        _when(row.ts),
        officer,
        role_label(row.role),
        action_label(row.action),
        entity,
        row.outcome.upper() if row.outcome == "ok" else row.outcome.capitalize(),
        detail,
    )
    tips: tuple[str | None, ...] = (
        None,
        f"{row.ts} (UTC)",
        f"Officer id: {row.user_id}" if row.user_id else None,
        None,
        row.action,
        f"{row.entity_type} {entity_id}".strip() or None,
        None,
        recorded if recorded not in ("", "{}") else None,
    )
    return _Shown(row, cells, tips)


class AuditTableModel(QAbstractTableModel):
    def __init__(
        self,
        page_size: int = PAGE_SIZE,
        can_read: Callable[[], bool] = lambda: True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._page_size = page_size
        self._can_read = can_read
        self._view: AuditView | None = None
        self._rows: list[_Shown] = []
        self._exhausted = True
        self.pages_fetched = 0

    # -- loading --------------------------------------------------------------------------
    def set_view(self, view: AuditView | None) -> None:
        """Show a new filtered view (``None``: show nothing); the first page loads now."""
        self.beginResetModel()
        self._view = view
        self._rows = []
        self._exhausted = view is None
        self.pages_fetched = 0
        if view is not None:
            self._append(view.page(limit=self._page_size))
        self.endResetModel()

    def clear(self) -> None:
        self.set_view(None)

    @property
    def view(self) -> AuditView | None:
        return self._view

    def _append(self, page: list[AuditRow]) -> None:
        self.pages_fetched += 1
        self._rows.extend(_present(r) for r in page)
        self._exhausted = len(page) < self._page_size

    def canFetchMore(self, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return (
            not parent.isValid()
            and self._view is not None
            and not self._exhausted
            and self._can_read()
        )

    def fetchMore(self, parent: ModelIndex = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent):
            return
        assert self._view is not None
        before = self._rows[-1].row.seq if self._rows else None
        page = self._view.page(before_seq=before, limit=self._page_size)
        if not page:
            self._exhausted = True
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self._append(page)
        self.endInsertRows()

    def refresh_head(self) -> int:
        """Insert rows appended since the view was loaded at the top; returns how many."""
        if self._view is None or not self._can_read():
            return 0
        if not self._rows:
            self.set_view(self._view)
            return len(self._rows)
        top = self._rows[0].row.seq
        page = self._view.page(limit=self._page_size)
        new = [r for r in page if r.seq > top]
        if len(new) == len(page) and page:
            # More new rows than one page: the gap cannot be bridged cheaply, so reload.
            self.set_view(self._view)
            return len(new)
        if new:
            self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
            self._rows[0:0] = [_present(r) for r in new]
            self.endInsertRows()
        return len(new)

    def row_at(self, row: int) -> AuditRow:
        return self._rows[row].row

    # -- the model contract ---------------------------------------------------------------
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        shown = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return shown.cells[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return shown.tips[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column == Column.SEQ:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and column == Column.OUTCOME
            and shown.row.outcome != "ok"
        ):
            return _ALERT
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(Column)
        ):
            return HEADERS[Column(section)]
        return None
