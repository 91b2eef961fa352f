"""Accreditation records: the courses that qualify an officer to handle or control."""

from __future__ import annotations

from datetime import date

from cim_desktop.domain.officers.rules import Accreditation
from cim_desktop.store.connection import Connection

_FIELDS = "id, officer_id, course, completed_on, hours, expires_on, recorded_by, recorded_at"


class AccreditationRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, record: Accreditation) -> None:
        self._conn.execute(
            f"INSERT INTO accreditations ({_FIELDS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.officer_id,
                record.course,
                record.completed_on.isoformat(),
                record.hours,
                record.expires_on.isoformat() if record.expires_on else None,
                record.recorded_by,
                record.recorded_at,
            ),
        )

    def for_officer(self, officer_id: str) -> list[Accreditation]:
        rows = self._conn.execute(
            f"SELECT {_FIELDS} FROM accreditations WHERE officer_id = ? "
            "ORDER BY completed_on DESC, recorded_at DESC",
            (officer_id,),
        ).fetchall()
        return [
            Accreditation(
                r[0],
                r[1],
                r[2],
                date.fromisoformat(r[3]),
                float(r[4]),
                date.fromisoformat(r[5]) if r[5] else None,
                r[6],
                r[7],
            )
            for r in rows
        ]
