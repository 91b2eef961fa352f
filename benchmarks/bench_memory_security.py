"""SQLCipher memory security on against off: insert and primary-key lookup rates.

The switch is one per process and cannot be turned off once on, so each setting is measured
in a child process of its own (``--child on|off``), on a fresh vault database, through the
store as the application uses it:

- inserts: ``db.audit.append`` (hash chain and all) for ``rows`` rows in one transaction;
- lookups: ``db.audit.get(seq)`` (the audit table's primary key) for ``lookups`` random
  sequence numbers, the page cache warm;
- the engine alone, without the application's work per row (hashing, JSON): a scratch table
  ``(id INTEGER PRIMARY KEY, body BLOB)`` filled with ``executemany`` (200-byte rows, one
  transaction) and read back by ``id``.

The figures are context for the site policy (``cipher_memory_security``, off by default): no
target, but the ratios are what an administrator weighs against the residual risk described
in docs/security.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import uuid

from benchmarks.common import REPO_ROOT, Figure, context, scratch_dir
from cim_desktop.domain.audit.rows import Action, AuditEvent
from cim_desktop.store.audit.chain import Actor
from cim_desktop.store.connection import choose_memory_security
from cim_desktop.store.database import VaultDatabase

ACTOR = Actor("3f1c2b9e-0000-4000-8000-000000000001", "handler1", "handler", "a1b2c3d4e5f60718")
EVENT = AuditEvent(
    Action.VIEW,
    "source",
    "urn:cim:source:8d2f",
    {"fields": ["status", "handler", "risk"], "version": 3},
)


def _child(on: bool, rows: int, lookups: int) -> dict[str, float | str]:
    choose_memory_security(on)
    with scratch_dir("memsec") as root:
        db = VaultDatabase.create(root / "vault.db", os.urandom(32), str(uuid.uuid4()))
        try:
            in_force = db.pragmas()["cipher_memory_security"]
            start = time.perf_counter()
            with db.transaction():
                for _ in range(rows):
                    db.audit.append(ACTOR, EVENT)
            insert_s = time.perf_counter() - start
            picks = [random.randint(1, rows) for _ in range(lookups)]
            for seq in picks[:1000]:  # warm the page cache
                db.audit.get(seq)
            start = time.perf_counter()
            for seq in picks:
                assert db.audit.get(seq) is not None
            lookup_s = time.perf_counter() - start

            conn = db.conn
            conn.execute("CREATE TABLE bench (id INTEGER PRIMARY KEY, body BLOB)")
            body = os.urandom(200)
            raw_rows = rows * 2
            start = time.perf_counter()
            with db.transaction():
                conn.executemany(
                    "INSERT INTO bench VALUES (?, ?)", ((i, body) for i in range(1, raw_rows + 1))
                )
            raw_insert_s = time.perf_counter() - start
            raw_picks = [(random.randint(1, raw_rows),) for _ in range(lookups)]
            start = time.perf_counter()
            for pick in raw_picks:
                conn.execute("SELECT body FROM bench WHERE id = ?", pick).fetchone()
            raw_lookup_s = time.perf_counter() - start
        finally:
            db.close()
    return {
        "in_force": in_force,
        "insert_rows_per_s": rows / insert_s,
        "lookups_per_s": lookups / lookup_s,
        "raw_insert_rows_per_s": rows * 2 / raw_insert_s,
        "raw_lookups_per_s": lookups / raw_lookup_s,
    }


def _measure(on: bool, rows: int, lookups: int) -> dict[str, float | str]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_memory_security",
            "--child",
            "on" if on else "off",
            "--rows",
            str(rows),
            "--lookups",
            str(lookups),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
        timeout=600,
    )
    result: dict[str, float | str] = json.loads(done.stdout)
    if result["in_force"] != ("1" if on else "0"):
        raise RuntimeError(f"memory security read back {result['in_force']!r}")
    return result


def run(rows: int = 100_000, lookups: int = 50_000) -> list[Figure]:
    off = _measure(False, rows, lookups)
    on = _measure(True, rows, lookups)
    figures = []
    for name, label, note in (
        ("insert_rows_per_s", "audit insert", f"{rows:,} db.audit.append in one transaction"),
        (
            "lookups_per_s",
            "audit pk lookup",
            f"{lookups:,} random db.audit.get(seq) on {rows:,} rows",
        ),
        (
            "raw_insert_rows_per_s",
            "engine insert",
            f"{rows * 2:,} 200-byte rows by executemany in one transaction",
        ),
        (
            "raw_lookups_per_s",
            "engine pk lookup",
            f"{lookups:,} random SELECT by INTEGER PRIMARY KEY on {rows * 2:,} rows",
        ),
    ):
        slow, fast = float(on[name]), float(off[name])
        unit = "lookups/s" if "lookup" in label else "rows/s"
        figures += [
            context(f"memory security off, {label}", fast, unit),
            context(f"memory security on, {label}", slow, unit),
            context(f"{label}: off / on", fast / slow, "x", note),
        ]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=("on", "off"))
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=50_000)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child == "on", args.rows, args.lookups)))
        return
    from benchmarks.common import table

    print(table(run(args.rows, args.lookups)))


if __name__ == "__main__":
    main()
