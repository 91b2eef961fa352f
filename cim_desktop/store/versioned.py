"""Versioned records: a change adds a version, none is ever altered or removed.

For a spec named ``source`` keyed by ``urn`` this makes (in a migration, see ``create``):

- ``source_versions(urn, version, author, created_at, <columns>)``, UNIQUE(urn, version),
  with triggers that refuse UPDATE and DELETE as the audit table's do;
- ``source_current``: the newest version of each key, the view that reads go through.

Who changed what and when is then the record itself, not something pieced together from the
audit trail, whose rows name only the fields changed (never identity values).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cim_desktop.store.connection import Connection


@dataclass(frozen=True)
class VersionedSpec:
    name: str  # the prefix of the table and the view
    key: str  # the record key column
    key_decl: str  # its SQL declaration, e.g. "TEXT NOT NULL REFERENCES sources(urn)"
    columns: tuple[tuple[str, str], ...]  # (column, SQL declaration) of each versioned value

    @property
    def table(self) -> str:
        return f"{self.name}_versions"

    @property
    def view(self) -> str:
        return f"{self.name}_current"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)


@dataclass(frozen=True)
class Version:
    key: str
    version: int
    author: str  # an officer id, or 'migration' for values carried over by a schema step
    created_at: str  # ISO UTC
    values: dict[str, Any]


def create(conn: Connection, spec: VersionedSpec) -> None:
    """The table, its append-only triggers and its current view. Call inside a migration."""
    cols = ",\n".join(f"{c} {decl}" for c, decl in spec.columns)
    conn.execute(
        f"""CREATE TABLE {spec.table} (
            {spec.key} {spec.key_decl},
            version INTEGER NOT NULL CHECK (version >= 1),
            author TEXT NOT NULL,
            created_at TEXT NOT NULL,
            {cols},
            UNIQUE ({spec.key}, version)
        )"""
    )
    for event in ("UPDATE", "DELETE"):
        conn.execute(
            f"""CREATE TRIGGER {spec.table}_no_{event.lower()} BEFORE {event} ON {spec.table}
                BEGIN SELECT RAISE(ABORT, '{spec.table} rows are append-only'); END"""
        )
    conn.execute(
        f"""CREATE VIEW {spec.view} AS
            SELECT v.* FROM {spec.table} v
            WHERE v.version = (SELECT max(w.version) FROM {spec.table} w
                               WHERE w.{spec.key} = v.{spec.key})"""
    )


def _select(spec: VersionedSpec) -> str:
    return f"{spec.key}, version, author, created_at, {', '.join(spec.names)}"


def _version(spec: VersionedSpec, row: tuple[Any, ...]) -> Version:
    key, version, author, created_at, *values = row
    return Version(
        str(key),
        int(version),
        str(author),
        str(created_at),
        dict(zip(spec.names, values, strict=True)),
    )


def append(
    conn: Connection,
    spec: VersionedSpec,
    key: str,
    author: str,
    values: Mapping[str, Any],
    when: str,
) -> int:
    """Add the next version of ``key`` (every column given) and return its number."""
    if set(values) != set(spec.names):
        raise ValueError(f"a {spec.name} version needs exactly the columns {spec.names}")
    rows = conn.execute(
        f"INSERT INTO {spec.table} ({_select(spec)}) "
        f"SELECT ?, COALESCE(max(version), 0) + 1, ?, ?, {', '.join('?' for _ in spec.names)} "
        f"FROM {spec.table} WHERE {spec.key} = ? RETURNING version",
        (key, author, when, *(values[c] for c in spec.names), key),
    ).fetchall()  # read to the end so the insert is complete before COMMIT
    return int(rows[0][0])


def current(conn: Connection, spec: VersionedSpec, key: str) -> Version | None:
    row = conn.execute(
        f"SELECT {_select(spec)} FROM {spec.view} WHERE {spec.key} = ?", (key,)
    ).fetchone()
    return None if row is None else _version(spec, row)


def history(conn: Connection, spec: VersionedSpec, key: str) -> list[Version]:
    """Every version of ``key``, oldest first."""
    rows = conn.execute(
        f"SELECT {_select(spec)} FROM {spec.table} WHERE {spec.key} = ? ORDER BY version",
        (key,),
    ).fetchall()
    return [_version(spec, r) for r in rows]


def changed_since(conn: Connection, spec: VersionedSpec, key: str, version: int) -> list[str]:
    """The columns whose value in the current version differs from ``version``'s."""
    versions = {v.version: v for v in history(conn, spec, key)}
    if version not in versions:
        raise ValueError(f"{spec.name} has no version {version} of that record")
    then, now = versions[version].values, versions[max(versions)].values
    return [c for c in spec.names if then[c] != now[c]]
