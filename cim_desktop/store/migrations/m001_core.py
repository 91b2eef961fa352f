"""Migration 1: the core tables: meta, officers, roles and the audit chain."""

from __future__ import annotations

from cim_desktop.store.connection import Connection


def apply(conn: Connection) -> None:
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
    conn.execute(
        """CREATE TABLE officers (
            id TEXT PRIMARY KEY,
            username TEXT NOT NULL UNIQUE COLLATE NOCASE,
            display_name TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'left')),
            created_at TEXT NOT NULL
        )"""
    )
    conn.execute(
        """CREATE TABLE officer_roles (
            id INTEGER PRIMARY KEY,
            officer_id TEXT NOT NULL REFERENCES officers(id),
            role TEXT NOT NULL,
            valid_from TEXT NOT NULL,
            valid_to TEXT,
            granted_by TEXT NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX officer_roles_officer ON officer_roles(officer_id)")
    conn.execute(
        """CREATE TABLE audit (
            seq INTEGER PRIMARY KEY,
            ts TEXT NOT NULL,
            user_id TEXT NOT NULL,
            username TEXT NOT NULL,
            role TEXT NOT NULL,
            session_id TEXT NOT NULL,
            action TEXT NOT NULL,
            entity_type TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            detail TEXT NOT NULL,
            reason TEXT NOT NULL,
            outcome TEXT NOT NULL,
            prev_hash BLOB NOT NULL,
            hash BLOB NOT NULL
        )"""
    )
    # A guard rail against accidents and casual edits; the hash chain and the signed
    # checkpoints are the proof.
    conn.execute(
        """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
           BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END"""
    )
    conn.execute(
        """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
           BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END"""
    )
