"""Notifiable associations: what officers declared about people of concern.

Declarations are history: withdrawing one sets ``withdrawn_at`` and keeps the row.
"""

from __future__ import annotations

from datetime import date

from cim_desktop.domain.officers.rules import Association
from cim_desktop.store.connection import Connection

_FIELDS = (
    "id, officer_id, person_name, relationship, association_date, notes, recorded_at, withdrawn_at"
)


def _build(r: tuple[str, ...]) -> Association:
    return Association(r[0], r[1], r[2], r[3], date.fromisoformat(r[4]), r[5], r[6], r[7])


class AssociationRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, a: Association) -> None:
        self._conn.execute(
            f"INSERT INTO associations ({_FIELDS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                a.id,
                a.officer_id,
                a.person_name,
                a.relationship,
                a.association_date.isoformat(),
                a.notes,
                a.recorded_at,
                a.withdrawn_at,
            ),
        )

    def get(self, association_id: str) -> Association | None:
        row = self._conn.execute(
            f"SELECT {_FIELDS} FROM associations WHERE id = ?", (association_id,)
        ).fetchone()
        return _build(row) if row is not None else None

    def for_officer(self, officer_id: str, *, active_only: bool = False) -> list[Association]:
        where = " AND withdrawn_at IS NULL" if active_only else ""
        rows = self._conn.execute(
            f"SELECT {_FIELDS} FROM associations WHERE officer_id = ?{where} "
            "ORDER BY recorded_at DESC, id",
            (officer_id,),
        ).fetchall()
        return [_build(r) for r in rows]

    def withdraw(self, association_id: str, when: str) -> None:
        self._conn.execute(
            "UPDATE associations SET withdrawn_at = ? WHERE id = ? AND withdrawn_at IS NULL",
            (when, association_id),
        )
