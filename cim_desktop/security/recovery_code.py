"""Recovery codes: 160 random bits as eight groups with a per-group check.

Each group is four data characters and two check characters in Crockford's base32 alphabet.
The first check character is a position-weighted sum modulo 32 with odd weights, so every
single mistyped character, and a group typed in the wrong place, is caught for certain; the
second is a hash of the group that catches most other slips (transpositions and the like).
The code is checked group by group before any slow key derivation runs.
"""

from __future__ import annotations

import hashlib
import secrets

from cim_desktop.errors import RecoveryCodeInvalid

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS = 8
DATA_CHARS = 4
CHECK_CHARS = 2
GROUP_CHARS = DATA_CHARS + CHECK_CHARS
ENTROPY_BITS = GROUPS * DATA_CHARS * 5  # 160
_NORMALISE = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def _check(index: int, data: str) -> str:
    weighted = sum((2 * i + 1) * ALPHABET.index(ch) for i, ch in enumerate(data))
    first = (weighted + 7 * index + 3) % 32
    digest = hashlib.sha256(f"cim-recovery|{index}|{data}".encode()).digest()
    return ALPHABET[first] + ALPHABET[digest[0] & 31]


def generate() -> str:
    groups = []
    for index in range(GROUPS):
        data = "".join(secrets.choice(ALPHABET) for _ in range(DATA_CHARS))
        groups.append(data + _check(index, data))
    return "-".join(groups)


def normalise(text: str) -> str:
    """Return the canonical code, or raise naming the first group that is wrong."""
    cleaned = "".join(ch for ch in text.upper() if not ch.isspace() and ch != "-")
    cleaned = cleaned.translate(_NORMALISE)
    bad_chars = sorted({ch for ch in cleaned if ch not in ALPHABET})
    if bad_chars:
        raise RecoveryCodeInvalid(
            "The recovery code contains characters that are not used in recovery codes: "
            + " ".join(bad_chars)
        )
    if len(cleaned) != GROUPS * GROUP_CHARS:
        raise RecoveryCodeInvalid(
            f"A recovery code has {GROUPS} groups of {GROUP_CHARS} characters; "
            f"{len(cleaned)} characters were entered."
        )
    groups = [cleaned[i : i + GROUP_CHARS] for i in range(0, len(cleaned), GROUP_CHARS)]
    for index, group in enumerate(groups):
        if _check(index, group[:DATA_CHARS]) != group[DATA_CHARS:]:
            raise RecoveryCodeInvalid(
                f"Group {index + 1} of the recovery code looks mistyped. Check it and try again."
            )
    return "-".join(groups)


def secret_bytes(code: str) -> bytes:
    """The bytes that are stretched into the recovery key (data characters only)."""
    canonical = normalise(code)
    return "".join(g[:DATA_CHARS] for g in canonical.split("-")).encode("ascii")
