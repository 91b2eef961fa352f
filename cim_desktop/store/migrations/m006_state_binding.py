"""Migration 6: granting rows answer to the audit chain (see ``store.state``)."""

from __future__ import annotations

from cim_desktop.store.connection import Connection
from cim_desktop.store.vault import state


def apply(conn: Connection) -> None:
    # The digest of the granting rows after each audit row; part of the row's hash.
    conn.execute("ALTER TABLE audit ADD COLUMN state TEXT")
    # The granting rows this audit row changed, as JSON; part of the row's hash as well.
    conn.execute("ALTER TABLE audit ADD COLUMN bound TEXT")
    state.create_triggers(conn)
