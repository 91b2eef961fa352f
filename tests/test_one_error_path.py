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
# Files allowed to keep their own worker calls while being converted: none any more.
PENDING: set[str] = set()


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
