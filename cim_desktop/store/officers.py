"""Officer accounts and their time-bounded role assignments."""

from __future__ import annotations

from cim_desktop.domain.officers import Officer, OfficerStatus
from cim_desktop.domain.roles import Role
from cim_desktop.store.connection import Connection

_FIELDS = ("id, username, display_name, status, created_at, collar_number, rank, gender, "
           "must_change_password")


class OfficerRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _roles(self, officer_id: str) -> frozenset[Role]:
        rows = self._conn.execute(
            "SELECT role FROM officer_roles WHERE officer_id = ? AND valid_to IS NULL",
            (officer_id,),
        )
        return frozenset(Role(r[0]) for r in rows)

    def _build(self, row: tuple[str, ...] | None) -> Officer | None:
        if row is None:
            return None
        oid, username, display, status, created, collar, rank, gender, must_change = row
        return Officer(oid, username, display, OfficerStatus(status), self._roles(oid), created,
                       collar, rank, gender, bool(must_change))

    def get(self, officer_id: str) -> Officer | None:
        return self._build(self._conn.execute(
            f"SELECT {_FIELDS} FROM officers WHERE id = ?",
            (officer_id,),
        ).fetchone())

    def by_username(self, username: str) -> Officer | None:
        return self._build(self._conn.execute(
            f"SELECT {_FIELDS} FROM officers "
            "WHERE username = ?",
            (username.strip(),),
        ).fetchone())

    def all(self) -> list[Officer]:
        rows = self._conn.execute(
            f"SELECT {_FIELDS} FROM officers "
            "ORDER BY username"
        ).fetchall()
        return [o for o in (self._build(r) for r in rows) if o is not None]

    def add(self, officer: Officer, granted_by: str) -> None:
        self._conn.execute(
            f"INSERT INTO officers ({_FIELDS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (officer.id, officer.username, officer.display_name, officer.status.value,
             officer.created_at, officer.collar_number, officer.rank, officer.gender,
             int(officer.must_change_password)),
        )
        for role in sorted(officer.roles):
            self.grant(officer.id, role, officer.created_at, granted_by)

    def grant(self, officer_id: str, role: Role, when: str, granted_by: str) -> None:
        self._conn.execute(
            "INSERT INTO officer_roles (officer_id, role, valid_from, granted_by) "
            "VALUES (?, ?, ?, ?)",
            (officer_id, role.value, when, granted_by),
        )

    def count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM officers").fetchone()[0])
