"""The Sources screen: the register as the officer may see it, one source's detail, and the
ways in that the access model allows (team roles, the sealed identity, break-glass).

Every read and change runs on the worker through ``services.sources`` and
``services.access``; the screen never touches the database on the GUI thread. Identity
particulars are shown in a label that cannot be selected or copied and are dropped as soon
as another source is chosen or the screen closes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import QItemSelection, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.domain.access.rules import REGISTER_ROLES, TeamRole
from cim_desktop.domain.clock import parse_iso_utc, utc_now
from cim_desktop.domain.policy.settings import Policy
from cim_desktop.domain.sources.model import IDENTITY_FIELDS, BreakGlassGrant
from cim_desktop.errors import CimError
from cim_desktop.services.access import permissions as access
from cim_desktop.services.sources import register as sources
from cim_desktop.services.sources.register import SourceSummary
from cim_desktop.ui.access.break_glass import BreakGlassDialog
from cim_desktop.ui.kit import crash
from cim_desktop.ui.kit.form_dialog import FormDialog
from cim_desktop.ui.kit.widgets import FieldError, heading, note, record_table
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.sources.model import (
    Column,
    SourceDetail,
    SourcesTableModel,
    can_break_glass,
    load_detail,
    matches,
    status_label,
    team_text,
)

if TYPE_CHECKING:
    from cim_desktop.services.session import Session

RELOAD_TOPICS = frozenset({"sources", "break-glass", "policy", "officers"})


# -- dialogs -------------------------------------------------------------------------------
class RegisterDialog(FormDialog):
    # URN messages are too long for a one-line field error; they go in the form error.
    finding_fields: ClassVar[dict[str, str]] = {"urn": ""}

    def __init__(self, session: Session, worker: DbWorker, parent: QWidget | None) -> None:
        super().__init__(
            "Register a source",
            "You join the new source's team. Its identity "
            "is recorded separately, by the record keeper.",
            session,
            worker,
            "Register",
            parent,
        )
        self.pseudonym = QLineEdit()
        self.pseudonym.setAccessibleName("Pseudonym")
        self.urn = QLineEdit()
        self.urn.setAccessibleName("URN")
        self.add_field("pseudonym", "Pseudonym", self.pseudonym)
        self.add_field("urn", "URN", self.urn, "Leave blank for the next URN in the unit's format")

    def submit(self) -> None:
        session, pseudonym, urn = self._session, self.pseudonym.text(), self.urn.text()
        if not pseudonym.strip():
            self.field_error("pseudonym", "Give the source a pseudonym.")
            return
        self.run(lambda: sources.register_source(session, pseudonym, urn))


class AssignDialog(FormDialog):
    def __init__(
        self, session: Session, worker: DbWorker, urn: str, parent: QWidget | None
    ) -> None:
        super().__init__(f"Assign to the team of {urn}", "", session, worker, "Assign", parent)
        self._urn = urn
        self.username = QLineEdit()
        self.username.setAccessibleName("Officer's username")
        self.team_role = QComboBox()
        for role in TeamRole:
            self.team_role.addItem(role.label, role)
        self.add_field("username", "Officer", self.username, "Their username")
        self.add_field("team_role", "Team role", self.team_role)

    def submit(self) -> None:
        session, urn = self._session, self._urn
        username = self.username.text().strip()
        role = TeamRole(self.team_role.currentData())
        if not username:
            self.field_error("username", "Name the officer to assign.")
            return
        self.run(lambda: sources.assign_team_role(session, urn, username, role), "username")


class IdentityReasonDialog(FormDialog):
    """Asks why; the particulars come back through ``saved`` (and go straight to the panel)."""

    def __init__(
        self, session: Session, worker: DbWorker, urn: str, parent: QWidget | None
    ) -> None:
        super().__init__(
            f"Show the identity of {urn}",
            "Every view of a source's identity is recorded with its reason and reviewed.",
            session,
            worker,
            "Show identity",
            parent,
        )
        self._urn = urn
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason")
        self.add_field("reason", "Reason", self.reason)

    def submit(self) -> None:
        session, urn, reason = self._session, self._urn, self.reason.text()
        if not reason.strip():
            self.field_error("reason", "State the reason: it is recorded in the audit trail.")
            return
        self.run(lambda: sources.view_identity(session, urn, reason), "reason")


# -- the screen ----------------------------------------------------------------------------
class SourcesScreen(QWidget):
    changed = Signal(str)

    def __init__(self, worker: DbWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._worker = worker
        self._session: Session | None = None
        self._policy = Policy.defaults()
        self._rows: list[SourceSummary] = []
        self._urn: str | None = None  # the source the detail panel is for
        self._detail: SourceDetail | None = None
        self._dialog: QDialog | None = None
        self._emitting = ""
        self.model = SourcesTableModel(self)

        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by URN, pseudonym or status")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(lambda _t: self._show_rows())
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

        # The detail panel.
        self.title = QLabel()
        self.title.setObjectName("subheading")
        self.facts = QLabel()
        self.facts.setWordWrap(True)
        self.team_label = QLabel()
        self.team_label.setWordWrap(True)
        self.assign_button = QPushButton("Assign to team…")
        self.assign_button.clicked.connect(self.assign)
        self.identity_button = QPushButton("Show identity…")
        self.identity_button.clicked.connect(self.ask_identity)
        self.glass_button = QPushButton("Break glass…")
        self.glass_button.clicked.connect(self.break_glass)
        self.detail_error = FieldError()
        self.detail_error.setWordWrap(True)
        self.identity = QLabel()
        self.identity.setObjectName("identityPanel")
        self.identity.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.identity.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self.identity.setWordWrap(True)
        self.identity.setStyleSheet(
            "QLabel#identityPanel { background: #fff4d6; border: 1px "
            "solid #c98a00; padding: 10px; color: #3a2c00; }"
        )
        self.identity.hide()
        buttons = QHBoxLayout()
        for button in (self.assign_button, self.identity_button, self.glass_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.detail = QFrame()
        self.detail.setObjectName("card")
        self.detail.setMinimumWidth(340)
        column = QVBoxLayout(self.detail)
        column.setContentsMargins(16, 14, 16, 14)
        column.setSpacing(8)
        column.addWidget(self.title)
        column.addWidget(self.facts)
        team_heading = QLabel("Current team")
        team_heading.setStyleSheet("font-weight: bold;")
        self.team_heading = team_heading
        column.addWidget(team_heading)
        column.addWidget(self.team_label)
        column.addLayout(buttons)
        column.addWidget(self.detail_error)
        column.addWidget(self.identity)
        column.addStretch(1)
        self.detail.hide()

        body = QHBoxLayout()
        body.setSpacing(12)
        body.addWidget(self.table, 3)
        body.addWidget(self.detail, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 12)
        layout.setSpacing(8)
        layout.addWidget(heading("Sources"))
        layout.addWidget(
            note(
                "The sources on your caseload, and others only as far as the "
                "unit's rules allow. Every view is recorded."
            )
        )
        layout.addLayout(tools)
        layout.addWidget(self.message)
        layout.addLayout(body, 1)

        # Break-glass content disappears when its grant runs out (on the application clock).
        self._expiry = QTimer(self)
        self._expiry.setInterval(500)
        self._expiry.timeout.connect(self._check_expiry)

    @property
    def dialog(self) -> QDialog | None:
        """The dialog this screen has open, if any."""
        return self._dialog

    # -- opening and closing --------------------------------------------------------------
    def open(self, session: Session) -> None:
        self._session = session
        self.register_button.setVisible(bool(session.officer.roles & set(REGISTER_ROLES)))
        self._run(lambda: access.current_policy(session), self._got_policy)
        self.reload()

    def close_view(self) -> None:
        """Drop every row, the detail, the particulars and any open dialog."""
        self._session = None
        if self._dialog is not None:
            self._dialog.reject()
            self._dialog = None
        self._rows = []
        self.model.set_rows([])
        self.filter.clear()
        self.urn_box.clear()
        self.count.clear()
        self.message.clear_error()
        self._clear_detail()

    def on_data_changed(self, topic: str) -> None:
        if topic in RELOAD_TOPICS and topic != self._emitting and self._session is not None:
            if topic == "policy":
                session = self._session
                self._run(lambda: access.current_policy(session), self._got_policy)
            self.reload()

    def _emit(self, topic: str) -> None:
        self._emitting = topic
        try:
            self.changed.emit(topic)
        finally:
            self._emitting = ""

    def _run(
        self,
        job: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[BaseException], None] | None = None,
    ) -> None:
        session = self._session

        def deliver(result: Any) -> None:
            if self._session is session:  # not a late answer for a closed session
                done(result)

        def fail(exc: BaseException) -> None:
            if self._session is not session:
                return
            if failed is not None:
                failed(exc)
            elif isinstance(exc, CimError):
                self.message.show_error(exc.message)
            else:
                crash.report(exc, self)

        self._worker.run(job, deliver, fail, owner=self)

    def _got_policy(self, policy: Policy) -> None:
        self._policy = policy

    # -- the list -------------------------------------------------------------------------
    def reload(self) -> None:
        session = self._session
        if session is not None:
            self._run(lambda: sources.list_sources(session), self._listed)

    def _listed(self, rows: list[SourceSummary]) -> None:
        self._rows = rows
        self._show_rows()
        urn = self._urn
        if urn is not None:
            if urn in {r.urn for r in rows}:
                self._load(urn)
            elif self._detail is not None:
                self._clear_detail()  # no longer visible (a break-glass grant ran out)

    def _show_rows(self) -> None:
        keep = self._urn
        shown = [r for r in self._rows if matches(r, self.filter.text())]
        self.table.selectionModel().blockSignals(True)
        self.model.set_rows(shown)
        urns = [r.urn for r in shown]
        if keep in urns:
            self.table.selectRow(urns.index(keep))
        self.table.selectionModel().blockSignals(False)
        total = len(self._rows)
        self.count.setText(
            f"{len(shown)} of {total}"
            if len(shown) != total
            else f"{total} source{'s' if total != 1 else ''}"
        )

    def select(self, urn: str) -> None:
        urns = [r.urn for r in self.model.rows]
        self.table.selectRow(urns.index(urn))

    def _selection_changed(self, selected: QItemSelection, _old: QItemSelection) -> None:
        rows = selected.indexes()
        if rows:
            self.show_source(self.model.rows[rows[0].row()].urn)

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
        session = self._session
        if session is None:
            return
        self._run(
            lambda: load_detail(session, urn),
            lambda d: self._show_detail(urn, d),
            lambda e: self._denied(urn, e),
        )

    def _show_detail(self, urn: str, detail: SourceDetail) -> None:
        if urn != self._urn:
            return  # another source was chosen meanwhile
        self._detail = detail
        self.detail_error.clear_error()
        self.title.setText(detail.urn)
        content = (
            detail.pseudonym
            if detail.pseudonym is not None
            else "not open to you (outside your caseload)"
        )
        facts = f"Status: {status_label(detail.status)}\nPseudonym: {content}"
        if detail.grant_expires:
            facts += "\nOpen by break-glass: recorded, and reviewed by a controller."
        self.facts.setText(facts)
        self.team_heading.show()
        self.team_label.setText(team_text(detail.team))
        self.team_label.show()
        self.assign_button.setVisible(detail.can_manage_team)
        self.identity_button.setVisible(detail.can_view_identity)
        self.glass_button.setVisible(detail.can_break_glass)
        self.detail.show()
        if detail.grant_expires:
            self._expiry.start()

    def _denied(self, urn: str, exc: BaseException) -> None:
        if urn != self._urn:
            return
        if not isinstance(exc, CimError):
            crash.report(exc, self)
            return
        self._detail = None
        self.title.setText(urn)
        self.facts.setText("")
        self.team_heading.hide()
        self.team_label.hide()
        self.assign_button.hide()
        self.identity_button.hide()
        session = self._session
        self.glass_button.setVisible(
            session is not None and can_break_glass(session) and "break-glass" in exc.message
        )
        self.detail_error.show_error(exc.message)
        self.detail.show()

    def _clear_detail(self) -> None:
        self._urn = None
        self._detail = None
        self._expiry.stop()
        self.clear_identity()
        for label in (self.title, self.facts, self.team_label):
            label.clear()
        self.detail_error.clear_error()
        self.detail.hide()

    def clear_identity(self) -> None:
        self.identity.clear()
        self.identity.hide()

    def _check_expiry(self) -> None:
        detail = self._detail
        if detail is None or not detail.grant_expires:
            self._expiry.stop()
        elif utc_now() >= parse_iso_utc(detail.grant_expires):
            self._expiry.stop()
            self.reload()

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
        if self._session is not None:
            dialog = RegisterDialog(self._session, self._worker, self)
            self._open_dialog(dialog, dialog.saved, self._registered)

    def _registered(self, record: Any) -> None:
        self._urn = record.urn
        self._emit("sources")
        self.reload()

    def assign(self) -> None:
        if self._session is not None and self._urn is not None:
            dialog = AssignDialog(self._session, self._worker, self._urn, self)
            self._open_dialog(dialog, dialog.saved, lambda _m: self._team_changed())

    def _team_changed(self) -> None:
        self._emit("sources")
        self.reload()

    def ask_identity(self) -> None:
        if self._session is not None and self._urn is not None:
            urn = self._urn
            dialog = IdentityReasonDialog(self._session, self._worker, urn, self)
            self._open_dialog(dialog, dialog.saved, lambda found: self._show_identity(urn, found))

    def _show_identity(self, urn: str, particulars: dict[str, str]) -> None:
        if urn != self._urn:
            return
        if not particulars:
            text = "No identity particulars are recorded for this source."
        else:
            text = "\n".join(
                f"{label}: {particulars[key]}"
                for key, label in IDENTITY_FIELDS.items()
                if key in particulars
            )
        self.identity.setText("SEALED IDENTITY (cleared when you leave this source)\n\n" + text)
        self.identity.show()
        self._emit("audit")

    def break_glass(self) -> None:
        if self._session is not None and self._urn is not None:
            glass = BreakGlassDialog(self._worker, self._session, self._urn, self._policy, self)
            self._open_dialog(glass, glass.granted, self._granted)

    def _granted(self, grant: BreakGlassGrant) -> None:
        self._urn = grant.urn
        self._emit("break-glass")
        self.reload()
