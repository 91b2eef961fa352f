"""Officers' checkpoint-signing public keys, as the audit chain records them.

There is no table: each key is recorded by a ``checkpoint-key`` audit row (entity: the officer,
detail: the public key in hex) when it is made, so the chain itself says which key spoke for
whom from which sequence on. The ``audit(action, seq)`` index keeps the look-up to those rows.
"""

from __future__ import annotations

import json

from cim_desktop.domain.audit.rows import Action
from cim_desktop.store.connection import Connection


def latest(
    conn: Connection, officer_id: str, upto_seq: int | None = None
) -> tuple[int, bytes] | None:
    """(sequence, public key) last recorded for ``officer_id`` at or before ``upto_seq``."""
    limit = upto_seq if upto_seq is not None else 2**63 - 1
    row = conn.execute(
        "SELECT seq, detail FROM audit WHERE action = ? AND entity_id = ? AND seq <= ? "
        "ORDER BY seq DESC LIMIT 1",
        (Action.CHECKPOINT_KEY.value, officer_id, limit),
    ).fetchone()
    if row is None:
        return None
    try:
        detail = json.loads(row[1])
        return int(row[0]), bytes.fromhex(detail["public_key"])
    except (ValueError, TypeError, KeyError, RecursionError):
        return None


def contested_after(conn: Connection, officer_id: str, seq: int) -> int | None:
    """The first later row where the officer's own login found the chain naming a key that
    was not theirs (a ``checkpoint-key`` row with a failed outcome), or None."""
    row = conn.execute(
        "SELECT seq FROM audit WHERE action = ? AND entity_id = ? AND seq > ? "
        "AND outcome = 'failed' ORDER BY seq LIMIT 1",
        (Action.CHECKPOINT_KEY.value, officer_id, seq),
    ).fetchone()
    return int(row[0]) if row is not None else None
