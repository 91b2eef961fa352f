"""The local policy table: the values an administrator changed, with who and when."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cim_desktop.store.connection import Connection


@dataclass(frozen=True)
class StoredSetting:
    key: str
    value: Any | None  # None: the shipped default is in force
    changed_at: str
    changed_by: str  # officer id
    approved_by: str  # officer id, or '' for a bootstrap change


class PolicyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def all(self) -> dict[str, StoredSetting]:
        rows = self._conn.execute(
            "SELECT key, value, changed_at, changed_by, approved_by FROM policy ORDER BY key"
        ).fetchall()
        return {
            key: StoredSetting(
                key,
                None if value is None else json.loads(value),
                changed_at,
                changed_by,
                approved_by,
            )
            for key, value, changed_at, changed_by, approved_by in rows
        }

    def values(self) -> dict[str, Any]:
        """The stored values that are not shipped defaults, by key."""
        return {key: row.value for key, row in self.all().items() if row.value is not None}

    def put(
        self, key: str, value: Any | None, changed_at: str, changed_by: str, approved_by: str
    ) -> None:
        text = None if value is None else json.dumps(value, ensure_ascii=False)
        self._conn.execute(
            "INSERT INTO policy (key, value, changed_at, changed_by, approved_by) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
            "changed_at = excluded.changed_at, changed_by = excluded.changed_by, "
            "approved_by = excluded.approved_by",
            (key, text, changed_at, changed_by, approved_by),
        )
