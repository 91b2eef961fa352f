"""The officer list's table model and filter, and the text of the details panel."""

from __future__ import annotations

import html
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
)
from PySide6.QtWidgets import QWidget

from cim_desktop.domain.clock import utc_now
from cim_desktop.domain.officers.model import Officer, OfficerStatus
from cim_desktop.domain.officers.roles import Role
from cim_desktop.ui.kit import fmt
from cim_desktop.ui.kit.list_model import ListTableModel

if TYPE_CHECKING:
    from cim_desktop.services.officers.management import OfficerDetails

AnyIndex = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    USERNAME = 0
    NAME = 1
    COLLAR = 2
    RANK = 3
    ROLES = 4
    STATUS = 5
    ACCOUNT = 6


_HEADERS = ("Username", "Name", "Collar no.", "Rank", "Roles", "Status", "Account")


@dataclass(frozen=True)
class Listed:
    officer: Officer
    locked: bool


def _roles_text(roles: frozenset[Role]) -> str:
    return ", ".join(r.label for r in Role if r in roles) or "—"


class OfficerModel(ListTableModel[Listed]):
    headers = _HEADERS

    def key(self, row: Listed) -> Any:
        return row.officer.id

    def display(self, row: Listed, column: int) -> Any:
        o = row.officer
        col = Column(column)
        if col is Column.USERNAME:
            return o.username
        if col is Column.NAME:
            return o.display_name
        if col is Column.COLLAR:
            return o.collar_number
        if col is Column.RANK:
            return o.rank
        if col is Column.ROLES:
            return _roles_text(o.roles)
        if col is Column.STATUS:
            return o.status.value.capitalize()
        flags = ["Locked"] if row.locked else []
        if o.must_change_password:
            flags.append("Temporary password")
        return ", ".join(flags)


class OfficerFilter(QSortFilterProxyModel):
    """Text (username, name or collar number), role and status."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = ""
        self.role: Role | None = None
        self.status: OfficerStatus | None = None

    def set_filter(self, text: str, role: Role | None, status: OfficerStatus | None) -> None:
        self.beginFilterChange()
        self.text, self.role, self.status = text.strip().casefold(), role, status
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        model = self.sourceModel()
        if not isinstance(model, OfficerModel) or source_row >= len(model.rows):
            return False
        o = model.rows[source_row].officer
        if self.role is not None and not o.has(self.role):
            return False
        if self.status is not None and o.status is not self.status:
            return False
        haystack = f"{o.username} {o.display_name} {o.collar_number}".casefold()
        return not self.text or self.text in haystack


def describe(details: OfficerDetails, locked: bool) -> str:
    """The details panel's text; every value escaped (names are typed by people)."""
    o = details.officer
    e = html.escape
    today = utc_now().date()
    lines = [
        f"<b>Status:</b> {e(o.status.value.capitalize())}"
        + (" — <b>locked</b> after failed logins" if locked else "")
        + (" — must change a temporary password" if o.must_change_password else ""),
        f"<b>Rank:</b> {e(o.rank or 'not recorded')} &nbsp; <b>Collar no.:</b> "
        f"{e(o.collar_number or 'not recorded')} &nbsp; <b>Gender:</b> "
        f"{e(o.gender or 'not recorded')}",
        "<b>Roles held and their history:</b>",
    ]
    history = [
        f"{e(h.role.label)}: from {fmt.stored_day(h.valid_from)}"
        + (f" to {fmt.stored_day(h.valid_to)}" if h.valid_to else " (current)")
        for h in details.roles
    ]
    lines.append("<br>".join(history) or "none")
    lines.append("<b>Accreditation:</b>")
    courses = [
        f"{e(a.course)}, {a.hours:g} h, {fmt.day(a.completed_on)}"
        + (f", expires {fmt.day(a.expires_on)}" if a.expires_on else "")
        + ("" if a.current_on(today) else " — <i>not current</i>")
        for a in details.accreditations
    ]
    lines.append("<br>".join(courses) or "none recorded")
    return "<br>".join(lines)
