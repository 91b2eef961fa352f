"""The append-only audit table and its SHA-256 hash chain.

``hash = SHA-256(prev_hash || canonical(row))`` where the canonical form is the compact JSON
array of every column but the hashes, in a fixed order. The first row chains from a genesis
value bound to the vault id, so rows cannot be spliced in from another vault.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cim_desktop.domain.audit import AuditEvent, AuditRow, ChainReport
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.store.connection import Connection, DatabaseError

_COLUMNS = (
    "seq, ts, user_id, username, role, session_id, action, entity_type, entity_id, detail, "
    "reason, outcome, prev_hash, hash"
)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_VERIFY_BATCH = 20_000


def _reusable_encode() -> Callable[[tuple[Any, ...]], str]:
    """``_ENCODER.encode`` without building a new C encoder on every call.

    ``JSONEncoder.encode`` makes a fresh C encoder per call, half the cost of encoding a row;
    verification encodes a million. This is the same C encoder with the same settings
    (``JSONEncoder``'s one-shot path), so the bytes are identical.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return _ENCODER.encode
    chunks = make(None, _ENCODER.default, json.encoder.encode_basestring, None,
                  _ENCODER.key_separator, _ENCODER.item_separator, False, False, True)
    join = "".join

    def encode(fields: tuple[Any, ...]) -> str:
        return join(chunks(fields, 0))

    return encode


_FAST_ENCODE = _reusable_encode()


def genesis(vault_id: str) -> bytes:
    return hashlib.sha256(b"cim-desktop audit genesis|" + vault_id.encode()).digest()


def canonical(fields: tuple[Any, ...]) -> bytes:
    """Fields: seq, ts, user_id, username, role, session_id, action, entity_type, entity_id,
    detail, reason, outcome."""
    return _ENCODER.encode(fields).encode("utf-8")


def row_hash(prev_hash: bytes, fields: tuple[Any, ...]) -> bytes:
    return hashlib.sha256(prev_hash + canonical(fields)).digest()


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
        return (" AND ".join(clauses) or "1"), params


def _row(values: tuple[Any, ...]) -> AuditRow:
    return AuditRow(*values)


class AuditChain:
    def __init__(self, conn: Connection, vault_id: str) -> None:
        self._conn = conn
        self._vault_id = vault_id

    def head(self) -> tuple[int, bytes]:
        row = self._conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        if row is None:
            return 0, genesis(self._vault_id)
        return int(row[0]), bytes(row[1])

    def append(self, actor: Actor, event: AuditEvent, ts: str | None = None) -> AuditRow:
        """Append one row. The caller must hold a write transaction."""
        if not self._conn.in_transaction:
            raise RuntimeError("audit rows are written inside the change's transaction")
        seq, prev = self.head()
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
        digest = row_hash(prev, fields)
        self._conn.execute(
            f"INSERT INTO audit ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (*fields, prev, digest),
        )
        return AuditRow(*fields, prev, digest)

    def count(self, flt: AuditFilter | None = None) -> int:
        where, params = (flt or AuditFilter()).where()
        return int(self._conn.execute(f"SELECT count(*) FROM audit WHERE {where}", params)
                   .fetchone()[0])

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
        sql = f"SELECT {_COLUMNS} FROM audit WHERE {where} ORDER BY seq DESC LIMIT ?"
        return [_row(r) for r in self._conn.execute(sql, (*params, limit))]

    def get(self, seq: int) -> AuditRow | None:
        row = self._conn.execute(f"SELECT {_COLUMNS} FROM audit WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else _row(row)

    def iter_all(self) -> Iterable[AuditRow]:
        # Every row, including any numbered zero or below (a forgery should be exported too).
        last: int | None = None
        while True:
            where, params = ("", ()) if last is None else ("WHERE seq > ?", (last,))
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM audit {where} ORDER BY seq LIMIT ?",
                (*params, _VERIFY_BATCH),
            ).fetchall()
            if not rows:
                return
            for r in rows:
                yield _row(r)
            last = int(rows[-1][0])

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

    def _verify_batch(self, last: int | None) -> list[tuple[Any, ...]]:
        """The next rows in seq order; a row that cannot be read comes back as ``(seq,)``."""
        # No lower bound on the first batch: a row numbered zero or below must be seen too.
        where, params = ("", ()) if last is None else ("WHERE seq > ?", (last,))
        try:
            return list(self._conn.execute(
                f"SELECT {_COLUMNS} FROM audit {where} ORDER BY seq LIMIT ?",
                (*params, _VERIFY_BATCH),
            ).fetchall())
        except DatabaseError:
            pass
        # Some value does not decode (text that is not UTF-8): read row by row to find it.
        rows: list[tuple[Any, ...]] = []
        for (seq,) in self._conn.execute(
            f"SELECT seq FROM audit {where} ORDER BY seq LIMIT ?", (*params, _VERIFY_BATCH)
        ).fetchall():
            try:
                rows.append(self._conn.execute(
                    f"SELECT {_COLUMNS} FROM audit WHERE seq = ?", (seq,)).fetchone())
            except DatabaseError:
                rows.append((seq,))
        return rows

    def verify(self, progress: Callable[[int], None] | None = None) -> ChainReport:
        """Walk the whole chain; report the first sequence number where it breaks."""
        prev = genesis(self._vault_id)
        expected_seq = 1
        checked = 0
        last: int | None = None
        sha256 = hashlib.sha256
        encode = _FAST_ENCODE
        while True:
            rows = self._verify_batch(last)
            if not rows:
                break
            for r in rows:
                seq = r[0]
                if seq != expected_seq:
                    problem = "a row is missing" if seq > expected_seq else "rows are out of order"
                    return ChainReport(False, checked, expected_seq - 1, prev, expected_seq,
                                       problem)
                if len(r) == 1:
                    return ChainReport(False, checked, seq - 1, prev, seq,
                                       "the row cannot be read")
                if r[12] != prev:
                    return ChainReport(False, checked, seq - 1, prev, seq,
                                       "the row does not follow the one before it")
                digest: bytes | None
                try:
                    digest = sha256(prev + encode(r[:12]).encode("utf-8")).digest()
                except TypeError:  # a blob where text belongs: it has no canonical form
                    digest = None
                if digest is None or r[13] != digest:
                    return ChainReport(False, checked, seq - 1, prev, seq,
                                       "the row's content does not match its hash")
                prev = digest
                expected_seq += 1
                checked += 1
            last = int(rows[-1][0])
            if progress is not None:
                progress(checked)
        return ChainReport(True, checked, expected_seq - 1, prev)
