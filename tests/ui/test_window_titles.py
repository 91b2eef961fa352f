"""Window titles name the application once.

On X11 and Windows, Qt appends the application's display name to every window title that
does not already end with it, so a title that starts with "cim-desktop — " read
"cim-desktop — Log in — cim-desktop". Titles end with the name, or leave it to Qt.
"""

from __future__ import annotations

import re
from pathlib import Path

import cim_desktop.ui

UI = Path(cim_desktop.ui.__file__).parent
LEADING_NAME = re.compile(r"""setWindowTitle\(\s*f?["']cim-desktop\b""")


def test_no_window_title_starts_with_the_application_name() -> None:
    found = [
        f"{path.relative_to(UI)}:{number}"
        for path in sorted(UI.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if LEADING_NAME.search(line)
    ]
    assert found == []
