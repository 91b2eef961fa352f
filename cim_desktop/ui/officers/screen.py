"""The Officers screen: the list with filters, one officer's details, and the account actions
(create, edit roles and particulars, accreditation, reset password, release a lockout,
suspend, reinstate, mark as left).

Every read and change goes through the worker and the services, which check the officer's
role, ask for approvals and write the audit rows: opening the list and each officer's details
is itself recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.domain.changes import Kind
from cim_desktop.domain.officers.model import Officer, OfficerStatus
from cim_desktop.domain.officers.roles import Role
from cim_desktop.services.officers import accounts
from cim_desktop.services.officers import management as officers
from cim_desktop.services.policy import settings as policy
from cim_desktop.ui.kit import dialogs
from cim_desktop.ui.kit.empty_state import EmptyState
from cim_desktop.ui.kit.form_dialog import FormDialog, with_approval
from cim_desktop.ui.kit.screen import Screen
from cim_desktop.ui.kit.widgets import note, record_table
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.officers.dialogs import AccreditationDialog, OfficerDialog, ResetPasswordDialog
from cim_desktop.ui.officers.model import Column, Listed, OfficerFilter, OfficerModel, describe

if TYPE_CHECKING:
    from cim_desktop.domain.policy.settings import Policy
    from cim_desktop.services.access.approval import Approval
    from cim_desktop.services.officers.management import OfficerDetails
    from cim_desktop.services.session import Session


class OfficersScreen(Screen):
    title = "Officers"
    intro = (
        "Accounts, roles and accreditation. Role changes, resets and status changes need a "
        "second administrator. Opening the list or an officer's details is recorded in the "
        "audit trail."
    )
    help_topic = "officers"
    # The policy sets the accreditation minimum the dialogs check and describe.
    kinds = frozenset({Kind.OFFICERS, Kind.POLICY})

    def __init__(self, worker: DbWorker, parent: QWidget | None = None) -> None:
        super().__init__(worker, parent)
        self._policy: Policy | None = None
        self.details: OfficerDetails | None = None
        self.dialog: FormDialog | None = None

        self.model = OfficerModel(self)
        self.proxy = OfficerFilter(self)
        self.proxy.setSourceModel(self.model)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Name, username or collar number")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(240)
        self.role_filter = QComboBox()
        self.role_filter.addItem("All roles", None)
        for role in Role:
            self.role_filter.addItem(role.label, role)
        self.status_filter = QComboBox()
        self.status_filter.addItem("All statuses", None)
        for status in OfficerStatus:
            self.status_filter.addItem(status.value.capitalize(), status)
        self.count_label = note("")
        self.new_button = QPushButton("New officer…")
        self.new_button.setObjectName("primary")
        self.new_button.clicked.connect(self.create_officer)
        self.search.textChanged.connect(self._apply_filter)
        self.role_filter.currentIndexChanged.connect(self._apply_filter)
        self.status_filter.currentIndexChanged.connect(self._apply_filter)
        filters = QHBoxLayout()
        filters.setSpacing(8)
        for text, widget in (
            ("Find", self.search),
            ("Role", self.role_filter),
            ("Status", self.status_filter),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            filters.addWidget(label)
            filters.addWidget(widget)
            filters.addSpacing(6)
        filters.addStretch(1)
        filters.addWidget(self.count_label)
        filters.addWidget(self.new_button)

        self.table = record_table(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(Column.USERNAME, Qt.SortOrder.AscendingOrder)
        for col, width in (
            (Column.USERNAME, 95),
            (Column.NAME, 140),
            (Column.COLLAR, 75),
            (Column.RANK, 100),
            (Column.ROLES, 190),
            (Column.STATUS, 75),
        ):
            self.table.setColumnWidth(col, width)
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.empty = EmptyState.attach(
            self.table,
            "No officers to show. Everyone who may open this vault is listed here; an "
            "administrator adds an officer with New officer…",
        )

        self.panel = self._build_panel()
        split = QSplitter()
        split.addWidget(self.table)
        split.addWidget(self.panel)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        split.setSizes([780, 420])
        listing = QWidget()
        stack = QVBoxLayout(listing)
        stack.setContentsMargins(0, 0, 0, 0)
        stack.addLayout(filters)
        stack.addWidget(split, 1)
        self.set_content(listing)
        self._show_details(None)

    def _build_panel(self) -> QFrame:
        panel = QFrame()
        panel.setObjectName("card")
        self.details_title = QLabel()
        self.details_title.setObjectName("subheading")
        self.details_text = QLabel()
        self.details_text.setWordWrap(True)
        self.details_text.setTextFormat(Qt.TextFormat.RichText)
        self.details_text.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.edit_button = QPushButton("Edit…")
        self.accredit_button = QPushButton("Record accreditation…")
        self.reset_button = QPushButton("Reset password…")
        self.release_button = QPushButton("Release lockout")
        self.suspend_button = QPushButton("Suspend")
        self.left_button = QPushButton("Mark as left")
        self.edit_button.clicked.connect(self.edit_officer)
        self.accredit_button.clicked.connect(self.record_accreditation)
        self.reset_button.clicked.connect(self.reset_password)
        self.release_button.clicked.connect(self.release_lockout)
        self.suspend_button.clicked.connect(self.toggle_suspension)
        self.left_button.clicked.connect(self.mark_left)
        grid = QGridLayout()
        buttons = (
            self.edit_button,
            self.accredit_button,
            self.reset_button,
            self.release_button,
            self.suspend_button,
            self.left_button,
        )
        for i, button in enumerate(buttons):
            grid.addWidget(button, i // 2, i % 2)
        self._actions = buttons
        box = QVBoxLayout(panel)
        box.setContentsMargins(16, 12, 16, 12)
        box.addWidget(self.details_title)
        box.addWidget(self.details_text, 1)
        box.addLayout(grid)
        return panel

    # -- loading ------------------------------------------------------------------------
    def search_field(self) -> QLineEdit:
        return self.search

    def clear(self) -> None:
        self._policy = None
        self.model.set_rows([])
        self._show_details(None)
        self.search.clear()
        self.count_label.clear()

    def fetch(self, session: Session) -> tuple[list[Listed], Policy]:
        found = accounts.list_officers(session)
        locked = set(accounts.locked_usernames(session))
        return [Listed(o, o.username in locked) for o in found], policy.current(session)

    def show_data(self, data: Any) -> None:
        assert self.session is not None
        rows: list[Listed]
        rows, self._policy = data
        keep = self.details.officer.id if self.details else None
        self.model.set_rows(rows)
        self._update_count()
        self.new_button.setEnabled(self.session.officer.has(Role.ADMINISTRATOR))
        if keep is None or not self.select(keep):
            self._show_details(None)

    def _apply_filter(self) -> None:
        self.proxy.set_filter(
            self.search.text(), self.role_filter.currentData(), self.status_filter.currentData()
        )
        self._update_count()

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(
            f"{shown} of {total} officers"
            if shown != total
            else f"{total} officer{'s' if total != 1 else ''}"
        )

    # -- selection and details ------------------------------------------------------------
    def select(self, officer_id: str) -> bool:
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(Qt.ItemDataRole.UserRole) == officer_id:
                self.table.selectRow(row)
                return True
        return False

    def selected_officer(self) -> Officer | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        source = self.proxy.mapToSource(rows[0])
        return self.model.rows[source.row()].officer

    def _selected(self) -> None:
        officer, session = self.selected_officer(), self.session
        if officer is None or session is None:
            self._show_details(None)
            return
        officer_id = officer.id
        (
            self.operation(lambda: officers.details(session, officer_id))
            .stale("details")
            # an audited view: the audit trail grows, this screen need not reload for it
            .initiated_by(self.load_tag)
            .success(self._show_details)
            .run()
        )

    def _show_details(self, details: OfficerDetails | None) -> None:
        self.details = details
        session = self.session
        admin = session is not None and session.officer.has(Role.ADMINISTRATOR)
        if details is None:
            self.details_title.setText("No officer selected")
            self.details_text.setText(
                "Choose an officer in the list to see their roles, accreditation and account."
            )
            for button in self._actions:
                button.setEnabled(False)
            return
        o = details.officer
        self.details_title.setText(f"{o.display_name} ({o.username})")
        self.details_text.setText(describe(details, o.username in self._locked_names()))
        own = session is not None and o.id == session.officer.id
        left = o.status is OfficerStatus.LEFT
        self.edit_button.setEnabled(admin and not left)
        self.accredit_button.setEnabled(admin and not own and not left)
        self.reset_button.setEnabled(admin and not own and not left)
        self.release_button.setEnabled(admin and not own and o.username in self._locked_names())
        self.suspend_button.setText(
            "Reinstate" if o.status is OfficerStatus.SUSPENDED else "Suspend"
        )
        self.suspend_button.setEnabled(admin and not own and not left)
        self.left_button.setEnabled(admin and not own and not left)

    def _locked_names(self) -> set[str]:
        return {r.officer.username for r in self.model.rows if r.locked}

    # -- actions --------------------------------------------------------------------------
    def _open(self, dialog: FormDialog) -> None:
        self.dialog = dialog
        # The list reloads from the change set the dialog's save publishes.
        dialog.open()

    def create_officer(self) -> None:
        if self.session is not None and self._policy is not None:
            self._open(OfficerDialog(self.session, self.worker, self._policy, None, self))

    def edit_officer(self) -> None:
        if self.session is not None and self._policy is not None and self.details:
            self._open(
                OfficerDialog(self.session, self.worker, self._policy, self.details.officer, self)
            )

    def record_accreditation(self) -> None:
        if self.session is not None and self._policy is not None and self.details:
            self._open(
                AccreditationDialog(
                    self.session, self.worker, self._policy, self.details.officer, self
                )
            )

    def reset_password(self) -> None:
        if self.session is not None and self.details:
            self._open(ResetPasswordDialog(self.session, self.worker, self.details.officer, self))

    def release_lockout(self) -> None:
        session, details = self.session, self.details
        if session is None or details is None:
            return
        name = details.officer.username
        if not dialogs.question(
            self,
            "Release lockout",
            f"Release the lockout on '{name}'? Confirm who they are first "
            "(in person or by a known phone number).",
        ):
            return
        self.operation(
            lambda: accounts.release(session, name, "released on the Officers screen")
        ).run()

    def toggle_suspension(self) -> None:
        details = self.details
        if details is None:
            return
        suspended = details.officer.status is OfficerStatus.SUSPENDED
        target = OfficerStatus.ACTIVE if suspended else OfficerStatus.SUSPENDED
        verb = "Reinstate" if suspended else "Suspend"
        self._status(
            target,
            f"{verb} {details.officer.username}?",
            "They can log in again."
            if suspended
            else "They cannot log in until reinstated; their roles are kept.",
        )

    def mark_left(self) -> None:
        if self.details is not None:
            self._status(
                OfficerStatus.LEFT,
                f"Mark {self.details.officer.username} as left?",
                "Every role they hold ends now. This cannot be undone.",
            )

    def _status(self, status: OfficerStatus, question: str, consequence: str) -> None:
        session, details = self.session, self.details
        if session is None or details is None:
            return
        if not dialogs.question(self, "Officer status", f"{question} {consequence}"):
            return
        officer_id = details.officer.id

        def go(approval: Approval | None) -> None:
            self.operation(lambda: officers.set_status(session, officer_id, status, approval)).run()

        with_approval(
            self,
            session,
            self.worker,
            officers.status_purpose(status),
            f"{question} {consequence}",
            go,
        )
