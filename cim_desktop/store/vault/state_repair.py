"""Putting granting rows back to what the audit chain last recorded (reconciliation).

The remedy ``services.reconcile`` runs after ``store.state`` named rows that no longer answer
to the chain; the rows are rewritten here, inside the transaction whose audit row re-bases the
state.
"""

from __future__ import annotations

from typing import Any

from cim_desktop.store.connection import Connection
from cim_desktop.store.vault.state import (
    BOUND_TABLES,
    BY_NAME,
    BoundTable,
    StateFinding,
    latest_records,
    row_content,
)


class CannotReconcile(Exception):
    """A finding the chain holds no record to put right (an officer row it never saw)."""


def put_back(conn: Connection, found: list[StateFinding]) -> tuple[list[str], list[str]]:
    """Return each named row to what the chain last recorded; remove rows it never saw.

    Returns (entities restored, entities removed). The caller appends the audit row that
    re-bases the state, in the same transaction.
    """
    # An old page can leave an index out of step with its table (an entry for a row the
    # table page no longer holds); rebuild the indexes from the tables before writing.
    for table in BOUND_TABLES:
        conn.execute(f"REINDEX {table.name}")
    latest = latest_records(conn)
    restored: list[str] = []
    removed: list[str] = []
    for f in found:
        t = BY_NAME.get(f.table)
        if t is None:
            continue
        record = latest.get(f.entity)
        key = _key(t, f.key)
        exists = row_content(conn, t.name, key) is not None
        if record is None or record[1] is None:
            if not exists:
                continue
            if t.name == "officers":
                raise CannotReconcile(f.entity)
            conn.execute(f"DELETE FROM {t.name} WHERE {t.key} = ?", (key,))
            removed.append(f.entity)
            continue
        content = list(record[1])
        if len(content) != len(t.columns):
            raise CannotReconcile(f.entity)
        if exists:
            sets = ", ".join(f"{c} = {_slot(t, c)}" for c in t.columns[1:])
            conn.execute(f"UPDATE {t.name} SET {sets} WHERE {t.key} = ?", (*content[1:], key))
        else:
            marks = ", ".join(_slot(t, c) for c in t.columns)
            conn.execute(f"INSERT INTO {t.name} ({', '.join(t.columns)}) VALUES ({marks})", content)
        restored.append(f.entity)
    return restored, removed


def _slot(t: BoundTable, column: str) -> str:
    """The placeholder for ``column``: BLOB columns are recorded as hex text."""
    return "unhex(?)" if column in t.blobs else "?"


def _key(t: BoundTable, text: str) -> Any:
    """A finding's key in the column's own type (integer ids are named as text)."""
    if t.name in ("officer_roles", "source_team") and text.lstrip("-").isdigit():
        return int(text)
    return text
