"""Crash soak: SIGKILL a process committing audited writes, 500 times (not part of pytest).

    .venv/bin/python -m benchmarks.soak_kill [--rounds 500] [--seed N] [--max-delay 0.15]

The same loop as ``tests/test_crash_kill.py`` (``tests/crash_harness.py``), on one vault:
start ``tests.crash_writer``, kill it at a random moment, reopen the vault, and check that every
commit it reported is there, both integrity checks pass, the chain verifies and each change
sits with its audit row. Prints a line every 50 rounds and a summary; exit status 1 if any
round found a problem.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

from benchmarks.common import make_vault, scratch_dir
from cim_desktop.security.device_secret import DeviceSecretStore
from tests.crash_harness import KillHarness
from tests.memory_keyring import MemoryKeyring


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="soak_kill", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=500)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--max-delay",
        type=float,
        default=0.15,
        help="longest wait (s) after the first commit before the kill",
    )
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    os.environ.setdefault("CIM_ARGON2_PROFILE", "floor")

    with scratch_dir("soak") as root:
        session = make_vault(root / "vault", DeviceSecretStore(MemoryKeyring())).session
        db_path, key, vault_id = session.paths.db, bytes(session.vault_key), session.vault_id
        session.close()
        harness = KillHarness(db_path, key, vault_id, random.Random(seed), args.max_delay)
        first_head = harness.head
        started = time.perf_counter()
        failed: list[tuple[int, list[str]]] = []
        reported = mid_write = early = 0
        for number in range(1, args.rounds + 1):
            result = harness.round()
            reported += len(result.reported)
            mid_write += bool(result.reported)
            early += result.early
            if result.problems:
                failed.append((number, result.problems))
                print(f"round {number}: {'; '.join(result.problems)}", flush=True)
            if number % 50 == 0:
                print(
                    f"{number} rounds, {reported:,} commits reported, head {harness.head:,}, "
                    f"{len(failed)} failed, {time.perf_counter() - started:.0f} s",
                    flush=True,
                )
        elapsed = time.perf_counter() - started
        size_kb = db_path.stat().st_size // 1024

    print()
    print(
        f"seed {seed}: {args.rounds} kills in {elapsed:.0f} s "
        f"({mid_write} after the writer had reported commits; {early} timed from the spawn "
        "rather than from the first commit)"
    )
    print(
        f"  commits reported by the writers: {reported:,}; chain head {first_head} -> "
        f"{harness.head:,}; vault {size_kb:,} KiB"
    )
    print(
        f"  rounds with a problem: {len(failed)}"
        + ("" if not failed else f" (first: round {failed[0][0]}: {failed[0][1]})")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
