"""Free text a person types that reaches the vault: one check that it can be stored.

Python strings can hold what no stored text can: a lone surrogate ("\\ud800", which a paste,
a badly encoded file or command-line bytes decoded with ``surrogateescape`` can produce) has
no UTF-8 form, and would fail deep in the database or the audit chain's hashing as an
unexpected error. Control characters (other than tab and line breaks) have no place in a
name, a reason or a note, and can disguise what a value looks like on screen or in an export.
Every validator of a free-text field calls ``check_storable`` with its field's label; the
message names the field and never echoes the value, which may be a source's identity.
"""

from __future__ import annotations

from cim_desktop.domain.findings import field_problem

_LINE_CONTROLS = frozenset("\t\n\r")


def problem(text: str, *, controls: bool = False) -> str | None:
    """What makes ``text`` unstorable, in a few words; None if it is fine.

    ``controls`` allows control characters (a password may hold any character that can be
    encoded); lone surrogates are never allowed.
    """
    for ch in text:
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF:
            return "contains a character that is not valid text (an unpaired surrogate)"
        if not controls and (code < 0x20 or code == 0x7F) and ch not in _LINE_CONTROLS:
            return "contains a control character"
    return None


def is_storable(text: str) -> bool:
    return problem(text) is None


def check_storable(text: str, label: str, *, controls: bool = False, field: str = "") -> str:
    """Return ``text`` unchanged, or raise ``RuleViolation`` naming the field (not the value)."""
    found = problem(text, controls=controls)
    if found:
        raise field_problem("text.not-storable", field, label, f"{found}; retype it.")
    return text
