"""Migration 8: source particulars are versioned (who changed the pseudonym or status, when).

``sources`` keeps what never changes (URN, created at, created by); the pseudonym and status
move to ``source_versions``, read through ``source_current``. Each source's values at the time
of the migration become its version 1, attributed to the officer who registered it.
"""

from __future__ import annotations

from cim_desktop.store import versioned
from cim_desktop.store.connection import Connection

# Defined here, with the step that creates it, so that a later change to the spec cannot
# silently change what this step did to older vaults.
SOURCE_VERSIONS = versioned.VersionedSpec(
    "source",
    "urn",
    "TEXT NOT NULL REFERENCES sources(urn)",
    (("pseudonym", "TEXT NOT NULL"), ("status", "TEXT NOT NULL")),
)


def apply(conn: Connection) -> None:
    versioned.create(conn, SOURCE_VERSIONS)
    # Not bound to the audit chain (``store.vault.state``): these rows grant nothing; who may
    # see a source comes from ``source_team`` and ``break_glass``, which are bound.
    conn.execute(
        "INSERT INTO source_versions (urn, version, author, created_at, pseudonym, status) "
        "SELECT urn, 1, COALESCE(NULLIF(created_by, ''), 'migration'), created_at, "
        "pseudonym, status FROM sources"
    )
    conn.execute("ALTER TABLE sources DROP COLUMN pseudonym")
    conn.execute("ALTER TABLE sources DROP COLUMN status")
