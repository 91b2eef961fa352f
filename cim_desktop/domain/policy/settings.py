"""Local policy: every "policy, configurable" rule of domain.md with its shipped default.

Settings are declared once here (group, label, help, type, bounds); the store keeps only
changed values, the service validates against these declarations (``check_changes``, which
also holds the rules between settings) and audits each change with its old and new value.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cim_desktop.domain.findings import Finding, RuleViolation, blocking
from cim_desktop.domain.policy.catalogue import BY_KEY as BY_KEY
from cim_desktop.domain.policy.catalogue import SETTINGS as SETTINGS
from cim_desktop.domain.policy.setting import RANKS as RANKS
from cim_desktop.domain.policy.setting import Setting as Setting
from cim_desktop.errors import InvalidInput


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


class SettingInvalid(RuleViolation):
    """One or more policy values refused: one finding per refused setting, whose ``field`` is
    the setting's key, so a form marks each row without reading the message."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(findings)
        self.key = self.field

    @property
    def errors(self) -> dict[str, str]:
        """Each refused setting's key and its message."""
        return {f.field: f.message for f in self.findings}


def check_changes(
    base: Policy, changes: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """``check_findings`` with each refused setting's message by key (what a form shows)."""
    clean, found = check_findings(base, changes)
    return clean, {f.field: f.message for f in found}


def check_findings(
    base: Policy, changes: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Finding]]:
    """Validate ``changes`` against ``base``: (values in their proper types, findings).

    At most one finding per setting, its ``field`` the setting's key.

    Checks each value on its own, then the rules between settings on the values that would
    be in force: rank settings name a rank on the (possibly changed) list, and each payment
    limit is no higher than the next one up.
    """
    values = dict(base.values)
    clean: dict[str, Any] = {}
    errors: dict[str, Finding] = {}
    ordered = sorted(changes, key=lambda k: k != "ranks")  # ranks first: others depend on it
    for key in ordered:
        setting = BY_KEY.get(key)
        if setting is None:
            errors[key] = blocking(
                "policy.unknown-setting", f"There is no policy setting called '{key}'.", key
            )
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
            errors[key] = blocking("policy.invalid-value", exc.message, key)
    ranks = tuple(values["ranks"])
    for setting in SETTINGS:
        if setting.is_rank and setting.key not in errors and values[setting.key] not in ranks:
            errors[setting.key] = blocking(
                "policy.rank-withdrawn",
                f"{setting.label}: '{values[setting.key]}' is no longer a rank; choose another.",
                setting.key,
            )
    for lower, upper in _ORDERED_LIMITS:
        if lower in errors or upper in errors or values[lower] <= values[upper]:
            continue
        low, high = BY_KEY[lower], BY_KEY[upper]
        if upper in changes and lower not in changes:
            errors[upper] = blocking(
                "policy.limits-out-of-order",
                f'{high.label}: must be at least {values[lower]:,}, the value of "{low.label}".',
                upper,
            )
        else:
            errors[lower] = blocking(
                "policy.limits-out-of-order",
                f'{low.label}: must not exceed {values[upper]:,}, the value of "{high.label}".',
                lower,
            )
    return clean, list(errors.values())


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
