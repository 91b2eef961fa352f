"""Migration 4: the local policy store (current values; history is in the audit chain)."""

from __future__ import annotations

from cim_desktop.store.connection import Connection


def apply(conn: Connection) -> None:
    # One row per setting ever changed. ``value`` is JSON; NULL means the shipped default is
    # in force again (restored), while the row still says who restored it and when.
    # ``approved_by`` is the second administrator's id, or '' for a bootstrap change made
    # while the vault had a single administrator.
    conn.execute(
        """CREATE TABLE policy (
            key TEXT PRIMARY KEY,
            value TEXT CHECK (value IS NULL OR json_valid(value)),
            changed_at TEXT NOT NULL,
            changed_by TEXT NOT NULL,
            approved_by TEXT NOT NULL
        ) WITHOUT ROWID"""
    )
