"""Vault work runs through the operation helper and bugs reach the crash dialog in one place:
outside ``ui/kit`` no code calls the database worker's ``run`` or ``crash.report`` itself.

The failure message lists every file and line found, so a merge shows what is left."""

from __future__ import annotations

import re
from pathlib import Path

import cim_desktop

UI = Path(cim_desktop.__file__).parent / "ui"
# A worker's run(...) with arguments, also continued on the next line (an Operation's run()
# takes none), or a crash report.
WORKER_RUN = re.compile(r"worker\.run\((?!\))")
CRASH_REPORT = re.compile(r"\bcrash\.report\(")
# Not vault work and nothing to report: importing modules on the worker after start-up.
EXEMPT = {("shell/flow.py", "self.worker.run(_warm_imports)")}
# Converted on branch ready-lists (the audit trail and sources screens). At the merge these
# must come out of this set; the last test fails until they do.
PENDING = {"audit/screen.py", "sources/screen.py"}


def _found(pattern: re.Pattern[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(UI.rglob("*.py")):
        where = path.relative_to(UI).as_posix()
        if where.startswith("kit/"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line) and (where, line.strip()) not in EXEMPT:
                found.setdefault(where, []).append(f"{where}:{number}: {line.strip()}")
    return found


def _report(found: dict[str, list[str]]) -> str:
    return "\n".join(line for lines in found.values() for line in lines)


def test_no_worker_calls_outside_the_kit() -> None:
    left = {k: v for k, v in _found(WORKER_RUN).items() if k not in PENDING}
    assert not left, f"worker calls outside ui/kit (use Operation):\n{_report(left)}"


def test_no_crash_reports_outside_the_kit() -> None:
    left = {k: v for k, v in _found(CRASH_REPORT).items() if k not in PENDING}
    assert not left, f"crash.report outside ui/kit (Operation does it):\n{_report(left)}"


def test_the_pending_screens_are_still_pending() -> None:
    # Once a pending screen is converted, take it out of PENDING so that it stays converted.
    still = set(_found(WORKER_RUN)) | set(_found(CRASH_REPORT))
    done = PENDING - still
    assert not done, f"converted, remove from PENDING in {Path(__file__).name}: {sorted(done)}"
