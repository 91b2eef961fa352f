"""Migration 3: officer particulars, role revocations, accreditation, associations."""

from __future__ import annotations

from cim_desktop.store.connection import Connection


def apply(conn: Connection) -> None:
    conn.execute("ALTER TABLE officers ADD COLUMN collar_number TEXT NOT NULL DEFAULT ''")
    conn.execute("ALTER TABLE officers ADD COLUMN rank TEXT NOT NULL DEFAULT ''")
    conn.execute("ALTER TABLE officers ADD COLUMN gender TEXT NOT NULL DEFAULT ''")
    conn.execute("ALTER TABLE officers ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0")
    # Who ended a role holding; valid_to says when. The row itself is never deleted.
    conn.execute("ALTER TABLE officer_roles ADD COLUMN revoked_by TEXT")
    conn.execute(
        """CREATE TABLE accreditations (
            id TEXT PRIMARY KEY,
            officer_id TEXT NOT NULL REFERENCES officers(id),
            course TEXT NOT NULL,
            completed_on TEXT NOT NULL,
            hours REAL NOT NULL CHECK (hours >= 0),
            expires_on TEXT,
            recorded_by TEXT NOT NULL,
            recorded_at TEXT NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX accreditations_officer ON accreditations(officer_id)")
    # Declarations are history: a withdrawn one keeps its row with withdrawn_at set.
    conn.execute(
        """CREATE TABLE associations (
            id TEXT PRIMARY KEY,
            officer_id TEXT NOT NULL REFERENCES officers(id),
            person_name TEXT NOT NULL,
            relationship TEXT NOT NULL,
            association_date TEXT NOT NULL,
            notes TEXT NOT NULL DEFAULT '',
            recorded_at TEXT NOT NULL,
            withdrawn_at TEXT
        )"""
    )
    conn.execute("CREATE INDEX associations_officer ON associations(officer_id)")
