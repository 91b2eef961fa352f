"""SIGKILL a process in the middle of audited writes, again and again, on one vault.

After every kill: each write the process reported committed is there, at most the one write
it had no time to report is extra, each change sits with its audit row, SQLCipher's page
check and SQLite's integrity check pass, and the audit chain verifies.
"""

from __future__ import annotations

import os
import random

from cim_desktop.services.vault.lifecycle import NewVault
from tests.crash_harness import KillHarness

KILLS = 30


def test_sigkill_at_random_moments_loses_no_reported_commit(new_vault: NewVault) -> None:
    session = new_vault.session
    db_path, key, vault_id = session.paths.db, bytes(session.vault_key), session.vault_id
    session.close()
    seed = int.from_bytes(os.urandom(4), "big")
    harness = KillHarness(db_path, key, vault_id, random.Random(seed))
    start_head = harness.head

    results = [harness.round() for _ in range(KILLS)]

    for number, result in enumerate(results, 1):
        assert result.problems == [], f"kill {number} of {KILLS} (seed {seed}): {result}"
    mid_write = [r for r in results if r.reported]
    # The kills must really land while writes are going on, not only at start-up.
    assert len(mid_write) >= KILLS // 2, f"seed {seed}"
    assert results[-1].head >= start_head + sum(len(r.reported) for r in results)
