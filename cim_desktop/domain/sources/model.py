"""The source register as far as the access model needs it: URN, pseudonym, status, the
sealed identity compartment, team rows and break-glass grants.

Validation messages name fields, never the values typed into them: a value may be a source's
identity.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cim_desktop.domain.access.rules import TeamRole
from cim_desktop.domain.clock import parse_iso_utc
from cim_desktop.domain.findings import field_problem, violation
from cim_desktop.domain.text import check_storable
from cim_desktop.errors import InvalidInput


class SourceStatus(StrEnum):
    PROSPECT = "prospect"
    AUTHORISED = "authorised"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"
    DEACTIVATED_FOR_CAUSE = "deactivated-for-cause"


# The sealed compartment's fields (domain.md: true identity and the identities it uses).
IDENTITY_FIELDS: dict[str, str] = {
    "full_name": "Full name",
    "date_of_birth": "Date of birth",
    "address": "Address",
    "phone": "Phone numbers",
    "photo_ref": "Photograph reference",
    "aliases": "Aliases and cover names",
}

_URN = re.compile(r"[A-Z0-9][A-Z0-9/_-]{2,39}")
MAX_PSEUDONYM = 60
MAX_IDENTITY_VALUE = 2000
MAX_REASON = 500


@dataclass(frozen=True)
class SourceRecord:
    urn: str
    pseudonym: str
    status: SourceStatus
    created_at: str
    created_by: str


@dataclass(frozen=True)
class TeamMember:
    id: int
    urn: str
    officer_id: str
    username: str
    team_role: TeamRole
    valid_from: str
    valid_to: str | None
    assigned_by: str

    def current(self, now: str) -> bool:
        return self.valid_from <= now and (self.valid_to is None or self.valid_to > now)


@dataclass(frozen=True)
class BreakGlassGrant:
    id: str
    officer_id: str
    urn: str
    justification: str
    started_at: str
    expires_at: str
    ended_at: str | None = None

    def active(self, now: datetime) -> bool:
        return self.ended_at is None and parse_iso_utc(self.started_at) <= now < parse_iso_utc(
            self.expires_at
        )

    def seconds_left(self, now: datetime) -> int:
        if not self.active(now):
            return 0
        return max(0, int((parse_iso_utc(self.expires_at) - now).total_seconds()))


def check_urn(text: str) -> str:
    urn = text.strip().upper()
    if not _URN.fullmatch(urn):
        raise violation(
            "source.urn-invalid",
            "A URN is 3 to 40 characters: capital letters, digits, '-', '/' "
            "or '_', starting with a letter or digit.",
            "urn",
        )
    return urn


def next_urn(fmt: str, year: int, taken: set[str]) -> str:
    """The first free URN the policy's format gives for ``year``."""
    number = 1
    while True:
        try:
            urn = check_urn(fmt.format(year=year, number=number))
        except (KeyError, IndexError, ValueError):
            raise InvalidInput(
                "The policy's URN format cannot be filled in; ask an administrator to correct it."
            ) from None
        if urn not in taken:
            return urn
        number += 1


def check_pseudonym(text: str) -> str:
    pseudonym = " ".join(check_storable(text, "Pseudonym", field="pseudonym").split())
    if not 1 <= len(pseudonym) <= MAX_PSEUDONYM:
        raise violation(
            "source.pseudonym-length",
            f"The pseudonym must be 1 to {MAX_PSEUDONYM} characters.",
            "pseudonym",
        )
    return pseudonym


def check_status(text: str) -> SourceStatus:
    try:
        return SourceStatus(text.strip().lower())
    except ValueError:
        known = ", ".join(s.value for s in SourceStatus)
        raise violation(
            "source.status-unknown", f"Unknown status (choose one of: {known}).", "status"
        ) from None


def check_particulars(values: Mapping[str, object]) -> dict[str, str]:
    """The sealed particulars with blanks dropped; at least one field must be filled."""
    known = ", ".join(IDENTITY_FIELDS)
    clean: dict[str, str] = {}
    for key, value in values.items():
        # The unknown name is not echoed: whoever typed it may have typed an identity.
        if key not in IDENTITY_FIELDS:
            raise InvalidInput(f"Identity particulars take only these fields: {known}.")
        label = IDENTITY_FIELDS[key]
        if not isinstance(value, str):
            raise field_problem("identity.not-text", key, label, "must be text.")
        text = check_storable(value.strip(), label, field=key)
        if len(text) > MAX_IDENTITY_VALUE:
            raise field_problem(
                "identity.too-long", key, label, f"at most {MAX_IDENTITY_VALUE} characters."
            )
        if text:
            clean[key] = text
    if not clean:
        raise InvalidInput("Fill in at least one identity field.")
    return clean


def check_reason(text: str, what: str = "viewing the identity") -> str:
    reason = " ".join(check_storable(text, "Reason", field="reason").split())
    if not reason:
        raise violation(
            "source.reason-missing",
            f"State the reason for {what}: it is recorded in the audit trail.",
            "reason",
        )
    if len(reason) > MAX_REASON:
        raise violation(
            "source.reason-too-long",
            f"The reason must be at most {MAX_REASON} characters.",
            "reason",
        )
    return reason


def check_justification(text: str, minimum: int) -> str:
    justification = " ".join(check_storable(text, "Justification", field="justification").split())
    if len(justification) < minimum:
        raise violation(
            "break-glass.justification-short",
            f"Write a justification of at least {minimum} characters "
            f"({len(justification)} so far).",
            "justification",
        )
    if len(justification) > MAX_REASON:
        raise violation(
            "break-glass.justification-long",
            f"The justification must be at most {MAX_REASON} characters.",
            "justification",
        )
    return justification
