"""Child process for the kill test: commit audited writes until killed.

Reads one JSON line on stdin (``db``, ``key`` in hex, ``vault_id``; test-only: the parent hands
over the vault key through the pipe because the child cannot share its in-memory keyring).
Each loop commits, in one transaction, an audit row and a meta row naming that row's sequence
number (the "change" the audit row records), then prints the sequence number and flushes:
a number on stdout is a promise that the write is durable.

Run as ``python -m tests.crash_writer`` from the repository root.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from cim_desktop.domain.audit.rows import Action, AuditEvent
from cim_desktop.store.audit.chain import Actor
from cim_desktop.store.database import VaultDatabase

META_KEY = "crash_writer_seq"
ACTOR = Actor("crash-writer", "crash-writer", "system", "crash")
# A guard in case the parent dies without killing us.
MAX_SECONDS = 30.0


def main() -> int:
    params = json.loads(sys.stdin.readline())
    db = VaultDatabase.open(Path(params["db"]), bytes.fromhex(params["key"]), params["vault_id"])
    started = time.monotonic()
    n = 0
    while time.monotonic() - started < MAX_SECONDS:
        n += 1
        # Some writes span several pages, so a kill can land in the middle of a multi-frame
        # WAL append, not only between one-page commits.
        pad = "x" * (3000 * (n % 4 == 0))
        with db.transaction():
            row = db.audit.append(
                ACTOR, AuditEvent(Action.UPDATE, "test", "counter", {"n": n, "pad": pad})
            )
            db.meta.set(META_KEY, str(row.seq))
        sys.stdout.write(f"{row.seq}\n")
        sys.stdout.flush()
        if n % 40 == 0:
            # Move WAL frames into the main file now and then, so kills also hit a checkpoint.
            db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
