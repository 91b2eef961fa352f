"""Schema step 4: the local policy store (current values; history is in the audit chain)."""

from __future__ import annotations

from cim_desktop.store.connection import Connection


def apply(conn: Connection) -> None:
    conn.execute(
        """CREATE TABLE policy (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            changed_at TEXT NOT NULL,
            changed_by TEXT NOT NULL,
            approved_by TEXT NOT NULL
        ) WITHOUT ROWID"""
    )
