"""The Sources screen's forms: registering a source, assigning a team role, and the
reason asked before the sealed identity is shown."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from cim_desktop.domain.access.rules import TeamRole
from cim_desktop.services.sources import register as sources
from cim_desktop.ui.kit.form_dialog import FormDialog

if TYPE_CHECKING:
    from cim_desktop.services.session import Session
    from cim_desktop.ui.kit.worker import DbWorker


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
