"""Local policy: every "policy, configurable" rule of domain.md with its shipped default.

Settings are declared once here (group, label, help, type, bounds); the store keeps only
changed values, the service validates against these declarations and audits each change with
its old and new value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cim_desktop.errors import InvalidInput

RANKS: tuple[str, ...] = (
    "Constable", "Sergeant", "Inspector", "Chief Inspector", "Superintendent",
    "Chief Superintendent", "Assistant Chief Constable", "Deputy Chief Constable",
    "Chief Constable",
)


@dataclass(frozen=True)
class Setting:
    key: str
    group: str
    label: str
    help: str
    kind: type  # int, bool, str or tuple (a list of strings)
    default: Any
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()

    def validate(self, value: Any, ranks: tuple[str, ...] = RANKS) -> Any:
        """Return the value in its proper type, or raise ``InvalidInput`` naming the field."""
        if self.kind is bool:
            if not isinstance(value, bool):
                raise InvalidInput(f"{self.label}: choose yes or no.")
            return value
        if self.kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput(f"{self.label}: enter a whole number.")
            if self.minimum is not None and value < self.minimum:
                raise InvalidInput(f"{self.label}: must be at least {self.minimum}.")
            if self.maximum is not None and value > self.maximum:
                raise InvalidInput(f"{self.label}: must be at most {self.maximum}.")
            return value
        if self.kind is tuple:
            if not isinstance(value, (list, tuple)) or not value:
                raise InvalidInput(f"{self.label}: give at least one entry.")
            items = tuple(str(v).strip() for v in value)
            if any(not v for v in items) or len(set(items)) != len(items):
                raise InvalidInput(f"{self.label}: entries must be non-empty and distinct.")
            return items
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{self.label}: must not be empty.")
        text = value.strip()
        allowed = ranks if self.choices == ("<rank>",) else self.choices
        if allowed and text not in allowed:
            raise InvalidInput(f"{self.label}: choose one of {', '.join(allowed)}.")
        return text


_RANK = ("<rank>",)

SETTINGS: tuple[Setting, ...] = (
    # Contacts
    Setting("contact_record_hours", "Contacts", "Contact record due within (hours)",
            "A contact must be written up within this many hours of the contact.", int, 24, 1,
            168),
    Setting("meeting_min_officers", "Contacts", "Officers at a physical meeting",
            "No lone meetings: at least this many officers attend a physical meeting.", int, 2,
            1, 6),
    Setting("same_gender_officer", "Contacts", "Same-gender officer present",
            "An officer of the same gender as the source attends every meeting.", bool, True),
    # Officers
    Setting("ranks", "Officers", "Ranks, lowest first",
            "The ranks officers can hold, in order of seniority.", tuple, RANKS),
    Setting("accredited_handlers_only", "Officers", "Only accredited officers handle",
            "The handler and controller roles need a current accreditation.", bool, True),
    Setting("accreditation_min_hours", "Officers", "Accreditation course hours",
            "The least training, in hours, that counts as accreditation.", int, 70, 0, 1000),
    # Authorising officers (minimum rank)
    Setting("ao_rank_standard", "Authorising officers", "Standard authorisation",
            "Lowest rank that may authorise standard use and conduct.", str, "Superintendent",
            choices=_RANK),
    Setting("ao_rank_urgent", "Authorising officers", "Urgent authorisation",
            "Lowest rank for an urgent oral grant or an urgent-only officer.", str, "Inspector",
            choices=_RANK),
    Setting("ao_rank_juvenile_vulnerable", "Authorising officers",
            "Juvenile or vulnerable source",
            "Lowest rank for a source under 18 or a vulnerable source.", str,
            "Assistant Chief Constable", choices=_RANK),
    Setting("ao_rank_confidential", "Authorising officers", "Confidential information likely",
            "Lowest rank where legal, medical, spiritual or journalistic material is likely.",
            str, "Chief Constable", choices=_RANK),
    # Payments (pounds)
    Setting("payment_controller_limit", "Payments", "Controller may approve up to (£)",
            "A single payment above this needs a more senior approval.", int, 250, 0,
            1_000_000),
    Setting("payment_superintendent_limit", "Payments", "Superintendent may approve up to (£)",
            "A single payment above this needs chief officer approval.", int, 2_500, 0,
            1_000_000),
    Setting("payment_yearly_limit", "Payments", "Yearly total per source (£)",
            "Payments to one source in a year above this need chief officer approval.", int,
            10_000, 0, 10_000_000),
    Setting("payment_lifetime_limit", "Payments", "Lifetime total per source (£)",
            "Payments to one source over its lifetime above this need chief officer approval.",
            int, 50_000, 0, 100_000_000),
    # Security
    Setting("idle_lock_minutes", "Security", "Lock after idle (minutes)",
            "The application locks after this many minutes without input.", int, 5, 1, 60),
    Setting("lockout_max_failures", "Security", "Failed logins before lockout",
            "This many wrong passwords within the window lock the account.", int, 5, 3, 20),
    Setting("lockout_window_minutes", "Security", "Lockout window (minutes)",
            "Failed logins are counted over this many minutes.", int, 15, 1, 1440),
    Setting("break_glass_minutes", "Security", "Break-glass access lasts (minutes)",
            "How long access outside one's caseload lasts once justified.", int, 60, 5, 60),
    Setting("break_glass_min_justification", "Security", "Break-glass justification (chars)",
            "The least length of the written justification.", int, 20, 20, 500),
    Setting("clipboard_clear_seconds", "Security", "Clear copied text after (seconds)",
            "Text copied from the application is cleared from the clipboard after this.", int,
            10, 5, 120),
    Setting("metadata_outside_team", "Security", "URN-level metadata outside the team",
            "Officers outside a source's team may see its URN and status in lists.", bool,
            False),
    # Records
    Setting("urn_format", "Records", "URN format",
            "How new URNs are formed: {year} and {number} are filled in.", str,
            "DSU-{year}-{number:04d}"),
    Setting("retention_authorisation_years", "Records", "Keep authorisation records (years)",
            "Years an authorisation record is kept after it ends (law: at least 3).", int, 5, 3,
            100),
    Setting("retention_source_record_years", "Records", "Keep source records (years)",
            "Years a source record is kept after the source is cancelled.", int, 6, 1, 100),
    Setting("retention_audit_years", "Records", "Keep the audit trail (years)",
            "Years audit rows are kept before the retention workflow may remove them.", int,
            7, 3, 100),
)

BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}


@dataclass(frozen=True)
class Policy:
    """The values in force: shipped defaults overlaid with the unit's changes."""

    values: dict[str, Any]

    @classmethod
    def defaults(cls) -> Policy:
        return cls({s.key: s.default for s in SETTINGS})

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def number(self, key: str) -> int:
        value = self.values[key]
        assert isinstance(value, int)
        return value

    def flag(self, key: str) -> bool:
        return bool(self.values[key])

    def text(self, key: str) -> str:
        return str(self.values[key])

    @property
    def ranks(self) -> tuple[str, ...]:
        return tuple(self.values["ranks"])


def rank_at_least(rank: str, minimum: str, ranks: tuple[str, ...] = RANKS) -> bool:
    """True if ``rank`` is ``minimum`` or more senior; unknown ranks never qualify."""
    if rank not in ranks or minimum not in ranks:
        return False
    return ranks.index(rank) >= ranks.index(minimum)
