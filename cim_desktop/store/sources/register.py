"""The source register, its sealed identity compartment and its time-bounded team rows."""

from __future__ import annotations

from cim_desktop.domain.access.rules import TeamRole
from cim_desktop.domain.sources.model import SourceRecord, SourceStatus, TeamMember
from cim_desktop.store import versioned
from cim_desktop.store.connection import Connection
from cim_desktop.store.migrations.m008_source_versions import SOURCE_VERSIONS

# The pseudonym and status in force come from the newest version (``store.versioned``).
_SOURCE = "s.urn, c.pseudonym, c.status, s.created_at, s.created_by"
_FROM = "sources s JOIN source_current c ON c.urn = s.urn"
_MEMBER = (
    "t.id, t.urn, t.officer_id, COALESCE(o.username, ''), t.team_role, t.valid_from, "
    "t.valid_to, t.assigned_by"
)
# ISO timestamps in one format compare correctly as text.
_CURRENT = "t.valid_from <= ? AND (t.valid_to IS NULL OR t.valid_to > ?)"


def _source(row: tuple[str, str, str, str, str]) -> SourceRecord:
    urn, pseudonym, status, created_at, created_by = row
    return SourceRecord(urn, pseudonym, SourceStatus(status), created_at, created_by)


def _member(row: tuple[int, str, str, str, str, str, str | None, str]) -> TeamMember:
    mid, urn, officer_id, username, role, valid_from, valid_to, by = row
    return TeamMember(int(mid), urn, officer_id, username, TeamRole(role), valid_from, valid_to, by)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SourceRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # -- the register -------------------------------------------------------------------
    def add(self, source: SourceRecord) -> None:
        self._conn.execute(
            "INSERT INTO sources (urn, created_at, created_by) VALUES (?, ?, ?)",
            (source.urn, source.created_at, source.created_by),
        )
        values = {"pseudonym": source.pseudonym, "status": source.status.value}
        versioned.append(
            self._conn, SOURCE_VERSIONS, source.urn, source.created_by, values, source.created_at
        )

    def get(self, urn: str) -> SourceRecord | None:
        row = self._conn.execute(
            f"SELECT {_SOURCE} FROM {_FROM} WHERE s.urn = ?", (urn,)
        ).fetchone()
        return None if row is None else _source(row)

    def all(self) -> list[SourceRecord]:
        rows = self._conn.execute(f"SELECT {_SOURCE} FROM {_FROM} ORDER BY s.urn").fetchall()
        return [_source(r) for r in rows]

    def page(
        self,
        *,
        after: str | None,
        limit: int,
        statuses: frozenset[str] | None = None,
        text: str = "",
        text_statuses: frozenset[str] = frozenset(),
        linked_to: tuple[str, str] | None = None,
    ) -> list[SourceRecord]:
        """Keyset page of the register in URN order (never OFFSET).

        ``statuses``: only these; ``text``: URN or pseudonym contains it (``text_statuses``:
        or the status is one of these, whose labels contain it); ``linked_to`` (officer id,
        now): only sources on which the officer holds a current team role or an active
        break-glass grant.
        """
        clauses: list[str] = []
        params: list[object] = []
        if after is not None:
            clauses.append("s.urn > ?")
            params.append(after)
        if statuses is not None:
            clauses.append(f"c.status IN ({','.join('?' * len(statuses))})" if statuses else "0")
            params.extend(sorted(statuses))
        if text:
            pattern = "%" + _escape_like(text) + "%"
            alternatives = ["s.urn LIKE ? ESCAPE '\\'", "c.pseudonym LIKE ? ESCAPE '\\'"]
            params.extend([pattern, pattern])
            if text_statuses:
                alternatives.append(f"c.status IN ({','.join('?' * len(text_statuses))})")
                params.extend(sorted(text_statuses))
            clauses.append("(" + " OR ".join(alternatives) + ")")
        if linked_to is not None:
            officer_id, now = linked_to
            clauses.append(
                "(s.urn IN (SELECT t.urn FROM source_team t WHERE t.officer_id = ? AND "
                f"{_CURRENT}) OR s.urn IN (SELECT g.urn FROM break_glass g WHERE "
                "g.officer_id = ? AND g.ended_at IS NULL AND g.started_at <= ? "
                "AND g.expires_at > ?))"
            )
            params.extend([officer_id, now, now, officer_id, now, now])
        where = " AND ".join(clauses) or "1"
        rows = self._conn.execute(
            f"SELECT {_SOURCE} FROM {_FROM} WHERE {where} ORDER BY s.urn LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [_source(r) for r in rows]

    def urns(self) -> set[str]:
        return {str(r[0]) for r in self._conn.execute("SELECT urn FROM sources")}

    def change(self, urn: str, author: str, when: str, **values: str) -> int:
        """Append a version with ``values`` changed and the rest as they are; its number."""
        now = versioned.current(self._conn, SOURCE_VERSIONS, urn)
        if now is None:
            raise LookupError("no such source")  # the service checked it exists
        merged = {**now.values, **values}
        return versioned.append(self._conn, SOURCE_VERSIONS, urn, author, merged, when)

    def history(self, urn: str) -> list[versioned.Version]:
        return versioned.history(self._conn, SOURCE_VERSIONS, urn)

    # -- the sealed compartment -----------------------------------------------------------
    def identity(self, urn: str) -> tuple[int, str] | None:
        """(version, particulars JSON) in force, or None when nothing is recorded yet."""
        row = self._conn.execute(
            "SELECT version, particulars FROM source_identity WHERE urn = ? "
            "ORDER BY version DESC LIMIT 1",
            (urn,),
        ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def add_identity(self, urn: str, particulars: str, when: str, by: str) -> int:
        current = self.identity(urn)
        version = 1 if current is None else current[0] + 1
        self._conn.execute(
            "INSERT INTO source_identity (urn, version, particulars, recorded_at, recorded_by) "
            "VALUES (?, ?, ?, ?, ?)",
            (urn, version, particulars, when, by),
        )
        return version

    # -- the team -----------------------------------------------------------------------
    def team_roles(self, urn: str, officer_id: str, now: str) -> frozenset[TeamRole]:
        rows = self._conn.execute(
            f"SELECT t.team_role FROM source_team t WHERE t.officer_id = ? AND t.urn = ? "
            f"AND {_CURRENT}",
            (officer_id, urn, now, now),
        )
        return frozenset(TeamRole(r[0]) for r in rows)

    def roles_by_source(self, officer_id: str, now: str) -> dict[str, frozenset[TeamRole]]:
        found: dict[str, set[TeamRole]] = {}
        for urn, role in self._conn.execute(
            f"SELECT t.urn, t.team_role FROM source_team t WHERE t.officer_id = ? AND {_CURRENT}",
            (officer_id, now, now),
        ):
            found.setdefault(str(urn), set()).add(TeamRole(role))
        return {urn: frozenset(roles) for urn, roles in found.items()}

    def team(self, urn: str, now: str | None = None) -> list[TeamMember]:
        """The team in force at ``now``, or its whole history when ``now`` is None."""
        sql = (
            f"SELECT {_MEMBER} FROM source_team t LEFT JOIN officers o "
            "ON o.id = t.officer_id WHERE t.urn = ?"
        )
        params: tuple[str, ...] = (urn,)
        if now is not None:
            sql += f" AND {_CURRENT}"
            params = (urn, now, now)
        rows = self._conn.execute(sql + " ORDER BY t.valid_from, t.id", params).fetchall()
        return [_member(r) for r in rows]

    def member(self, member_id: int) -> TeamMember | None:
        row = self._conn.execute(
            f"SELECT {_MEMBER} FROM source_team t LEFT JOIN officers o "
            "ON o.id = t.officer_id WHERE t.id = ?",
            (member_id,),
        ).fetchone()
        return None if row is None else _member(row)

    def assign(self, urn: str, officer_id: str, role: TeamRole, when: str, by: str) -> int:
        rows = self._conn.execute(
            "INSERT INTO source_team (urn, officer_id, team_role, valid_from, assigned_by) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id",
            (urn, officer_id, role.value, when, by),
        ).fetchall()  # read to the end so the insert is complete before COMMIT
        return int(rows[0][0])

    def end(self, member_id: int, when: str) -> None:
        self._conn.execute("UPDATE source_team SET valid_to = ? WHERE id = ?", (when, member_id))
