"""JSON from files anyone who can write the vault folder may have edited.

``json.loads`` alone accepts ``NaN`` and ``Infinity``, floats where integers belong, numbers
of any length, duplicate keys (the last one silently wins) and nesting deep enough to raise
``RecursionError``. Here the size and the depth are checked before the parser runs, so the
parser can never recurse past ``max_depth``, and every other oddity is refused as damage.
"""

from __future__ import annotations

import json
import re
from typing import Any

from cim_desktop.errors import VaultCorrupt

# A JSON string literal, written so that the regex engine does not backtrack per character.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# Objects and arrays nest alike: count them as one kind (the parser checks they match).
_ONE_KIND = bytes.maketrans(b"{}", b"[]")
MAX_INT_DIGITS = 19  # every integer in our files fits in a signed 64-bit value


class JsonRefused(ValueError):
    """Raised for content that is valid JSON to a lenient parser but not to us."""


def nesting_too_deep(raw: bytes, max_depth: int) -> bool:
    """True if ``raw`` nests arrays or objects deeper than ``max_depth`` (or is unbalanced).

    Strings are removed first (brackets inside them do not count). Each pass then deletes
    the innermost empty pairs, so ``max_depth`` passes clear any text nested no deeper; a
    run of more than ``max_depth`` openers ends it early. Every step is a linear scan in C:
    4 MiB of brackets cost tens of milliseconds.
    """
    brackets = _STRING.sub(b"", raw).translate(_ONE_KIND, _NOT_BRACKETS)
    too_many = b"[" * (max_depth + 1)
    for _ in range(max_depth):
        if not brackets:
            return False
        if too_many in brackets:
            return True
        brackets = brackets.replace(b"[]", b"")
    return bool(brackets)


def _refuse_constant(name: str) -> Any:
    raise JsonRefused(f"non-finite number {name}")


def _refuse_float(text: str) -> Any:
    raise JsonRefused("a number with a fraction or exponent")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise JsonRefused("an integer with too many digits")
    return int(text)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise JsonRefused("a key given twice")
    return result


def loads(raw: bytes, *, max_bytes: int, max_depth: int, what: str) -> Any:
    """Parse ``raw`` or raise ``VaultCorrupt`` naming ``what``; never anything else."""
    if len(raw) > max_bytes:
        raise VaultCorrupt(f"{what} is damaged (larger than {max_bytes // 1024} KiB).")
    if nesting_too_deep(raw, max_depth):
        raise VaultCorrupt(f"{what} is damaged (nested too deeply or unbalanced).")
    try:
        return json.loads(
            raw.decode("utf-8"),
            parse_constant=_refuse_constant,
            parse_float=_refuse_float,
            parse_int=_bounded_int,
            object_pairs_hook=_no_duplicates,
        )
    except (UnicodeDecodeError, ValueError):  # JSONDecodeError and JsonRefused are ValueErrors
        raise VaultCorrupt(f"{what} is damaged or not in the expected format.") from None


def text_ok(value: Any, max_len: int, *, empty: bool = True) -> bool:
    """A str of printable characters (no controls, no lone surrogates) within ``max_len``."""
    return (
        isinstance(value, str)
        and len(value) <= max_len
        and (empty or bool(value))
        and value.isprintable()
    )


def int_in(value: Any, low: int, high: int) -> bool:
    """A true int (not a bool, not a float) within [low, high]."""
    return type(value) is int and low <= value <= high
