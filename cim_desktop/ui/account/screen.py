"""My account: who I am on this vault, changing my password, and my declarations in the
notifiable associations register (seen by me and by professional standards only)."""

from __future__ import annotations

import html
from enum import IntEnum
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Signal
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

from cim_desktop.domain.clock import utc_now
from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.officers.rules import Association
from cim_desktop.errors import CimError
from cim_desktop.services.officers import associations
from cim_desktop.ui.account.password_change import PasswordChangeForm
from cim_desktop.ui.kit import crash, dialogs
from cim_desktop.ui.kit.form_dialog import FormDialog, date_edit, day_of
from cim_desktop.ui.kit.list_model import ListTableModel
from cim_desktop.ui.kit.widgets import heading, note, record_table
from cim_desktop.ui.kit.worker import DbWorker

if TYPE_CHECKING:
    from cim_desktop.services.session import Session

AnyIndex = QModelIndex | QPersistentModelIndex
TOPIC = "associations"


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
            return f"{row.association_date:%d %b %Y}"
        if col is Column.NOTES:
            return " ".join(row.notes.split())
        return "Current" if row.withdrawn_at is None else f"Withdrawn {row.withdrawn_at[:10]}"


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


class AccountScreen(QWidget):
    changed = Signal(str)

    def __init__(self, worker: DbWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._worker = worker
        self._session: Session | None = None
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
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 12)
        layout.setSpacing(8)
        layout.addWidget(heading("My account"))
        layout.addWidget(self.who)
        layout.addLayout(columns, 1)
        self._update_buttons()

    # -- opening and closing --------------------------------------------------------------
    def open(self, session: Session) -> None:
        self._session = session
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
        self._reload()

    def close_view(self) -> None:
        self._session = None
        self.who.clear()
        self.model.set_rows([])
        self.password_form.set_session(None)
        self.password_done.hide()
        self._update_buttons()

    def on_data_changed(self, topic: str) -> None:
        if topic == TOPIC and self._session is not None:
            self._reload()

    def _reload(self) -> None:
        session = self._session
        if session is None:
            return
        self._worker.run(
            lambda: associations.declarations(session), self._loaded, self._failed, owner=self
        )

    def _loaded(self, rows: list[Association]) -> None:
        if self._session is not None:
            self.model.set_rows(rows)
            self._update_buttons()

    def selected(self) -> Association | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.rows[rows[0].row()] if rows else None

    def _update_buttons(self) -> None:
        chosen = self.selected()
        self.withdraw_button.setEnabled(chosen is not None and chosen.active)
        self.declare_button.setEnabled(self._session is not None)

    # -- actions --------------------------------------------------------------------------
    def _password_changed(self) -> None:
        self.password_done.setText(
            f"Password changed at {utc_now().astimezone():%H:%M}. Use the new one from now on."
        )
        self.password_done.show()
        self.changed.emit("audit")

    def declare(self) -> None:
        if self._session is None:
            return
        self.dialog = DeclareDialog(self._session, self._worker, self)
        self.dialog.saved.connect(lambda _r: self._declared())
        self.dialog.open()

    def _declared(self) -> None:
        self.changed.emit(TOPIC)
        self.changed.emit("audit")
        self._reload()

    def withdraw(self) -> None:
        session, chosen = self._session, self.selected()
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
        self._worker.run(
            lambda: associations.withdraw(session, chosen.id),
            lambda _r: self._declared(),
            self._failed,
            owner=self,
        )

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, CimError):
            dialogs.warning(self, "My account", exc.message)
        else:
            crash.report(exc, self)
