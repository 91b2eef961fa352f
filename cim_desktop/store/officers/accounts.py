"""Officer accounts and their time-bounded role assignments."""

from __future__ import annotations

from cim_desktop.domain.officers.model import Officer, OfficerStatus
from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.officers.rules import Particulars, RoleAssignment
from cim_desktop.store.connection import Connection

_FIELDS = (
    "id, username, display_name, status, created_at, collar_number, rank, gender, "
    "must_change_password"
)


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
        return Officer(
            oid,
            username,
            display,
            OfficerStatus(status),
            self._roles(oid),
            created,
            collar,
            rank,
            gender,
            bool(must_change),
        )

    def get(self, officer_id: str) -> Officer | None:
        return self._build(
            self._conn.execute(
                f"SELECT {_FIELDS} FROM officers WHERE id = ?",
                (officer_id,),
            ).fetchone()
        )

    def by_username(self, username: str) -> Officer | None:
        return self._build(
            self._conn.execute(
                f"SELECT {_FIELDS} FROM officers WHERE username = ?",
                (username.strip(),),
            ).fetchone()
        )

    def by_collar_number(self, collar_number: str) -> Officer | None:
        return self._build(
            self._conn.execute(
                f"SELECT {_FIELDS} FROM officers WHERE collar_number = ? COLLATE NOCASE",
                (collar_number.strip(),),
            ).fetchone()
        )

    def all(self) -> list[Officer]:
        rows = self._conn.execute(f"SELECT {_FIELDS} FROM officers ORDER BY username").fetchall()
        return [o for o in (self._build(r) for r in rows) if o is not None]

    def add(self, officer: Officer, granted_by: str) -> None:
        self._conn.execute(
            f"INSERT INTO officers ({_FIELDS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                officer.id,
                officer.username,
                officer.display_name,
                officer.status.value,
                officer.created_at,
                officer.collar_number,
                officer.rank,
                officer.gender,
                int(officer.must_change_password),
            ),
        )
        for role in sorted(officer.roles):
            self.grant(officer.id, role, officer.created_at, granted_by)

    def grant(self, officer_id: str, role: Role, when: str, granted_by: str) -> None:
        self._conn.execute(
            "INSERT INTO officer_roles (officer_id, role, valid_from, granted_by) "
            "VALUES (?, ?, ?, ?)",
            (officer_id, role.value, when, granted_by),
        )

    def revoke(self, officer_id: str, role: Role, when: str, revoked_by: str) -> None:
        """End the open holding of ``role``; the row stays as history."""
        self._conn.execute(
            "UPDATE officer_roles SET valid_to = ?, revoked_by = ? "
            "WHERE officer_id = ? AND role = ? AND valid_to IS NULL",
            (when, revoked_by, officer_id, role.value),
        )

    def role_history(self, officer_id: str) -> list[RoleAssignment]:
        rows = self._conn.execute(
            "SELECT role, valid_from, valid_to, granted_by, revoked_by FROM officer_roles "
            "WHERE officer_id = ? ORDER BY valid_from, id",
            (officer_id,),
        ).fetchall()
        return [RoleAssignment(Role(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    def set_status(self, officer_id: str, status: OfficerStatus) -> None:
        self._conn.execute(
            "UPDATE officers SET status = ? WHERE id = ?", (status.value, officer_id)
        )

    def set_particulars(self, officer_id: str, p: Particulars) -> None:
        self._conn.execute(
            "UPDATE officers SET display_name = ?, collar_number = ?, rank = ?, gender = ? "
            "WHERE id = ?",
            (p.display_name, p.collar_number, p.rank, p.gender, officer_id),
        )

    def set_must_change_password(self, officer_id: str, on: bool) -> None:
        self._conn.execute(
            "UPDATE officers SET must_change_password = ? WHERE id = ?", (int(on), officer_id)
        )

    def active_holders(self, role: Role) -> list[str]:
        """Ids of active officers who hold ``role`` now."""
        rows = self._conn.execute(
            "SELECT DISTINCT o.id FROM officers o JOIN officer_roles r ON r.officer_id = o.id "
            "WHERE r.role = ? AND r.valid_to IS NULL AND o.status = 'active' ORDER BY o.id",
            (role.value,),
        ).fetchall()
        return [str(r[0]) for r in rows]

    def count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM officers").fetchone()[0])
