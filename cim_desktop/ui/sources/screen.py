"""The Sources screen: the register as the officer may see it, a keyset page at a time,
one source's detail, and the ways in that the access model allows (team roles, the sealed
identity, break-glass).

Every read and change runs on the worker through ``services.sources`` and
``services.access``; the screen never touches the database on the GUI thread. The list is
filtered and paged in SQL (``sources.list_page``). Identity particulars are shown in a label
that cannot be selected or copied and are dropped as soon as another source is chosen or the
screen closes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelection, Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.domain.access.rules import REGISTER_ROLES
from cim_desktop.domain.changes import Kind
from cim_desktop.domain.clock import parse_iso_utc, utc_now
from cim_desktop.domain.policy.settings import Policy
from cim_desktop.domain.sources.model import BreakGlassGrant, SourceStatus
from cim_desktop.errors import CimError
from cim_desktop.services.access import permissions as access
from cim_desktop.services.sources import register as sources
from cim_desktop.services.sources.register import SourceFilter
from cim_desktop.ui.access.break_glass import BreakGlassDialog
from cim_desktop.ui.kit.screen import Screen
from cim_desktop.ui.kit.widgets import FieldError, note, record_table
from cim_desktop.ui.sources.detail import DetailPanel
from cim_desktop.ui.sources.dialogs import AssignDialog, IdentityReasonDialog, RegisterDialog
from cim_desktop.ui.sources.model import (
    Column,
    Listed,
    SourceDetail,
    SourcesTableModel,
    can_break_glass,
    empty_text,
    load_detail,
    status_label,
)

if TYPE_CHECKING:
    from cim_desktop.services.session import Session
    from cim_desktop.ui.kit.worker import DbWorker

PAGE_SIZE = 200


# -- the screen ----------------------------------------------------------------------------
class SourcesScreen(Screen):
    title = "Sources"
    intro = (
        "The sources on your caseload, and others only as far as the unit's rules allow. "
        "Every view is recorded."
    )
    help_topic = "sources"
    kinds = frozenset({Kind.SOURCES, Kind.ACCESS, Kind.POLICY})
    # The shell's banner of break-glass grants still listens for this topic.

    def __init__(
        self, worker: DbWorker, parent: QWidget | None = None, page_size: int = PAGE_SIZE
    ) -> None:
        super().__init__(worker, parent)
        self._worker = worker
        self._policy = Policy.defaults()
        self._wanted = SourceFilter()
        self.total = 0
        self._urn: str | None = None  # the source the detail panel is for
        self._detail: SourceDetail | None = None
        self._dialog: QDialog | None = None
        self.model = SourcesTableModel(self, worker, page_size)
        self.model.page_arrived.connect(lambda _n: self._update_empty())
        self.model.page_failed.connect(self._page_failed)

        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by URN, pseudonym or status")
        self.filter.setAccessibleName("Filter the sources")
        self.filter.setClearButtonEnabled(True)
        # Typing settles for a moment before the register is read again.
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(250)
        self._typing.timeout.connect(self.apply_filter)
        self.filter.textChanged.connect(lambda _t: self._typing.start())
        self.filter.returnPressed.connect(self.apply_filter)
        self.status_filter = QComboBox()
        self.status_filter.setAccessibleName("Status")
        self.status_filter.addItem("Any status", None)
        for status in SourceStatus:
            self.status_filter.addItem(status_label(status), status.value)
        self.status_filter.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.register_button = QPushButton("Register source…")
        self.register_button.clicked.connect(self.register)
        self.register_button.hide()
        self.urn_box = QLineEdit()
        self.urn_box.setPlaceholderText("URN")
        self.urn_box.setAccessibleName("Open by URN")
        self.urn_box.setMaximumWidth(180)
        self.urn_box.returnPressed.connect(self.open_by_urn)
        self.open_button = QPushButton("Open by URN…")
        self.open_button.clicked.connect(self.open_by_urn)
        self.count = note("")
        tools = QHBoxLayout()
        tools.setSpacing(8)
        tools.addWidget(self.filter, 1)
        tools.addWidget(self.status_filter)
        tools.addWidget(self.count)
        tools.addSpacing(12)
        tools.addWidget(self.urn_box)
        tools.addWidget(self.open_button)
        tools.addWidget(self.register_button)

        self.table = record_table(self.model)
        self.table.setColumnWidth(Column.URN, 150)
        self.table.setColumnWidth(Column.PSEUDONYM, 200)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.message = FieldError()
        self.message.setWordWrap(True)

        self.detail = DetailPanel()
        self.detail.assign_button.clicked.connect(self.assign)
        self.detail.identity_button.clicked.connect(self.ask_identity)
        self.detail.glass_button.clicked.connect(self.break_glass)
        # The panel's parts by the names the tests and the shell know them.
        self.source_title, self.facts = self.detail.title, self.detail.facts
        self.team_label, self.identity = self.detail.team_label, self.detail.identity
        self.assign_button = self.detail.assign_button
        self.identity_button = self.detail.identity_button
        self.glass_button = self.detail.glass_button
        self.detail_error = self.detail.error

        body = QHBoxLayout()
        body.setSpacing(12)
        body.addWidget(self.table, 3)
        body.addWidget(self.detail, 2)
        self.empty = note("")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(tools)
        layout.addWidget(self.message)
        layout.addWidget(self.empty)
        layout.addLayout(body, 1)
        self.set_content(content)

        # Break-glass content disappears when its grant runs out (on the application clock).
        self._expiry = QTimer(self)
        self._expiry.setInterval(500)
        self._expiry.timeout.connect(self._check_expiry)

    @property
    def dialog(self) -> QDialog | None:
        """The dialog this screen has open, if any."""
        return self._dialog

    # -- opening and closing (``fetch`` on the worker, ``show_data`` on the GUI thread) ----
    def search_field(self) -> QLineEdit:
        return self.filter

    def open(self, session: Session) -> None:
        self.register_button.setVisible(bool(session.officer.roles & set(REGISTER_ROLES)))
        self._wanted = self.current_filter()
        super().open(session)

    def fetch(self, session: Session) -> Listed:
        flt = self._wanted
        first = sources.list_page(session, flt, None, self.model.page_size)
        total = sources.count_visible(session, flt)
        return Listed(access.current_policy(session), first, total, flt)

    def show_data(self, data: Any) -> None:
        assert isinstance(data, Listed)
        session = self.session
        self._policy = data.policy
        self.total = data.total
        flt = data.flt
        keep = self._urn
        self.table.selectionModel().blockSignals(True)
        self.model.reset(
            session,
            lambda after, limit: (
                sources.list_page(session, flt, after, limit) if session is not None else []
            ),
            data.first,
        )
        number = self.model.index_of(keep) if keep is not None else None
        if number is not None:
            self.table.selectRow(number)
        self.table.selectionModel().blockSignals(False)
        self.count.setText(f"{data.total:,} source{'s' if data.total != 1 else ''}")
        self._update_empty()
        if keep is not None:
            if number is not None:
                self._load(keep)
            elif self._detail is not None and self._detail.grant_expires:
                self._clear_detail()  # no longer visible (a break-glass grant ran out)

    def clear(self) -> None:
        """Drop every row, the detail, the particulars and any open dialog."""
        if self._dialog is not None:
            self._dialog.reject()
            self._dialog = None
        self._typing.stop()
        self.model.clear()
        for box in (self.filter, self.urn_box):
            box.blockSignals(True)
            box.clear()
            box.blockSignals(False)
        self.status_filter.blockSignals(True)
        self.status_filter.setCurrentIndex(0)
        self.status_filter.blockSignals(False)
        self._wanted = SourceFilter()
        self.total = 0
        self.count.clear()
        self.empty.hide()
        self.message.clear_error()
        self._clear_detail()

    def _update_empty(self) -> None:
        if self.model.rowCount() or self.model.loading or self.session is None:
            self.empty.hide()
            return
        text = empty_text(self._wanted != SourceFilter(), self.register_button.isVisible())
        self.empty.setText(text)
        self.empty.show()

    def _page_failed(self, message: str) -> None:
        self.message.show_error(message)

    # -- the list -------------------------------------------------------------------------
    def current_filter(self) -> SourceFilter:
        status = self.status_filter.currentData()
        return SourceFilter(SourceStatus(status) if status else None, self.filter.text().strip())

    def apply_filter(self) -> None:
        self._typing.stop()
        wanted = self.current_filter()
        if self.session is None or wanted == self._wanted:
            return
        self._wanted = wanted
        self.model.clear()  # a page still coming for the old filter is dropped
        self.count.setText("Searching…")
        self.refresh()

    def select(self, urn: str) -> None:
        number = self.model.index_of(urn)
        if number is not None:
            self.table.selectRow(number)

    def _selection_changed(self, selected: QItemSelection, _old: QItemSelection) -> None:
        rows = selected.indexes()
        if rows:
            self.show_source(self.model.row_at(rows[0].row()).urn)

    def open_by_urn(self) -> None:
        text = self.urn_box.text().strip().upper()
        if text:
            self.table.clearSelection()
            self.show_source(text)

    # -- the detail -----------------------------------------------------------------------
    def show_source(self, urn: str) -> None:
        self._clear_detail()
        self._urn = urn
        self._load(urn)

    def _load(self, urn: str) -> None:
        session = self.session
        if session is None:
            return
        (
            self.operation(lambda: load_detail(session, urn))
            .success(lambda d: self._show_detail(urn, d) if self.session is session else None)
            .handle(lambda e: self.session is not session or self._denied(urn, e))
            .user_errors(self.message.show_error)
            .run()
        )

    def _show_detail(self, urn: str, detail: SourceDetail) -> None:
        if urn != self._urn:
            return  # another source was chosen meanwhile
        self._detail = detail
        self.detail.show_detail(detail)
        if detail.grant_expires:
            self._expiry.start()

    def _denied(self, urn: str, exc: CimError) -> bool:
        if urn != self._urn:
            return True
        self._detail = None
        session = self.session
        self.detail.show_refusal(
            urn,
            exc.message,
            session is not None and can_break_glass(session) and "break-glass" in exc.message,
        )
        return True

    def _clear_detail(self) -> None:
        self._urn = None
        self._detail = None
        self._expiry.stop()
        self.detail.clear()

    def clear_identity(self) -> None:
        self.detail.clear_identity()

    def _check_expiry(self) -> None:
        detail = self._detail
        if detail is None or not detail.grant_expires:
            self._expiry.stop()
        elif utc_now() >= parse_iso_utc(detail.grant_expires):
            self._expiry.stop()
            self.refresh()

    # -- actions --------------------------------------------------------------------------
    def _open_dialog(self, dialog: QDialog, signal: Any, then: Callable[[Any], None]) -> None:
        self._dialog = dialog
        signal.connect(then)
        dialog.finished.connect(lambda _r: self._forget_dialog(dialog))
        dialog.open()

    def _forget_dialog(self, dialog: QDialog) -> None:
        if self._dialog is dialog:
            self._dialog = None
        dialog.deleteLater()

    def register(self) -> None:
        if self.session is not None:
            dialog = RegisterDialog(self.session, self._worker, self)
            self._open_dialog(dialog, dialog.saved, self._registered)

    def _registered(self, record: Any) -> None:
        # Select the new source once the list reloads from the change set just published.
        self._urn = record.urn

    def assign(self) -> None:
        if self.session is not None and self._urn is not None:
            dialog = AssignDialog(self.session, self._worker, self._urn, self)
            # The list and the detail reload from the change set the dialog publishes.
            self._open_dialog(dialog, dialog.saved, lambda _m: None)

    def ask_identity(self) -> None:
        if self.session is not None and self._urn is not None:
            urn = self._urn
            dialog = IdentityReasonDialog(self.session, self._worker, urn, self)
            self._open_dialog(dialog, dialog.saved, lambda found: self._show_identity(urn, found))

    def _show_identity(self, urn: str, particulars: dict[str, str]) -> None:
        if urn != self._urn:
            return
        self.detail.show_identity(particulars)

    def break_glass(self) -> None:
        if self.session is not None and self._urn is not None:
            glass = BreakGlassDialog(self._worker, self.session, self._urn, self._policy, self)
            self._open_dialog(glass, glass.granted, self._granted)

    def _granted(self, grant: BreakGlassGrant) -> None:
        self._urn = grant.urn
