"""The unlocked window's content: a navigation list on the left and one screen at a time.

Each screen opens the first time it is chosen in a session (opening is an audited read, so
screens nobody looks at are not read), and every opened screen drops its content on lock.
Screens an officer's roles cannot use are not offered at all.

Screens refresh themselves from the change bus (``ui.kit.changes``); the workspace only
reloads the break-glass banner when access changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.domain.changes import ChangeSet, Kind
from cim_desktop.domain.officers.roles import AUDIT_READERS, Role
from cim_desktop.ui.access.break_glass import BreakGlassBanner
from cim_desktop.ui.kit.changes import bus
from cim_desktop.ui.kit.icons import icon
from cim_desktop.ui.kit.operation import Operation

if TYPE_CHECKING:
    from cim_desktop.domain.officers.model import Officer
    from cim_desktop.domain.sources.model import BreakGlassGrant
    from cim_desktop.services.session import Session
    from cim_desktop.ui.kit.screen import Screen
    from cim_desktop.ui.kit.worker import DbWorker


@dataclass
class Page:
    key: str
    title: str
    widget: Screen
    offered: Callable[[Officer], bool]
    icon: str = "help"


def _any(*roles: Role) -> Callable[[Officer], bool]:
    return lambda officer: any(officer.has(r) for r in roles)


class Workspace(QWidget):
    def __init__(self, worker: DbWorker, audit: Screen, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from cim_desktop.ui.account.screen import AccountScreen
        from cim_desktop.ui.officers.screen import OfficersScreen
        from cim_desktop.ui.policy.screen import PolicyScreen
        from cim_desktop.ui.review.screen import ReviewScreen
        from cim_desktop.ui.sources.screen import SourcesScreen

        self.worker = worker
        self.pages = [
            Page(
                "sources",
                "Sources",
                SourcesScreen(worker),
                _any(Role.HANDLER, Role.CONTROLLER, Role.RECORD_KEEPER, Role.AUTHORISING_OFFICER),
                "id-badge-2",
            ),
            Page("audit", "Audit trail", audit, _any(*AUDIT_READERS), "history"),
            Page(
                "officers",
                "Officers",
                OfficersScreen(worker),
                _any(Role.ADMINISTRATOR, Role.AUDITOR, Role.CONTROLLER),
                "users",
            ),
            Page(
                "review",
                "Review queue",
                ReviewScreen(worker),
                _any(Role.CONTROLLER, Role.AUDITOR),
                "checklist",
            ),
            Page("policy", "Local policy", PolicyScreen(worker), lambda _o: True, "settings"),
            Page("account", "My account", AccountScreen(worker), lambda _o: True, "user-circle"),
        ]
        self.session: Session | None = None
        self._opened: set[str] = set()

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(190)
        self.nav.setIconSize(QSize(18, 18))
        self.nav.setStyleSheet(
            "QListWidget#navigation { border: none; border-right: 1px solid #d0d5dd;"
            " outline: 0;"
            " background: #eef1f5; padding-top: 8px; font-size: 10.5pt; }"
            "QListWidget#navigation::item { padding: 9px 14px; }"
            "QListWidget#navigation::item:selected { background: #1d3557; color: white; }"
        )
        self.stack = QStackedWidget()
        for page in self.pages:
            self.stack.addWidget(page.widget)
        bus().changed.connect(self._published)
        self.banner = BreakGlassBanner()
        self.nav.currentRowChanged.connect(self._show_row)

        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(0)
        right.addWidget(self.banner)
        right.addWidget(self.stack, 1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.nav)
        row.addLayout(right, 1)

    # -- pages ----------------------------------------------------------------------------
    def offered(self) -> list[Page]:
        officer = self.session.officer if self.session is not None else None
        return [p for p in self.pages if officer is not None and p.offered(officer)]

    def page(self, key: str) -> Page:
        return next(p for p in self.pages if p.key == key)

    def show_page(self, key: str) -> None:
        keys = [p.key for p in self.offered()]
        if key in keys:
            self.nav.setCurrentRow(keys.index(key))

    def current_key(self) -> str | None:
        row = self.nav.currentRow()
        offered = self.offered()
        return offered[row].key if 0 <= row < len(offered) else None

    def _show_row(self, row: int) -> None:
        offered = self.offered()
        if not 0 <= row < len(offered) or self.session is None:
            return
        page = offered[row]
        self.stack.setCurrentWidget(page.widget)
        if page.key not in self._opened:
            self._opened.add(page.key)
            page.widget.open(self.session)

    # -- session --------------------------------------------------------------------------
    def open(self, session: Session, first: str | None = None) -> None:
        """Offer the officer's screens and show ``first`` (if offered) or the first one."""
        self.session = session
        self._opened.clear()
        self.nav.blockSignals(True)
        self.nav.clear()
        for page in self.offered():
            self.nav.addItem(QListWidgetItem(icon(page.icon), page.title))
        self.nav.blockSignals(False)
        self._show_row(-1)
        keys = [p.key for p in self.offered()]
        self.nav.setCurrentRow(keys.index(first) if first in keys else 0)
        self._load_grants(session)

    def _load_grants(self, session: Session) -> None:
        from cim_desktop.services.access import permissions as access

        (
            Operation(self, self.worker, lambda: access.active_grants(session), session=session)
            .stale("grants")
            .success(lambda grants: self._got_grants(session, grants))
            .run()
        )

    def _got_grants(self, session: Session, grants: list[BreakGlassGrant]) -> None:
        if session is self.session:  # not an answer for a locked or replaced session
            self.banner.set_grants(grants)

    def close_view(self) -> None:
        for page in self.pages:
            if page.key in self._opened:
                page.widget.close_view()
        self._opened.clear()
        self.session = None
        self.banner.clear()
        self.nav.blockSignals(True)
        self.nav.clear()
        self.nav.blockSignals(False)

    # -- changes --------------------------------------------------------------------------
    def _published(self, changed: ChangeSet, _initiator: object) -> None:
        if self.session is not None and changed.touches({Kind.ACCESS}):
            self._load_grants(self.session)
