"""Migration 5: source register skeleton, source teams, break-glass, review sign-offs.

The register holds only what the access model needs today (URN, pseudonym, status and the
sealed identity compartment); later steps add the statutory record around it.
"""

from __future__ import annotations

from cim_desktop.store.connection import Connection


def apply(conn: Connection) -> None:
    conn.execute(
        """CREATE TABLE sources (
            urn TEXT PRIMARY KEY,
            pseudonym TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL
        ) WITHOUT ROWID"""
    )
    # Particulars are history: a change adds a version; the newest one is in force.
    conn.execute(
        """CREATE TABLE source_identity (
            urn TEXT NOT NULL REFERENCES sources(urn),
            version INTEGER NOT NULL CHECK (version >= 1),
            particulars TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            recorded_by TEXT NOT NULL REFERENCES officers(id),
            PRIMARY KEY (urn, version)
        ) WITHOUT ROWID"""
    )
    # Time-bounded: the law requires the history of who held each role and when.
    conn.execute(
        """CREATE TABLE source_team (
            id INTEGER PRIMARY KEY,
            urn TEXT NOT NULL REFERENCES sources(urn),
            officer_id TEXT NOT NULL REFERENCES officers(id),
            team_role TEXT NOT NULL CHECK (team_role IN ('handler', 'co_handler', 'controller',
                                        'record_keeper', 'authorising_officer')),
            valid_from TEXT NOT NULL,
            valid_to TEXT,
            assigned_by TEXT NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX source_team_urn ON source_team(urn)")
    conn.execute("CREATE INDEX source_team_officer ON source_team(officer_id, urn)")
    conn.execute(
        """CREATE TABLE break_glass (
            id TEXT PRIMARY KEY,
            officer_id TEXT NOT NULL REFERENCES officers(id),
            urn TEXT NOT NULL REFERENCES sources(urn),
            justification TEXT NOT NULL,
            started_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            ended_at TEXT
        )"""
    )
    conn.execute("CREATE INDEX break_glass_officer ON break_glass(officer_id, expires_at)")
    # One sign-off per queue item: kind is 'break-glass', 'denied' or 'lockout'; ref is the
    # break-glass id or the audit sequence number of the denial or lockout.
    conn.execute(
        """CREATE TABLE review_signoffs (
            kind TEXT NOT NULL,
            ref TEXT NOT NULL,
            signed_by TEXT NOT NULL REFERENCES officers(id),
            signed_at TEXT NOT NULL,
            note TEXT NOT NULL,
            PRIMARY KEY (kind, ref)
        ) WITHOUT ROWID"""
    )
    # The review queue reads denials and lockouts out of the whole trail; this partial index
    # keeps that a short walk however long the trail grows. Queries must repeat its WHERE.
    conn.execute(
        "CREATE INDEX audit_for_review ON audit(seq) "
        "WHERE outcome = 'denied' OR action = 'account-locked'"
    )
