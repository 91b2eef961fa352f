"""Local policy: every "policy, configurable" rule of domain.md with its shipped default.

Settings are declared once here (group, label, help, type, bounds); the store keeps only
changed values, the service validates against these declarations (``check_changes``, which
also holds the rules between settings) and audits each change with its old and new value.
"""

from __future__ import annotations

import contextlib
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cim_desktop.domain.text import problem as text_problem
from cim_desktop.errors import InvalidInput

RANKS: tuple[str, ...] = (
    "Constable",
    "Sergeant",
    "Inspector",
    "Chief Inspector",
    "Superintendent",
    "Chief Superintendent",
    "Assistant Chief Constable",
    "Deputy Chief Constable",
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
    # A further rule for a free-text value: the problem in a few words, or None.
    check: Callable[[str], str | None] | None = field(default=None, compare=False)

    @property
    def is_rank(self) -> bool:
        return self.choices == _RANK

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
            if any(text_problem(v) for v in items):
                raise InvalidInput(
                    f"{self.label}: an entry contains a character that cannot "
                    "be stored (an unpaired surrogate or a control character)."
                )
            if any(not v for v in items) or len({v.casefold() for v in items}) != len(items):
                raise InvalidInput(f"{self.label}: entries must be non-empty and distinct.")
            if any(len(v) > 60 or "," in v for v in items):
                raise InvalidInput(
                    f"{self.label}: an entry is at most 60 characters, without commas."
                )
            return items
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{self.label}: must not be empty.")
        text = value.strip()
        found = text_problem(text)
        if found:
            raise InvalidInput(f"{self.label}: {found}.")
        allowed = ranks if self.is_rank else self.choices
        if allowed and text not in allowed:
            raise InvalidInput(f"{self.label}: choose one of {', '.join(allowed)}.")
        problem = self.check(text) if self.check else None
        if problem:
            raise InvalidInput(f"{self.label}: {problem}")
        return text


_RANK = ("<rank>",)
_URN_FIELDS = frozenset({"year", "number"})
# Zero-padding up to nine digits at most: a wider field could ask for gigabytes of padding.
_URN_SPEC = re.compile(r"(0[1-9])?d?")
_URN_CHARS = re.compile(r"[A-Za-z0-9/_.-]+")
URN_MAX = 40


def _check_urn_format(text: str) -> str | None:
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        return "braces must come in pairs, as in {year} and {number}."
    fields = {name for _, name, _, _ in parts if name is not None}
    if "number" not in fields:
        return "must contain {number}."
    if not fields <= _URN_FIELDS:
        return "only {year} and {number} can be filled in."
    if any(
        name is not None and (conv or not _URN_SPEC.fullmatch(spec or ""))
        for _, name, spec, conv in parts
    ):
        return "the only format allowed is zero-padding, as in {number:04d}."
    sample = text.format(year=2025, number=1)
    if len(sample) > URN_MAX or not _URN_CHARS.fullmatch(sample):
        return f"a URN is at most {URN_MAX} letters, digits, hyphens, slashes, dots or underscores."
    return None


SETTINGS: tuple[Setting, ...] = (
    # Contacts
    Setting(
        "contact_record_hours",
        "Contacts",
        "Contact record due within (hours)",
        "A contact must be written up within this many hours of the contact.",
        int,
        24,
        1,
        168,
    ),
    Setting(
        "meeting_min_officers",
        "Contacts",
        "Officers at a physical meeting",
        "No lone meetings: at least this many officers attend a physical meeting.",
        int,
        2,
        1,
        6,
    ),
    Setting(
        "same_gender_officer",
        "Contacts",
        "Same-gender officer present",
        "An officer of the same gender as the source attends every meeting.",
        bool,
        True,
    ),
    # Officers
    Setting(
        "ranks",
        "Officers",
        "Ranks, lowest first",
        "The ranks officers can hold, in order of seniority.",
        tuple,
        RANKS,
    ),
    Setting(
        "accredited_handlers_only",
        "Officers",
        "Only accredited officers handle",
        "The handler and controller roles need a current accreditation.",
        bool,
        True,
    ),
    Setting(
        "accreditation_min_hours",
        "Officers",
        "Accreditation course hours",
        "The least training, in hours, that counts as accreditation.",
        int,
        70,
        0,
        1000,
    ),
    # Authorising officers (minimum rank)
    Setting(
        "ao_rank_standard",
        "Authorising officers",
        "Standard authorisation",
        "Lowest rank that may authorise standard use and conduct.",
        str,
        "Superintendent",
        choices=_RANK,
    ),
    Setting(
        "ao_rank_urgent",
        "Authorising officers",
        "Urgent authorisation",
        "Lowest rank for an urgent oral grant or an urgent-only officer.",
        str,
        "Inspector",
        choices=_RANK,
    ),
    Setting(
        "ao_rank_juvenile_vulnerable",
        "Authorising officers",
        "Juvenile or vulnerable source",
        "Lowest rank for a source under 18 or a vulnerable source.",
        str,
        "Assistant Chief Constable",
        choices=_RANK,
    ),
    Setting(
        "ao_rank_confidential",
        "Authorising officers",
        "Confidential information likely",
        "Lowest rank where legal, medical, spiritual or journalistic material is likely.",
        str,
        "Chief Constable",
        choices=_RANK,
    ),
    # Payments (pounds)
    Setting(
        "payment_controller_limit",
        "Payments",
        "Controller may approve up to (£)",
        "A single payment above this needs a more senior approval.",
        int,
        250,
        0,
        1_000_000,
    ),
    Setting(
        "payment_superintendent_limit",
        "Payments",
        "Superintendent may approve up to (£)",
        "A single payment above this needs chief officer approval.",
        int,
        2_500,
        0,
        1_000_000,
    ),
    Setting(
        "payment_yearly_limit",
        "Payments",
        "Yearly total per source (£)",
        "Payments to one source in a year above this need chief officer approval.",
        int,
        10_000,
        0,
        10_000_000,
    ),
    Setting(
        "payment_lifetime_limit",
        "Payments",
        "Lifetime total per source (£)",
        "Payments to one source over its lifetime above this need chief officer approval.",
        int,
        50_000,
        0,
        100_000_000,
    ),
    # Security
    Setting(
        "idle_lock_minutes",
        "Security",
        "Lock after idle (minutes)",
        "The application locks after this many minutes without input.",
        int,
        5,
        1,
        60,
    ),
    Setting(
        "lockout_max_failures",
        "Security",
        "Failed logins before lockout",
        "This many wrong passwords within the window lock the account.",
        int,
        5,
        3,
        20,
    ),
    Setting(
        "lockout_window_minutes",
        "Security",
        "Lockout window (minutes)",
        "Failed logins are counted over this many minutes.",
        int,
        15,
        1,
        1440,
    ),
    Setting(
        "break_glass_minutes",
        "Security",
        "Break-glass access lasts (minutes)",
        "How long access outside one's caseload lasts once justified.",
        int,
        60,
        5,
        60,
    ),
    Setting(
        "break_glass_min_justification",
        "Security",
        "Break-glass justification (chars)",
        "The least length of the written justification.",
        int,
        20,
        20,
        500,
    ),
    Setting(
        "clipboard_clear_seconds",
        "Security",
        "Clear copied text after (seconds)",
        "Text copied from the application is cleared from the clipboard after this.",
        int,
        10,
        5,
        120,
    ),
    # Off by default, as SQLCipher ships it since 4.5.0: on, every insert is several times
    # slower, and whoever can read this process's memory can read the vault key anyway.
    Setting(
        "cipher_memory_security",
        "Security",
        "Wipe freed database memory",
        "SQLCipher overwrites and locks the memory it frees (slower: inserts take several "
        "times as long). Takes effect the next time the application starts.",
        bool,
        False,
    ),
    Setting(
        "metadata_outside_team",
        "Security",
        "URN-level metadata outside the team",
        "Officers outside a source's team may see its URN and status in lists.",
        bool,
        False,
    ),
    # Records
    Setting(
        "urn_format",
        "Records",
        "URN format",
        "How new URNs are formed: {year} and {number} are filled in.",
        str,
        "DSU-{year}-{number:04d}",
        check=_check_urn_format,
    ),
    Setting(
        "retention_authorisation_years",
        "Records",
        "Keep authorisation records (years)",
        "Years an authorisation record is kept after it ends (law: at least 3).",
        int,
        5,
        3,
        100,
    ),
    Setting(
        "retention_source_record_years",
        "Records",
        "Keep source records (years)",
        "Years a source record is kept after the source is cancelled.",
        int,
        6,
        1,
        100,
    ),
    Setting(
        "retention_audit_years",
        "Records",
        "Keep the audit trail (years)",
        "Years audit rows are kept before the retention workflow may remove them.",
        int,
        7,
        3,
        100,
    ),
)

BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}


@dataclass(frozen=True)
class Policy:
    """The values in force: shipped defaults overlaid with the unit's changes."""

    values: dict[str, Any]

    @classmethod
    def defaults(cls) -> Policy:
        return cls({s.key: s.default for s in SETTINGS})

    @classmethod
    def overlay(cls, stored: Mapping[str, Any]) -> Policy:
        """Defaults overlaid with stored values; a stored value that no longer passes its
        setting's rules (a newer release tightened them) gives way to the default."""
        values = {s.key: s.default for s in SETTINGS}
        ranks_setting = BY_KEY["ranks"]
        if "ranks" in stored:
            with contextlib.suppress(InvalidInput):
                values["ranks"] = ranks_setting.validate(stored["ranks"])
        ranks = tuple(values["ranks"])
        for key, value in stored.items():
            setting = BY_KEY.get(key)
            if setting is None or key == "ranks":
                continue
            with contextlib.suppress(InvalidInput):
                values[key] = setting.validate(value, ranks)
        for setting in SETTINGS:
            if setting.is_rank and values[setting.key] not in ranks:
                values[setting.key] = setting.default if setting.default in ranks else ranks[-1]
        return cls(values)

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


class SettingInvalid(InvalidInput):
    """One or more policy values refused; ``errors`` maps each setting's key to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = dict(errors)
        self.key = next(iter(self.errors))


def check_changes(
    base: Policy, changes: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate ``changes`` against ``base``: (values in their proper types, errors by key).

    Checks each value on its own, then the rules between settings on the values that would
    be in force: rank settings name a rank on the (possibly changed) list, and each payment
    limit is no higher than the next one up.
    """
    values = dict(base.values)
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    ordered = sorted(changes, key=lambda k: k != "ranks")  # ranks first: others depend on it
    for key in ordered:
        setting = BY_KEY.get(key)
        if setting is None:
            errors[key] = f"There is no policy setting called '{key}'."
            continue
        value = changes[key]
        if (
            setting.is_rank
            and isinstance(value, str)
            and value.strip() in base.ranks
            and value.strip() not in values["ranks"]
        ):
            values[key] = value.strip()  # reported below, with the others whose rank went
            continue
        try:
            clean[key] = values[key] = setting.validate(value, tuple(values["ranks"]))
        except InvalidInput as exc:
            errors[key] = exc.message
    ranks = tuple(values["ranks"])
    for setting in SETTINGS:
        if setting.is_rank and setting.key not in errors and values[setting.key] not in ranks:
            errors[setting.key] = (
                f"{setting.label}: '{values[setting.key]}' is no longer a rank; choose another."
            )
    for lower, upper in _ORDERED_LIMITS:
        if lower in errors or upper in errors or values[lower] <= values[upper]:
            continue
        low, high = BY_KEY[lower], BY_KEY[upper]
        if upper in changes and lower not in changes:
            errors[upper] = (
                f'{high.label}: must be at least {values[lower]:,}, the value of "{low.label}".'
            )
        else:
            errors[lower] = (
                f'{low.label}: must not exceed {values[upper]:,}, the value of "{high.label}".'
            )
    return clean, errors


_ORDERED_LIMITS = (
    ("payment_controller_limit", "payment_superintendent_limit"),
    ("payment_yearly_limit", "payment_lifetime_limit"),
)
_TRUE = frozenset({"yes", "y", "true", "on", "1"})
_FALSE = frozenset({"no", "n", "false", "off", "0"})


def parse_text(setting: Setting, text: str) -> Any:
    """A value typed as text (command line) in the setting's type; bounds are checked later."""
    raw = text.strip()
    if setting.kind is bool:
        word = raw.casefold()
        if word in _TRUE | _FALSE:
            return word in _TRUE
        raise InvalidInput(f"{setting.label}: answer yes or no.")
    if setting.kind is int:
        digits = raw.removeprefix("£").replace(",", "").replace("_", "")
        if not re.fullmatch(r"-?[0-9]+", digits):
            raise InvalidInput(f"{setting.label}: enter a whole number.")
        return int(digits)
    if setting.kind is tuple:
        return tuple(part.strip() for part in raw.split(","))
    return raw


def display(setting: Setting, value: Any) -> str:
    """A value as people read it (and as ``parse_text`` accepts it back)."""
    if setting.kind is bool:
        return "yes" if value else "no"
    if setting.kind is tuple:
        return ", ".join(value)
    if setting.kind is int:
        return f"{value:,}"
    return str(value)
