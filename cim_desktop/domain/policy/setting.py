"""One policy setting's declaration (group, label, help, type, bounds), and the rank order."""

from __future__ import annotations

from collections.abc import Callable
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

# The choices of a setting whose value is one of the ranks in force.
RANK_CHOICE = ("<rank>",)


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
        return self.choices == RANK_CHOICE

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
