"""Audit append inside a write transaction (target: over 5,000 rows/s).

Two patterns, both on a real vault database (SQLCipher, WAL, ``synchronous=FULL``, the audit
indexes of the current schema):

- one row per transaction: what every service call does (``BEGIN IMMEDIATE``, the change's
  audit row, ``COMMIT`` with its fsync);
- many rows in one transaction: bulk work such as an import, where one commit covers them all.
"""

from __future__ import annotations

import os
import time
import uuid

from benchmarks.common import Figure, above, context, scratch_dir
from cim_desktop.domain.audit.rows import Action, AuditEvent
from cim_desktop.store.audit.chain import Actor
from cim_desktop.store.database import VaultDatabase

TARGET_ROWS_PER_S = 5000.0
ACTOR = Actor("3f1c2b9e-0000-4000-8000-000000000001", "handler1", "handler", "a1b2c3d4e5f60718")
EVENT = AuditEvent(
    Action.VIEW,
    "source",
    "urn:cim:source:8d2f",
    {"fields": ["status", "handler", "risk"], "version": 3},
)


def run(single_rows: int = 3000, batch_rows: int = 100_000) -> list[Figure]:
    with scratch_dir("append") as root:
        db = VaultDatabase.create(root / "vault.db", os.urandom(32), str(uuid.uuid4()))
        try:
            for _ in range(200):  # warm the page cache and the WAL
                with db.transaction():
                    db.audit.append(ACTOR, EVENT)

            start = time.perf_counter()
            for _ in range(single_rows):
                with db.transaction():
                    db.audit.append(ACTOR, EVENT)
            single = single_rows / (time.perf_counter() - start)

            start = time.perf_counter()
            with db.transaction():
                for _ in range(batch_rows):
                    db.audit.append(ACTOR, EVENT)
            batch = batch_rows / (time.perf_counter() - start)
            synchronous = db.pragmas()["synchronous"]
        finally:
            db.close()
    return [
        above(
            "audit append, 1 row per transaction",
            single,
            "rows/s",
            TARGET_ROWS_PER_S,
            f"{single_rows} transactions, each BEGIN IMMEDIATE + append + COMMIT "
            f"(synchronous={synchronous}: one fsync of the WAL per commit)",
        ),
        above(
            "audit append, many rows per transaction",
            batch,
            "rows/s",
            TARGET_ROWS_PER_S,
            f"{batch_rows:,} appends in one transaction",
        ),
        context("audit append, cost per committed transaction", 1000.0 / single, "ms"),
    ]


if __name__ == "__main__":
    from benchmarks.common import table

    print(table(run()))
