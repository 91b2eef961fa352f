"""Break-glass grants: access outside one's caseload, time-limited and reviewed."""

from __future__ import annotations

from cim_desktop.domain.sources.model import BreakGlassGrant
from cim_desktop.store.connection import Connection

_FIELDS = "id, officer_id, urn, justification, started_at, expires_at, ended_at"
# ISO timestamps in one format compare correctly as text.
_ACTIVE = "ended_at IS NULL AND started_at <= ? AND expires_at > ?"


def _grant(row: tuple[str, str, str, str, str, str, str | None]) -> BreakGlassGrant:
    return BreakGlassGrant(*row)


class BreakGlassRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, grant: BreakGlassGrant) -> None:
        self._conn.execute(
            f"INSERT INTO break_glass ({_FIELDS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                grant.id,
                grant.officer_id,
                grant.urn,
                grant.justification,
                grant.started_at,
                grant.expires_at,
                grant.ended_at,
            ),
        )

    def get(self, grant_id: str) -> BreakGlassGrant | None:
        row = self._conn.execute(
            f"SELECT {_FIELDS} FROM break_glass WHERE id = ?", (grant_id,)
        ).fetchone()
        return None if row is None else _grant(row)

    def active(self, officer_id: str, urn: str, now: str) -> BreakGlassGrant | None:
        row = self._conn.execute(
            f"SELECT {_FIELDS} FROM break_glass WHERE officer_id = ? AND urn = ? AND {_ACTIVE} "
            "ORDER BY expires_at DESC LIMIT 1",
            (officer_id, urn, now, now),
        ).fetchone()
        return None if row is None else _grant(row)

    def active_for(self, officer_id: str, now: str) -> list[BreakGlassGrant]:
        rows = self._conn.execute(
            f"SELECT {_FIELDS} FROM break_glass WHERE officer_id = ? AND {_ACTIVE} "
            "ORDER BY expires_at",
            (officer_id, now, now),
        ).fetchall()
        return [_grant(r) for r in rows]

    def end(self, grant_id: str, when: str) -> None:
        self._conn.execute(
            "UPDATE break_glass SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
            (when, grant_id),
        )
