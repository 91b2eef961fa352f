"""Rules about officers that need no database: accreditation, particulars, name matching.

Each rule is a pure function so forms, services and tests share one definition.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from cim_desktop.domain.findings import field_problem
from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.policy.settings import Policy
from cim_desktop.domain.text import check_storable

# Roles that need a current accreditation while the policy says so.
ACCREDITED_ROLES = frozenset({Role.HANDLER, Role.CONTROLLER})

GENDERS: tuple[tuple[str, str], ...] = (
    ("", "Not recorded"),
    ("female", "Female"),
    ("male", "Male"),
    ("other", "Other"),
)
_COLLAR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 /-]{0,19}$")


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Accreditation:
    id: str
    officer_id: str
    course: str
    completed_on: date
    hours: float
    expires_on: date | None
    recorded_by: str
    recorded_at: str

    def current_on(self, day: date) -> bool:
        """Completed by ``day`` and not expired: valid up to and including its expiry date."""
        return self.completed_on <= day and (self.expires_on is None or day <= self.expires_on)


@dataclass(frozen=True)
class NewAccreditation:
    """An accreditation as typed in, before it is checked and stored."""

    course: str
    completed_on: date
    hours: float
    expires_on: date | None = None


@dataclass(frozen=True)
class RoleAssignment:
    """One holding of a role: open while ``valid_to`` is None. Never deleted."""

    role: Role
    valid_from: str
    valid_to: str | None
    granted_by: str
    revoked_by: str | None


@dataclass(frozen=True)
class Association:
    """A notifiable association an officer declared. Withdrawing keeps the record."""

    id: str
    officer_id: str
    person_name: str
    relationship: str
    association_date: date
    notes: str
    recorded_at: str
    withdrawn_at: str | None = None

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


@dataclass(frozen=True)
class Particulars:
    display_name: str
    collar_number: str = ""
    rank: str = ""
    gender: str = ""


def accreditation_problem(
    roles: frozenset[Role] | set[Role], records: list[Accreditation], policy: Policy, today: date
) -> str:
    """Why ``roles`` cannot be held on these records, or '' when they can."""
    gated = sorted(r.label for r in ACCREDITED_ROLES if r in roles)
    if not gated or not policy.flag("accredited_handlers_only"):
        return ""
    hours = policy.number("accreditation_min_hours")
    if any(a.current_on(today) and a.hours >= hours for a in records):
        return ""
    subject = (
        f"The {'roles' if len(gated) > 1 else 'role'} {' and '.join(gated)} "
        f"{'need' if len(gated) > 1 else 'needs'}"
    )
    return (
        f"{subject} a current, unexpired accreditation of at least {hours} hours. "
        "Record the officer's accreditation first."
    )


def check_accreditation(new: NewAccreditation, today: date) -> NewAccreditation:
    course = " ".join(check_storable(new.course, "Course", field="course").split())
    if not 1 <= len(course) <= 120:
        raise field_problem(
            "accreditation.course",
            "course",
            "Course",
            "give the course name (up to 120 characters).",
        )
    if new.completed_on > today:
        raise field_problem(
            "accreditation.future-date",
            "completed_on",
            "Date",
            "the course completion date cannot be in the future.",
        )
    if not 0 < new.hours <= 5000:
        raise field_problem(
            "accreditation.hours",
            "hours",
            "Hours",
            "give the course hours (more than 0, at most 5000).",
        )
    if new.expires_on is not None and new.expires_on <= new.completed_on:
        raise field_problem(
            "accreditation.expiry",
            "expires_on",
            "Expiry",
            "the expiry date must be after the completion date.",
        )
    return NewAccreditation(course, new.completed_on, float(new.hours), new.expires_on)


def check_particulars(p: Particulars, ranks: tuple[str, ...]) -> Particulars:
    """Return tidied particulars, or raise ``RuleViolation`` naming the field."""
    name = " ".join(check_storable(p.display_name, "Display name", field="display_name").split())
    if not 1 <= len(name) <= 120:
        raise field_problem(
            "officer.display-name",
            "display_name",
            "Display name",
            "give the officer's name (up to 120 characters).",
        )
    collar = p.collar_number.strip()
    if collar and not _COLLAR.match(collar):
        raise field_problem(
            "officer.collar-number",
            "collar_number",
            "Collar number",
            "up to 20 letters, digits, spaces, '/' or '-'.",
        )
    rank = p.rank.strip()
    if rank and rank not in ranks:
        raise field_problem("officer.rank", "rank", "Rank", f"choose one of {', '.join(ranks)}.")
    gender = p.gender.strip().lower()
    if gender not in {g for g, _ in GENDERS}:
        raise field_problem(
            "officer.gender", "gender", "Gender", "choose female, male, other or not recorded."
        )
    return Particulars(name, collar, rank, gender)


def normalise_name(name: str) -> str:
    """Compare names as people mean them: case, accents' encoding and spacing ignored."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return " ".join(folded.replace(",", " ").replace(".", " ").split())
