"""The append-only audit table: appending, paging and verifying rows.

The hash format is in ``chain_format``; the verification walk in ``chain_walk``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cim_desktop.domain.audit.rows import AuditEvent, AuditRow, ChainReport
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.store.audit.chain_format import COLUMNS, genesis, row_hash
from cim_desktop.store.audit.chain_walk import walk
from cim_desktop.store.connection import Connection
from cim_desktop.store.vault import state as bound_state

_PAGE_ROWS = 20_000


def encode_detail(detail: dict[str, Any]) -> str:
    return json.dumps(detail, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Actor:
    user_id: str
    username: str
    role: str
    session_id: str


SYSTEM_ACTOR = Actor("system", "system", "system", "")


@dataclass(frozen=True)
class AuditFilter:
    user_id: str | None = None
    action: str | None = None
    ts_from: str | None = None  # inclusive, canonical ISO
    ts_to: str | None = None  # exclusive
    # Free text: the record (a URN), the officer (username or display name, as actor or as
    # the record), the action, the detail document or the reason.
    text: str | None = None
    upto: int | None = None  # rows up to this sequence number: the snapshot a screen shows

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if self.user_id:
            clauses.append("user_id = ?")
            params.append(self.user_id)
        if self.action:
            clauses.append("action = ?")
            params.append(self.action)
        if self.ts_from:
            clauses.append("ts >= ?")
            params.append(self.ts_from)
        if self.ts_to:
            clauses.append("ts < ?")
            params.append(self.ts_to)
        if self.upto is not None:
            clauses.append("seq <= ?")
            params.append(self.upto)
        if self.text:
            pattern = "%" + escape_like(self.text) + "%"
            named = (
                "(SELECT id FROM officers WHERE username LIKE ? ESCAPE '\\' "
                "OR display_name LIKE ? ESCAPE '\\')"
            )
            clauses.append(
                "(entity_id LIKE ? ESCAPE '\\' OR username LIKE ? ESCAPE '\\' "
                "OR action LIKE ? ESCAPE '\\' OR detail LIKE ? ESCAPE '\\' "
                f"OR reason LIKE ? ESCAPE '\\' OR user_id IN {named} OR entity_id IN {named})"
            )
            params.extend([pattern] * 9)
        return (" AND ".join(clauses) or "1"), params


def escape_like(text: str) -> str:
    """``text`` matched literally by ``LIKE ... ESCAPE '\\'``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _row(values: tuple[Any, ...]) -> AuditRow:
    return AuditRow(*values)


def _hash_bytes(value: Any) -> bytes:
    """A stored hash as bytes, whatever type a damaged row holds.

    Never ``bytes(value)``: for an integer that allocates that many zero bytes (a forged
    hash of 10**9 took 1.5 GB). The verification walk reports such a row as broken; new rows
    still chain from something deterministic so the vault stays usable to investigate.
    """
    if isinstance(value, bytes):
        return value
    return f"{type(value).__name__}:{value!r:.200}".encode("utf-8", "backslashreplace")


class AuditChain:
    def __init__(self, conn: Connection, vault_id: str) -> None:
        self._conn = conn
        self._vault_id = vault_id
        # Told of every row appended, so the open transaction knows what it changed.
        self.on_append: Callable[[AuditRow], None] | None = None

    def head(self) -> tuple[int, bytes]:
        seq, prev, _ = self._head()
        return seq, prev

    def _head(self) -> tuple[int, bytes, Any]:
        row = self._conn.execute(
            "SELECT seq, hash, state FROM audit ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return 0, genesis(self._vault_id), None
        return int(row[0]), _hash_bytes(row[1]), row[2]

    def append(
        self,
        actor: Actor,
        event: AuditEvent,
        ts: str | None = None,
        *,
        bind: bool = True,
        rebase: bool = False,
    ) -> AuditRow:
        """Append one row. The caller must hold a write transaction.

        The granting rows this transaction changed are stamped with the new row's sequence
        number and their contents recorded in its ``bound`` column, and the row carries the
        digest of all granting rows (see ``store.state``). ``bind=False`` is for recording a
        state finding: it carries the newest row's state forward and binds nothing, so a
        finding never blesses the rows it is about. ``rebase=True`` records every granting
        row afresh (an administrator's reconciliation, approved and audited).
        """
        if not self._conn.in_transaction:
            raise RuntimeError("audit rows are written inside the change's transaction")
        seq, prev, state = self._head()
        bound_text: str | None = None
        if bind:
            bound, state = bound_state.bind(self._conn, seq + 1, state, rebase)
            if bound:
                bound_text = encode_detail(bound)
        elif not isinstance(state, str):
            state = None
        fields = (
            seq + 1,
            ts or iso_utc(utc_now()),
            actor.user_id,
            actor.username,
            actor.role,
            actor.session_id,
            str(event.action),
            event.entity_type,
            event.entity_id,
            encode_detail(event.detail),
            event.reason,
            str(event.outcome),
        )
        digest = row_hash(prev, fields, state, bound_text)
        self._conn.execute(
            f"INSERT INTO audit ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (*fields, prev, digest, state, bound_text),
        )
        row = AuditRow(*fields, prev, digest, state, bound_text)
        if self.on_append is not None:
            self.on_append(row)
        return row

    def count(self, flt: AuditFilter | None = None) -> int:
        where, params = (flt or AuditFilter()).where()
        return int(
            self._conn.execute(f"SELECT count(*) FROM audit WHERE {where}", params).fetchone()[0]
        )

    def page(
        self,
        flt: AuditFilter | None = None,
        *,
        before_seq: int | None = None,
        after_seq: int | None = None,
        limit: int = 200,
    ) -> list[AuditRow]:
        """Keyset page, newest first: rows with seq < before_seq (or > after_seq)."""
        where, params = (flt or AuditFilter()).where()
        if before_seq is not None:
            where += " AND seq < ?"
            params.append(before_seq)
        if after_seq is not None:
            where += " AND seq > ?"
            params.append(after_seq)
        sql = f"SELECT {COLUMNS} FROM audit WHERE {where} ORDER BY seq DESC LIMIT ?"
        return [_row(r) for r in self._conn.execute(sql, (*params, limit))]

    def get(self, seq: int) -> AuditRow | None:
        row = self._conn.execute(f"SELECT {COLUMNS} FROM audit WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else _row(row)

    def iter_all(self) -> Iterable[AuditRow]:
        # Every row, including any numbered zero or below (a forgery should be exported too).
        last: int | None = None
        while True:
            where, params = ("", ()) if last is None else ("WHERE seq > ?", (last,))
            rows = self._conn.execute(
                f"SELECT {COLUMNS} FROM audit {where} ORDER BY seq LIMIT ?",
                (*params, _PAGE_ROWS),
            ).fetchall()
            if not rows:
                return
            for r in rows:
                yield _row(r)
            last = int(rows[-1][0])

    def officer_names(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Display name and username of each officer id among ``ids`` (for labels)."""
        wanted = sorted(set(ids))
        found: dict[str, tuple[str, str]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for officer_id, display, username in self._conn.execute(
                f"SELECT id, display_name, username FROM officers WHERE id IN ({marks})", chunk
            ):
                found[str(officer_id)] = (str(display), str(username))
        return found

    def distinct_actions(self) -> list[str]:
        return [str(r[0]) for r in self._conn.execute("SELECT DISTINCT action FROM audit")]

    def recorded_event_ids(self, action: str, event_ids: list[str]) -> set[str]:
        if not event_ids:
            return set()
        marks = ",".join("?" * len(event_ids))
        rows = self._conn.execute(
            f"SELECT json_extract(detail, '$.event_id') FROM audit WHERE action = ? "
            f"AND json_extract(detail, '$.event_id') IN ({marks})",
            (action, *event_ids),
        )
        return {str(r[0]) for r in rows}

    def verify(self, progress: Callable[[int], None] | None = None) -> ChainReport:
        """Walk the whole chain; report the first sequence number where it breaks."""
        return walk(self._conn, self._vault_id, progress=progress)
