"""The Officers screen's dialogs: create or edit an officer, record an accreditation, reset a
password. Changes that need a second administrator ask for one through the approval dialog
first (unless the bootstrap rule lets the change go alone).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.domain.clock import utc_now
from cim_desktop.domain.officers.passwords import MIN_LENGTH, check_new_password
from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.officers.rules import (
    GENDERS,
    Accreditation,
    NewAccreditation,
    Particulars,
    accreditation_problem,
    check_accreditation,
    check_particulars,
)
from cim_desktop.security.slotfile import check_username
from cim_desktop.services.officers import accounts
from cim_desktop.services.officers import management as officers
from cim_desktop.ui.kit.form_dialog import FormDialog, date_edit, day_of, with_approval
from cim_desktop.ui.kit.widgets import FieldError, note
from cim_desktop.ui.kit.worker import DbWorker

if TYPE_CHECKING:
    from cim_desktop.domain.officers.model import Officer
    from cim_desktop.domain.policy.settings import Policy
    from cim_desktop.services.access.approval import Approval
    from cim_desktop.services.session import Session

# The domain's field names (findings) that these forms call by another key.
FIELDS: dict[str, str] = {
    "collar_number": "collar",
    "completed_on": "date",
    "expires_on": "expiry",
}


class AccreditationFields:
    """Course, completion date, hours and an optional expiry, as typed."""

    def __init__(self, hours: int) -> None:
        self.course = QLineEdit()
        self.course.setObjectName("course")
        self.completed = date_edit()
        self.hours = QDoubleSpinBox()
        self.hours.setRange(0, 5000)
        self.hours.setDecimals(1)
        self.hours.setValue(float(hours))
        self.expires_on = QCheckBox("Expires on")
        self.expiry = date_edit()
        self.expiry.setEnabled(False)
        self.expires_on.toggled.connect(self.expiry.setEnabled)
        self.expiry_row = QWidget()
        line = QGridLayout(self.expiry_row)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.expires_on, 0, 0)
        line.addWidget(self.expiry, 0, 1)

    def value(self) -> NewAccreditation:
        return NewAccreditation(
            self.course.text(),
            day_of(self.completed),
            self.hours.value(),
            day_of(self.expiry) if self.expires_on.isChecked() else None,
        )


def add_accreditation_fields(
    dialog: FormDialog, form: QFormLayout, policy: Policy
) -> AccreditationFields:
    fields = AccreditationFields(policy.number("accreditation_min_hours"))
    dialog.add_field("course", "&Course", fields.course, form=form)
    dialog.add_field("date", "C&ompleted", fields.completed, form=form)
    dialog.add_field("hours", "&Hours", fields.hours, form=form)
    dialog.add_field("expiry", "", fields.expiry_row, form=form)
    return fields


class OfficerDialog(FormDialog):
    """Create an officer (``officer`` is None) or edit one's particulars and roles."""

    finding_fields = FIELDS

    def __init__(
        self,
        session: Session,
        worker: DbWorker,
        policy: Policy,
        officer: Officer | None = None,
        parent: QWidget | None = None,
    ) -> None:
        creating = officer is None
        super().__init__(
            f"Edit officer {officer.username}" if officer else "New officer",
            "The officer chooses their own password at first login. Handler and controller "
            "need a current accreditation."
            if creating
            else "Role changes are time-bounded records: a revoked role stays in the history.",
            session,
            worker,
            "Create officer" if creating else "Save changes",
            parent,
        )
        self._policy = policy
        self.officer = officer
        self.username = QLineEdit(officer.username if officer else "")
        self.username.setObjectName("username")
        self.username.setReadOnly(not creating)
        self.display_name = QLineEdit(officer.display_name if officer else "")
        self.collar = QLineEdit(officer.collar_number if officer else "")
        self.rank = QComboBox()
        self.rank.addItem("Not recorded", "")
        for rank in policy.ranks:
            self.rank.addItem(rank, rank)
        if officer and officer.rank and self.rank.findData(officer.rank) < 0:
            self.rank.addItem(officer.rank, officer.rank)  # a rank since removed from policy
        self.rank.setCurrentIndex(max(0, self.rank.findData(officer.rank if officer else "")))
        self.gender = QComboBox()
        for value, label in GENDERS:
            self.gender.addItem(label, value)
        self.gender.setCurrentIndex(max(0, self.gender.findData(officer.gender if officer else "")))
        self.add_field(
            "username",
            "&Username",
            self.username,
            "" if not creating else "Letters, digits, '.', '-' or '_'.",
        )
        self.add_field("display_name", "&Display name", self.display_name)
        self.add_field("collar", "&Collar number", self.collar)
        self.add_field("rank", "&Rank", self.rank)
        self.add_field("gender", "&Gender", self.gender)
        self.password = QLineEdit()
        self.repeat = QLineEdit()
        if creating:
            for field in (self.password, self.repeat):
                field.setEchoMode(QLineEdit.EchoMode.Password)
            self.add_field(
                "password",
                "&Temporary password",
                self.password,
                f"At least {MIN_LENGTH} characters; give it to the officer in person.",
            )
            self.add_field("repeat", "Re&peat it", self.repeat)

        # Outside the form layout, so that a long message under the roles can wrap.
        roles = QGroupBox("Roles")
        column = QVBoxLayout(roles)
        grid = QGridLayout()
        self.role_boxes: dict[Role, QCheckBox] = {}
        for i, role in enumerate(Role):
            box = QCheckBox(role.label)
            box.setChecked(bool(officer and officer.has(role)))
            box.toggled.connect(lambda _on: self.errors["roles"].clear_error())
            self.role_boxes[role] = box
            grid.addWidget(box, i // 3, i % 3)
        roles_error = FieldError()
        roles_error.setWordWrap(True)
        self.errors["roles"] = roles_error
        column.addLayout(grid)
        if officer is not None and officer.id == session.officer.id:
            for box in self.role_boxes.values():
                box.setEnabled(False)
            column.addWidget(note("Nobody changes their own roles: ask another administrator."))
        column.addWidget(roles_error)
        self._tail.addWidget(roles)

        self.accreditation = QGroupBox("Record an accreditation now")
        self.accreditation.setCheckable(True)
        self.accreditation.setChecked(False)
        self.course_fields: AccreditationFields | None = None
        if creating:
            self.course_fields = add_accreditation_fields(
                self, QFormLayout(self.accreditation), policy
            )
            self._tail.addWidget(self.accreditation)
        (self.display_name if officer else self.username).setFocus()

    def chosen_roles(self) -> frozenset[Role]:
        return frozenset(r for r, box in self.role_boxes.items() if box.isChecked())

    def particulars(self) -> Particulars:
        return Particulars(
            self.display_name.text(),
            self.collar.text(),
            str(self.rank.currentData()),
            str(self.gender.currentData()),
        )

    def new_accreditation(self) -> NewAccreditation | None:
        if self.course_fields is None or not self.accreditation.isChecked():
            return None
        return self.course_fields.value()

    def submit(self) -> None:
        creating = self.officer is None
        if creating:
            self.checked("username", lambda: check_username(self.username.text()))
        particulars = self.checked(
            "display_name", lambda: check_particulars(self.particulars(), self._policy.ranks)
        )
        roles = self.chosen_roles()
        course = self.new_accreditation()
        if creating:
            self.checked(
                "password",
                lambda: check_new_password(self.password.text(), self.username.text().strip()),
            )
            if self.repeat.text() != self.password.text():
                self.field_error("repeat", "The two passwords do not match.")
            if course is not None:
                typed = course
                course = self.checked(
                    "course", lambda: check_accreditation(typed, utc_now().date())
                )
            records = (
                [
                    Accreditation(
                        "",
                        "",
                        course.course,
                        course.completed_on,
                        course.hours,
                        course.expires_on,
                        "",
                        "",
                    )
                ]
                if course
                else []
            )
            gap = accreditation_problem(roles, records, self._policy, utc_now().date())
            if gap:
                self.field_error(
                    "roles",
                    gap.replace(
                        "Record the officer's accreditation first.",
                        "Record it below (Record an accreditation now).",
                    )
                    if course is None
                    else gap,
                )
        if self.shown_errors() or particulars is None:
            return
        if creating:
            if not roles:
                self._create(None)
                return
            self._ask(
                officers.PURPOSE_ADD,
                f"Create the officer '{self.username.text().strip()}' with the role(s): "
                f"{', '.join(r.label for r in Role if r in roles)}.",
                self._create,
            )
            return
        assert self.officer is not None
        grant = roles - self.officer.roles
        revoke = self.officer.roles - roles
        if not grant and not revoke:
            self._edit(None)
            return
        parts = [
            f"grant {', '.join(r.label for r in Role if r in grant)}" if grant else "",
            f"revoke {', '.join(r.label for r in Role if r in revoke)}" if revoke else "",
        ]
        self._ask(
            officers.PURPOSE_ROLES,
            f"For {self.officer.username}: {'; '.join(p for p in parts if p)}.",
            self._edit,
        )

    def _ask(self, purpose: str, summary: str, then: Callable[[Approval | None], None]) -> None:
        with_approval(self, self._session, self._worker, purpose, summary, then, self.show_problem)

    def _create(self, approval: Approval | None) -> None:
        session, roles = self._session, self.chosen_roles()
        username, password = self.username.text(), self.password.text()
        particulars, course = self.particulars(), self.new_accreditation()
        self.run(
            lambda: accounts.add_officer(
                session,
                username,
                password,
                roles,
                particulars=particulars,
                accreditations=[course] if course else [],
                approval=approval,
            ),
            "roles",
        )

    def _edit(self, approval: Approval | None) -> None:
        session, officer = self._session, self.officer
        assert officer is not None
        particulars, roles = self.particulars(), self.chosen_roles()

        def job() -> Officer:
            updated = officers.update_particulars(session, officer.id, particulars)
            grant, revoke = roles - officer.roles, officer.roles - roles
            if grant or revoke:
                updated = officers.change_roles(session, officer.id, grant, revoke, approval)
            return updated

        self.run(job, "roles")


class AccreditationDialog(FormDialog):
    finding_fields = FIELDS

    def __init__(
        self,
        session: Session,
        worker: DbWorker,
        policy: Policy,
        officer: Officer,
        parent: QWidget | None = None,
    ) -> None:
        hours = policy.number("accreditation_min_hours")
        super().__init__(
            f"Accreditation for {officer.username}",
            f"Handler and controller need a current course of at least {hours} hours.",
            session,
            worker,
            "Record",
            parent,
        )
        self.officer = officer
        self.course_fields = add_accreditation_fields(self, self.form, policy)
        self.course_fields.course.setFocus()

    def submit(self) -> None:
        new = self.course_fields.value()
        if self.checked("course", lambda: check_accreditation(new, utc_now().date())) is None:
            return
        session, officer_id = self._session, self.officer.id
        self.run(lambda: officers.record_accreditation(session, officer_id, new))


class ResetPasswordDialog(FormDialog):
    def __init__(
        self, session: Session, worker: DbWorker, officer: Officer, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            f"Reset the password of {officer.username}",
            "Give the officer a temporary password in person; they must choose "
            "their own at their next login. Once the vault has another "
            "administrator, they approve the reset.",
            session,
            worker,
            "Reset password",
            parent,
        )
        self.officer = officer
        self.password = QLineEdit()
        self.repeat = QLineEdit()
        for field in (self.password, self.repeat):
            field.setEchoMode(QLineEdit.EchoMode.Password)
        self.add_field(
            "password",
            "&Temporary password",
            self.password,
            f"At least {MIN_LENGTH} characters, not the username.",
        )
        self.add_field("repeat", "Re&peat it", self.repeat)
        self.password.setFocus()

    def submit(self) -> None:
        password = self.password.text()
        self.checked("password", lambda: check_new_password(password, self.officer.username))
        if self.repeat.text() != password:
            self.field_error("repeat", "The two passwords do not match.")
        if self.shown_errors():
            return
        session, officer_id = self._session, self.officer.id

        def go(approval: Approval | None) -> None:
            self.run(lambda: accounts.reset_password(session, officer_id, password, approval))

        with_approval(
            self,
            session,
            self._worker,
            officers.PURPOSE_RESET,
            f"Give {self.officer.username} a temporary password.",
            go,
            self.show_problem,
            exclude=frozenset({officer_id}),
        )
