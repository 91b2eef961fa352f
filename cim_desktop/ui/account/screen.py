"""My account: who I am on this vault, changing my password, and my declarations in the
notifiable associations register (seen by me and by professional standards only)."""

from __future__ import annotations

import html
from enum import IntEnum
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import QModelIndex, QPersistentModelIndex
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.domain.changes import Kind
from cim_desktop.domain.clock import utc_now
from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.officers.rules import Association
from cim_desktop.services.officers import associations
from cim_desktop.ui.account.password_change import PasswordChangeForm
from cim_desktop.ui.kit import dialogs, fmt
from cim_desktop.ui.kit.empty_state import EmptyState
from cim_desktop.ui.kit.form_dialog import FormDialog, date_edit, day_of
from cim_desktop.ui.kit.list_model import ListTableModel
from cim_desktop.ui.kit.screen import Screen
from cim_desktop.ui.kit.widgets import note, record_table
from cim_desktop.ui.kit.worker import DbWorker

if TYPE_CHECKING:
    from cim_desktop.services.session import Session

AnyIndex = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    NAME = 0
    RELATIONSHIP = 1
    DATE = 2
    STATUS = 3
    NOTES = 4


_HEADERS = ("Person", "Relationship", "Date", "Status", "Notes")


class DeclarationModel(ListTableModel[Association]):
    headers = _HEADERS

    def key(self, row: Association) -> Any:
        return row.id

    def display(self, row: Association, column: int) -> Any:
        col = Column(column)
        if col is Column.NAME:
            return row.person_name
        if col is Column.RELATIONSHIP:
            return row.relationship
        if col is Column.DATE:
            return fmt.day(row.association_date)
        if col is Column.NOTES:
            return " ".join(row.notes.split())
        if row.withdrawn_at is None:
            return "Current"
        return f"Withdrawn {fmt.stored_day(row.withdrawn_at)}"


class DeclareDialog(FormDialog):
    finding_fields: ClassVar[dict[str, str]] = {"person_name": "name", "association_date": "date"}

    def __init__(self, session: Session, worker: DbWorker, parent: QWidget | None = None) -> None:
        super().__init__(
            "Declare an association",
            "Declare any relationship with a person of concern: someone involved in crime, "
            "a person who may be a source, or anyone whose link to you could compromise your "
            "work. Only you and professional standards can see it.",
            session,
            worker,
            "Declare",
            parent,
        )
        self.person = QLineEdit()
        self.person.setObjectName("person")
        self.relationship = QLineEdit()
        self.relationship.setPlaceholderText("e.g. cousin, former partner, neighbour")
        self.when = date_edit()
        self.notes = QPlainTextEdit()
        self.notes.setFixedHeight(90)
        self.add_field("name", "&Name of the person", self.person)
        self.add_field("relationship", "&Relationship", self.relationship)
        self.add_field("date", "&Date", self.when, "When the association began or became known.")
        self.add_field("notes", "N&otes", self.notes)
        self.notes.textChanged.connect(self.errors["notes"].clear_error)
        self.person.setFocus()

    def submit(self) -> None:
        name, relation = " ".join(self.person.text().split()), self.relationship.text().strip()
        when, notes = day_of(self.when), self.notes.toPlainText()
        if not name:
            self.field_error("name", "Give the person's name.")
        if not relation:
            self.field_error("relationship", "Say how you know them.")
        if when > utc_now().date():
            self.field_error("date", "The date cannot be in the future.")
        if len(notes) > 2000:
            self.field_error("notes", "At most 2000 characters.")
        if self.shown_errors():
            return
        session = self._session
        self.run(lambda: associations.declare(session, name, relation, when, notes))


class AccountScreen(Screen):
    title = "My account"
    help_topic = "account"
    # Declarations are recorded against the officer (entity "association").
    kinds = frozenset({Kind.OFFICERS})

    def __init__(self, worker: DbWorker, parent: QWidget | None = None) -> None:
        super().__init__(worker, parent)
        self.dialog: DeclareDialog | None = None

        self.who = QLabel()
        self.who.setWordWrap(True)
        self.password_form = PasswordChangeForm(worker)
        self.password_form.changed.connect(self._password_changed)
        self.password_done = note("")
        self.password_done.hide()

        self.model = DeclarationModel(self)
        self.table = record_table(self.model)
        for column, width in (
            (Column.NAME, 160),
            (Column.RELATIONSHIP, 120),
            (Column.DATE, 95),
            (Column.STATUS, 150),
        ):
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.empty = EmptyState.attach(
            self.table,
            "You have declared no associations. Each one you declare is listed here; add "
            "the first with Declare an association…",
        )
        self.declare_button = QPushButton("Declare an association…")
        self.declare_button.setObjectName("primary")
        self.declare_button.clicked.connect(self.declare)
        self.withdraw_button = QPushButton("Withdraw…")
        self.withdraw_button.clicked.connect(self.withdraw)

        password_card = QFrame()
        password_card.setObjectName("card")
        pbox = QVBoxLayout(password_card)
        pbox.setContentsMargins(16, 12, 16, 14)
        title = QLabel("Change my password")
        title.setObjectName("subheading")
        pbox.addWidget(title)
        pbox.addWidget(
            note(
                "Your password seals your key to the vault; changing it re-seals "
                "the key. Nobody else can read your password."
            )
        )
        pbox.addWidget(self.password_form)
        pbox.addWidget(self.password_done)
        pbox.addStretch(1)

        declarations = QFrame()
        declarations.setObjectName("card")
        dbox = QVBoxLayout(declarations)
        dbox.setContentsMargins(16, 12, 16, 14)
        title = QLabel("My declarations (notifiable associations)")
        title.setObjectName("subheading")
        dbox.addWidget(title)
        dbox.addWidget(
            note(
                "Seen only by you and by professional standards; administrators "
                "cannot see them. A withdrawn declaration is kept, marked as "
                "withdrawn."
            )
        )
        dbox.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(self.withdraw_button)
        row.addStretch(1)
        row.addWidget(self.declare_button)
        dbox.addLayout(row)

        columns = QHBoxLayout()
        columns.setSpacing(14)
        columns.addWidget(password_card, 2)
        columns.addWidget(declarations, 3)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.who)
        layout.addLayout(columns, 1)
        self.set_content(content)
        self._update_buttons()

    # -- loading ------------------------------------------------------------------------
    def open(self, session: Session) -> None:
        o = session.officer
        roles = ", ".join(r.label for r in Role if r in o.roles) or "no role"
        facts = [
            f"Logged in as <b>{html.escape(o.username)}</b> ({html.escape(o.display_name)})",
            html.escape(o.rank) if o.rank else "",
            f"Roles: {html.escape(roles)}",
        ]
        self.who.setText(" · ".join(f for f in facts if f))
        self.password_form.set_session(session)
        self.password_done.hide()
        super().open(session)

    def clear(self) -> None:
        self.who.clear()
        self.model.set_rows([])
        self.password_form.set_session(None)
        self.password_done.hide()
        self._update_buttons()

    def fetch(self, session: Session) -> list[Association]:
        return associations.declarations(session)

    def show_data(self, data: Any) -> None:
        self.model.set_rows(data)
        self._update_buttons()

    def selected(self) -> Association | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.rows[rows[0].row()] if rows else None

    def _update_buttons(self) -> None:
        chosen = self.selected()
        self.withdraw_button.setEnabled(chosen is not None and chosen.active)
        self.declare_button.setEnabled(self.session is not None)

    # -- actions --------------------------------------------------------------------------
    def _password_changed(self) -> None:
        self.password_done.setText(
            f"Password changed at {fmt.clock(utc_now())}. Use the new one from now on."
        )
        self.password_done.show()

    def declare(self) -> None:
        if self.session is None:
            return
        # The list reloads from the change set the declaration publishes.
        self.dialog = DeclareDialog(self.session, self.worker, self)
        self.dialog.open()

    def withdraw(self) -> None:
        session, chosen = self.session, self.selected()
        if session is None or chosen is None:
            return
        if not dialogs.question(
            self,
            "Withdraw declaration",
            f"Withdraw your declaration about {chosen.person_name}? It "
            "stays on record, marked as withdrawn.",
            yes="Withdraw",
            no="Keep it",
        ):
            return
        self.operation(lambda: associations.withdraw(session, chosen.id)).run()
