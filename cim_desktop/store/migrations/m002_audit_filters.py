"""Migration 2: indexes for filtering the audit trail."""

from __future__ import annotations

from cim_desktop.store.connection import Connection


def apply(conn: Connection) -> None:
    # The audit screen filters by officer, action and date; keyset paging walks seq.
    conn.execute("CREATE INDEX audit_user_seq ON audit(user_id, seq)")
    conn.execute("CREATE INDEX audit_action_seq ON audit(action, seq)")
    conn.execute("CREATE INDEX audit_ts ON audit(ts)")
