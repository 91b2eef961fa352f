"""Migration 7: the public keys that key slots are issued to.

Re-keying and reinstatement seal the vault key to each slot holder's public key. They read
it from here, inside the encrypted and authenticated database, never from ``vault.keys``:
someone who can write the vault folder could otherwise swap in a key of their own and be
handed the next vault key. Only public keys live here; no secret that opens a slot does.
"""

from __future__ import annotations

from cim_desktop.store.connection import Connection
from cim_desktop.store.vault import state


def apply(conn: Connection) -> None:
    # ``holder``: an officer id, or 'recovery' for the recovery slot.
    conn.execute(
        """CREATE TABLE slot_keys (
            holder TEXT PRIMARY KEY,
            public_key BLOB NOT NULL CHECK (typeof(public_key) = 'blob'
                                            AND length(public_key) = 32),
            recorded_at TEXT NOT NULL
        ) WITHOUT ROWID"""
    )
    # Bound to the audit chain from the start, like the other rows that grant something.
    state.bind_table(conn, state.BY_NAME["slot_keys"])
