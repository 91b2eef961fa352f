"""Walking the audit hash chain: whole, or in seq ranges on several processes.

A range (lo, hi] starts from the *stored* hash of row lo. The range before it checks that this
stored hash is the one its own walk computes, so the ranges join into one unbroken proof and
the first break found in seq order is the same one a single walk would report.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from cim_desktop.domain.audit.rows import ChainReport
from cim_desktop.store.audit.chain_format import COLUMNS, FAST_ENCODE, genesis
from cim_desktop.store.connection import (
    Connection,
    DatabaseError,
    choose_memory_security,
    close_quietly,
    connect,
    memory_security_in_force,
)

BATCH = 20_000
# Below this many rows a second process costs more to start than it saves.
PARALLEL_MIN_ROWS = 200_000
MAX_WORKERS = 4


def _batch(conn: Connection, after: int | None, hi: int | None) -> list[tuple[Any, ...]]:
    """The next rows in seq order; a row that cannot be read comes back as ``(seq,)``."""
    # No lower bound on the first batch from genesis: a row numbered zero or below is a forgery
    # that must be seen too.
    clauses, params = [], []
    if after is not None:
        clauses.append("seq > ?")
        params.append(after)
    if hi is not None:
        clauses.append("seq <= ?")
        params.append(hi)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    try:
        return list(
            conn.execute(
                f"SELECT {COLUMNS} FROM audit {where} ORDER BY seq LIMIT ?", (*params, BATCH)
            ).fetchall()
        )
    except DatabaseError:
        pass
    # Some value does not decode (text that is not UTF-8): read row by row to find it.
    rows: list[tuple[Any, ...]] = []
    for (seq,) in conn.execute(
        f"SELECT seq FROM audit {where} ORDER BY seq LIMIT ?", (*params, BATCH)
    ).fetchall():
        try:
            rows.append(
                conn.execute(f"SELECT {COLUMNS} FROM audit WHERE seq = ?", (seq,)).fetchone()
            )
        except DatabaseError:
            rows.append((seq,))
    return rows


def _start(conn: Connection, vault_id: str, lo: int | None) -> bytes | None:
    if lo is None or lo == 0:
        return genesis(vault_id)
    row = conn.execute("SELECT hash FROM audit WHERE seq = ?", (lo,)).fetchone()
    return row[0] if row is not None and isinstance(row[0], bytes) else None


def walk(
    conn: Connection,
    vault_id: str,
    *,
    lo: int | None = None,
    hi: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ChainReport:
    """Verify rows (lo, hi]; ``lo=None`` walks from genesis and sees every row below 1 too."""
    first = 1 if lo is None else lo + 1
    start = _start(conn, vault_id, lo)
    if start is None:  # the row the range hangs from is gone: the range before reports it
        return ChainReport(False, 0, lo or 0, b"", first - 1, "a row is missing")
    prev = start
    expected_seq = first
    checked = 0
    after = lo
    sha256 = hashlib.sha256
    encode = FAST_ENCODE
    while True:
        rows = _batch(conn, after, hi)
        if not rows:
            break
        for r in rows:
            seq = r[0]
            if seq != expected_seq:
                problem = "a row is missing" if seq > expected_seq else "rows are out of order"
                return ChainReport(False, checked, expected_seq - 1, prev, expected_seq, problem)
            if len(r) == 1:
                return ChainReport(False, checked, seq - 1, prev, seq, "the row cannot be read")
            if r[12] != prev:
                return ChainReport(
                    False, checked, seq - 1, prev, seq, "the row does not follow the one before it"
                )
            digest: bytes | None
            try:
                hashed = r[:12] if r[14] is None and r[15] is None else r[:12] + r[14:16]
                digest = sha256(prev + encode(hashed).encode("utf-8")).digest()
            except TypeError:  # a blob where text belongs: it has no canonical form
                digest = None
            if digest is None or r[13] != digest:
                return ChainReport(
                    False, checked, seq - 1, prev, seq, "the row's content does not match its hash"
                )
            prev = digest
            expected_seq += 1
            checked += 1
        after = int(rows[-1][0])
        if progress is not None:
            progress(checked)
    if hi is not None and expected_seq != hi + 1:
        return ChainReport(False, checked, expected_seq - 1, prev, expected_seq, "a row is missing")
    return ChainReport(True, checked, expected_seq - 1, prev)


def _walk_file(
    path: str, key: bytes, vault_id: str, lo: int, hi: int, memory_security: bool = False
) -> ChainReport:
    """One range in a worker process, on its own connection (with the parent's memory
    security: the worker holds the same key)."""
    choose_memory_security(memory_security)
    conn = connect(Path(path), key)
    try:
        return walk(conn, vault_id, lo=lo, hi=hi)
    finally:
        close_quietly(conn)


def walk_file(
    conn: Connection,
    path: Path,
    key: bytes,
    vault_id: str,
    *,
    workers: int | None = None,
    min_rows: int = PARALLEL_MIN_ROWS,
    progress: Callable[[int], None] | None = None,
) -> ChainReport:
    """Verify the whole chain, splitting a long one across processes (one a core)."""
    row = conn.execute("SELECT max(seq) FROM audit").fetchone()
    head = int(row[0]) if row is not None and row[0] is not None else 0
    count = workers if workers is not None else min(os.cpu_count() or 1, MAX_WORKERS)
    if count < 2 or head < max(min_rows, count):
        return walk(conn, vault_id, progress=progress)
    bounds = [head * i // count for i in range(count + 1)]
    # spawn, never fork: the GUI process has Qt threads that a fork would copy half-alive.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=count - 1, mp_context=context) as pool:
        futures = [
            pool.submit(
                _walk_file,
                str(path),
                key,
                vault_id,
                bounds[i],
                bounds[i + 1],
                memory_security_in_force(),
            )
            for i in range(1, count)
        ]
        reports = [walk(conn, vault_id, hi=bounds[1])]
        reports += [f.result() for f in futures]
    checked = 0
    for report in reports:
        if not report.ok:
            return ChainReport(
                False,
                checked + report.rows_checked,
                report.head_seq,
                report.head_hash,
                report.first_bad_seq,
                report.problem,
            )
        checked += report.rows_checked
    if progress is not None:
        progress(checked)
    return ChainReport(True, checked, reports[-1].head_seq, reports[-1].head_hash)
