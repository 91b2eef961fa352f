"""Officers' checkpoint-signing public keys, as the audit chain records them.

There is no table: each key is recorded by a ``checkpoint-key`` audit row (entity: the officer,
detail: the public key in hex) when it is made, so the chain itself says which key spoke for
whom from which sequence on. The ``audit(action, seq)`` index keeps the look-up to those rows.
"""

from __future__ import annotations

import json

from cim_desktop.domain.audit import Action
from cim_desktop.store.connection import Connection


def latest(conn: Connection, officer_id: str, upto_seq: int | None = None) -> bytes | None:
    """The public key last recorded for ``officer_id`` at or before ``upto_seq`` (or ever)."""
    limit = upto_seq if upto_seq is not None else 2**63 - 1
    row = conn.execute(
        "SELECT detail FROM audit WHERE action = ? AND entity_id = ? AND seq <= ? "
        "ORDER BY seq DESC LIMIT 1",
        (Action.CHECKPOINT_KEY.value, officer_id, limit),
    ).fetchone()
    if row is None:
        return None
    try:
        detail = json.loads(row[0])
        return bytes.fromhex(detail["public_key"])
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
