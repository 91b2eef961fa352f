"""Dates in one format: ui/ formats dates and times only through ui/kit/fmt.py."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import cim_desktop.ui
from cim_desktop.ui.kit import fmt

UI = Path(cim_desktop.ui.__file__).parent
# strftime/isoformat/Qt's toString, a date format inside an f-string ({x:%d...}), a Qt
# display format, or an ISO string cut to its date ([:10]).
STRAY = re.compile(
    r"strftime|isoformat\(|\.toString\(|setDisplayFormat\(|\{[^{}]*:%[a-zA-Z]|\[:10\]|\[:16\]|\[:19\]"
)


def test_no_date_formatting_outside_the_format_module() -> None:
    found = []
    for path in sorted(UI.rglob("*.py")):
        if path == UI / "kit" / "fmt.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if STRAY.search(line):
                found.append(f"{path.relative_to(UI)}:{number}: {line.strip()}")
    assert found == []


def test_one_day_format_and_one_moment_format() -> None:
    assert fmt.day(date(2026, 3, 7)) == "07 Mar 2026"
    moment = datetime(2026, 3, 7, 12, 30, 5, tzinfo=UTC)
    local = moment.astimezone()
    assert fmt.moment(moment) == f"{fmt.day(local.date())} {local:%H:%M:%S}"
    assert fmt.stored_moment("2026-03-07T12:30:05.000000Z") == fmt.moment(moment)
    assert fmt.stored_day("2026-03-07T12:30:05.000000Z") == fmt.day(local.date())
    assert fmt.stored_moment("not a time") == "not a time"
