"""Every "policy, configurable" rule of domain.md, declared once with its shipped default."""

from __future__ import annotations

import re
import string

from cim_desktop.domain.policy.setting import RANK_CHOICE, RANKS, Setting

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
        choices=RANK_CHOICE,
    ),
    Setting(
        "ao_rank_urgent",
        "Authorising officers",
        "Urgent authorisation",
        "Lowest rank for an urgent oral grant or an urgent-only officer.",
        str,
        "Inspector",
        choices=RANK_CHOICE,
    ),
    Setting(
        "ao_rank_juvenile_vulnerable",
        "Authorising officers",
        "Juvenile or vulnerable source",
        "Lowest rank for a source under 18 or a vulnerable source.",
        str,
        "Assistant Chief Constable",
        choices=RANK_CHOICE,
    ),
    Setting(
        "ao_rank_confidential",
        "Authorising officers",
        "Confidential information likely",
        "Lowest rank where legal, medical, spiritual or journalistic material is likely.",
        str,
        "Chief Constable",
        choices=RANK_CHOICE,
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
