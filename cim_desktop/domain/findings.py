"""Findings: what a rule says about some data, as values rather than as raised text.

A rule is a pure function that returns a list of findings. Each finding has a stable ``code``
that tests and callers match on (never the wording), a severity, a message fit to show as it
is, the ``field`` it belongs under in a form ('' when it is about the whole record) and, where
the rule comes from law or local policy, a ``citation``.

A service that must refuse raises ``RuleViolation`` with the blocking findings: the command
line and the GUI show its message like any user error, and forms read ``.findings`` to put
each one under its field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from cim_desktop.errors import InvalidInput


class Severity(StrEnum):
    INFO = "info"  # worth knowing; nothing to do
    WARNING = "warning"  # allowed, but someone should look
    BLOCKING = "blocking"  # the change must not go ahead


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    field: str = ""
    citation: str = ""

    @property
    def blocking(self) -> bool:
        return self.severity is Severity.BLOCKING


def blocking(code: str, message: str, field: str = "", citation: str = "") -> Finding:
    return Finding(code, Severity.BLOCKING, message, field, citation)


class RuleViolation(InvalidInput):
    """A refusal that carries its findings; ``message`` is for whoever shows it whole."""

    def __init__(self, findings: Iterable[Finding], message: str = "") -> None:
        self.findings = tuple(findings)
        super().__init__(message or " ".join(f.message for f in self.findings))

    @property
    def field(self) -> str:
        """The field of the first finding that names one, or ''."""
        return next((f.field for f in self.findings if f.field), "")


def refuse(findings: Iterable[Finding]) -> None:
    """Raise ``RuleViolation`` with the blocking findings, if there are any."""
    stop = [f for f in findings if f.blocking]
    if stop:
        raise RuleViolation(stop)


def violation(code: str, message: str, field: str = "", citation: str = "") -> RuleViolation:
    """A refusal with one blocking finding whose message reads the same everywhere."""
    return RuleViolation([blocking(code, message, field, citation)])


def field_problem(code: str, field: str, label: str, message: str) -> RuleViolation:
    """A form field's problem: shown whole as "Label: message", under the field as message."""
    return RuleViolation([blocking(code, message, field)], f"{label}: {message}")
