"""The built-in guide: one short page per screen, the shortcuts, and the About text.

Pages are Markdown files in ``ui/resources/help`` (shipped by pyinstaller.spec), named by the
screen's help topic. They hold only general instructions, never case data.
"""

from __future__ import annotations

import re
from pathlib import Path

import cim_desktop

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
HELP = RESOURCES / "help"
_TOPIC = re.compile(r"[a-z0-9-]+")
MISSING = "# No guide yet\n\nThere is no guide page for this screen yet."


def guide(topic: str) -> str:
    """The guide page for ``topic`` (a screen's help topic), or a plain note if none."""
    path = HELP / f"{topic}.md"
    if not _TOPIC.fullmatch(topic) or not path.is_file():
        return MISSING
    return path.read_text(encoding="utf-8")


def version() -> str:
    return cim_desktop.__version__


def build() -> str:
    """The build stamp written by the packaged build (commit and date), else 'development'."""
    path = RESOURCES / "build.txt"
    if path.is_file():
        stamp = path.read_text(encoding="utf-8").strip()
        if stamp:
            return stamp
    return "development"


def licences() -> str:
    return (RESOURCES / "LICENSES.md").read_text(encoding="utf-8")


def about() -> str:
    return (
        f"# cim-desktop {version()}\n\n"
        f"Build: {build()}\n\n"
        "Offline, encrypted records for a Dedicated Source Unit.\n\n" + licences()
    )
