"""The audit chain's hash format.

``hash = SHA-256(prev_hash || canonical(row))`` where the canonical form is the compact JSON
array (UTF-8, no ASCII escaping) of every column but the two hashes, in the fixed order of
``COLUMNS``. The first row chains from a genesis value bound to the vault id.

``state`` (schema step 6: the digest of the granting rows after this row) and ``bound`` (the
granting rows this row changed, as JSON; see ``store.state``) join the array as its
thirteenth and fourteenth elements when the row has a state; rows written before step 6 have
neither and keep their twelve-element form.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

COLUMNS = (
    "seq, ts, user_id, username, role, session_id, action, entity_type, entity_id, detail, "
    "reason, outcome, prev_hash, hash, state, bound"
)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _reusable_encode() -> Callable[[tuple[Any, ...]], str]:
    """``_ENCODER.encode`` without building a new C encoder on every call.

    ``JSONEncoder.encode`` makes a fresh C encoder per call, half the cost of encoding a row;
    verification encodes a million. This is the same C encoder with the same settings
    (``JSONEncoder``'s one-shot path), so the bytes are identical.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return _ENCODER.encode
    chunks = make(
        None,
        _ENCODER.default,
        json.encoder.encode_basestring,
        None,
        _ENCODER.key_separator,
        _ENCODER.item_separator,
        False,
        False,
        True,
    )
    join = "".join

    def encode(fields: tuple[Any, ...]) -> str:
        return join(chunks(fields, 0))

    return encode


FAST_ENCODE = _reusable_encode()


def genesis(vault_id: str) -> bytes:
    return hashlib.sha256(b"cim-desktop audit genesis|" + vault_id.encode()).digest()


def canonical(fields: tuple[Any, ...]) -> bytes:
    """Fields: seq, ts, user_id, username, role, session_id, action, entity_type, entity_id,
    detail, reason, outcome."""
    return _ENCODER.encode(fields).encode("utf-8")


def row_hash(
    prev_hash: bytes, fields: tuple[Any, ...], state: Any = None, bound: Any = None
) -> bytes:
    return hashlib.sha256(prev_hash + canonical(hashed_fields(fields, state, bound))).digest()


def hashed_fields(fields: tuple[Any, ...], state: Any, bound: Any) -> tuple[Any, ...]:
    """The values a row's hash covers: the twelve columns, then ``state`` and ``bound``
    unless both are NULL (a row from before schema step 6)."""
    return fields if state is None and bound is None else (*fields, state, bound)
