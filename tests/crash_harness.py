"""Parent side of the kill test and the kill soak: start a writer, SIGKILL it, check the vault.

Shared by ``tests/test_crash_kill.py`` (a few dozen rounds in the suite) and
``benchmarks/soak_kill.py`` (hundreds of rounds).
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from cim_desktop.store.database import VaultDatabase
from tests.crash_writer import META_KEY

REPO_ROOT = Path(__file__).resolve().parents[1]
# How often the kill lands before the first commit (during start-up, open or WAL recovery).
EARLY_KILL_SHARE = 0.2
FIRST_COMMIT_TIMEOUT = 20.0


@dataclass
class RoundResult:
    reported: list[int]  # sequence numbers the child said were committed
    head: int  # the chain's head after the kill
    early: bool  # killed without waiting for a first commit
    problems: list[str] = field(default_factory=list)


class KillHarness:
    """Repeatedly run ``tests.crash_writer`` on one vault database and kill it at random."""

    def __init__(
        self, db_path: Path, key: bytes, vault_id: str, rng: random.Random, max_delay: float = 0.15
    ) -> None:
        self.db_path = db_path
        self._key = key
        self.vault_id = vault_id
        self.rng = rng
        self.max_delay = max_delay
        self.head = self._check()[0]

    def round(self) -> RoundResult:
        early = self.rng.random() < EARLY_KILL_SHARE
        lines, problems = self._run_and_kill(early)
        reported = [int(line) for line in lines]
        head, meta, check_problems = self._check()
        problems += check_problems
        if head < self.head:
            problems.append(f"the head went back from {self.head} to {head}")
        missing = [s for s in reported if s > head]
        if missing:
            problems.append(f"reported committed but missing: {missing[:5]}")
        if reported and reported != list(range(reported[0], reported[0] + len(reported))):
            problems.append("the child reported sequence numbers out of order")
        # At most one transaction can have committed without being reported (killed between
        # COMMIT and the print).
        known = max([self.head, *reported])
        if head - known not in (0, 1):
            problems.append(f"{head - known} rows appeared beyond the last known commit")
        if (reported or head > self.head) and meta != str(head):
            problems.append(
                f"the change row says {meta!r}, the chain head is {head}: "
                "a change and its audit row were not committed together"
            )
        self.head = max(self.head, head)
        return RoundResult(reported, head, early, problems)

    def _run_and_kill(self, early: bool) -> tuple[list[str], list[str]]:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.crash_writer"],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert child.stdin is not None and child.stdout is not None
        lines: list[str] = []
        first = threading.Event()

        def collect() -> None:
            assert child.stdout is not None
            for raw in child.stdout:
                # A line without its newline was cut by the kill: not a promise.
                if raw.endswith(b"\n"):
                    lines.append(raw.decode().strip())
                    first.set()
            first.set()  # EOF: the child has gone

        reader = threading.Thread(target=collect, daemon=True)
        reader.start()
        problems: list[str] = []
        try:
            child.stdin.write(
                json.dumps(
                    {"db": str(self.db_path), "key": self._key.hex(), "vault_id": self.vault_id}
                ).encode()
                + b"\n"
            )
            child.stdin.close()
            if early:
                time.sleep(self.rng.uniform(0.0, 0.3))
            else:
                if not first.wait(FIRST_COMMIT_TIMEOUT):
                    problems.append("the writer made no commit in time")
                time.sleep(self.rng.uniform(0.0, self.max_delay))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
            reader.join(10)
            assert child.stderr is not None
            stderr = child.stderr.read().decode(errors="replace")
            child.stderr.close()
            child.stdout.close()
        if child.returncode != -signal.SIGKILL:
            problems.append(f"the writer ended by itself ({child.returncode}): {stderr[-2000:]}")
        return lines, problems

    def _check(self) -> tuple[int, str | None, list[str]]:
        """Reopen as the application does, then run both integrity checks and the chain."""
        db = VaultDatabase.open(self.db_path, self._key, self.vault_id)
        try:
            problems = [f"integrity: {p}" for p in db.integrity_problems()]
            report = db.audit.verify()
            if not report.ok:
                problems.append(f"the chain breaks at {report.first_bad_seq}: {report.problem}")
            meta = db.meta.get(META_KEY)
        finally:
            db.close()
        return report.head_seq, meta, problems
