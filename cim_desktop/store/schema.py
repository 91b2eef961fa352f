"""The schema as an ordered ladder of migrations keyed by ``PRAGMA user_version``.

Each step runs in its own transaction together with the version bump, so a crash leaves the
database at the last whole step. A database newer than the ladder is refused, never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cim_desktop.store import (
    schema_access,
    schema_officers,
    schema_policy,
    schema_slot_keys,
    schema_state,
)
from cim_desktop.store.connection import Connection


@dataclass(frozen=True)
class Migration:
    version: int
    summary: str
    apply: Callable[[Connection], None]


def _v1_core(conn: Connection) -> None:
    conn.execute(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID"
    )
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


def _v2_audit_filters(conn: Connection) -> None:
    # The audit screen filters by officer, action and date; keyset paging walks seq.
    conn.execute("CREATE INDEX audit_user_seq ON audit(user_id, seq)")
    conn.execute("CREATE INDEX audit_action_seq ON audit(action, seq)")
    conn.execute("CREATE INDEX audit_ts ON audit(ts)")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "core tables: meta, officers, roles, audit chain", _v1_core),
    Migration(2, "indexes for filtering the audit trail", _v2_audit_filters),
    Migration(3, "officer particulars, accreditation, associations", schema_officers.apply),
    Migration(4, "local policy store", schema_policy.apply),
    Migration(5, "source register skeleton, teams, break-glass, review queue",
              schema_access.apply),
    Migration(6, "granting rows answer to the audit chain", schema_state.apply),
    Migration(7, "public keys that key slots are issued to", schema_slot_keys.apply),
)
LATEST = MIGRATIONS[-1].version


def user_version(conn: Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def apply(conn: Connection, migration: Migration) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        migration.apply(conn)
        conn.execute(f"PRAGMA user_version = {int(migration.version)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
