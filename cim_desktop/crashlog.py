"""The one crash log, written by both front ends (the GUI's crash dialog and ``cim``).

A bug's log says what went wrong where, never what it was about: the exception's type and,
for each frame, the file, line number and function. Never the exception's message, its
arguments, notes or any variable: any of them may hold a source's identity or case content
(a message formatted with a name, a value in a local). Causes and contexts of the exception
are listed the same way. The user is shown only the reference and where the log is.

No Qt and no SQL here: both front ends import it.
"""

from __future__ import annotations

import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import platformdirs

from cim_desktop import __version__
from cim_desktop.services.vault.paths import APP_NAME

MAX_CHAIN = 8  # causes and contexts listed; a longer chain is cut (and says so)


def new_reference(now: datetime) -> str:
    return f"CIM-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3).upper()}"


def folder_for(vault_dir: Path) -> Path:
    """The vault's own ``logs`` folder, or the platform's log folder when there is no vault."""
    if vault_dir.is_dir():
        return vault_dir / "logs"
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def _type_name(exc: BaseException) -> str:
    kind = type(exc)
    return f"{kind.__module__}.{kind.__qualname__}"


def _frames(tb: TracebackType | None) -> list[str]:
    # Read straight from the code objects: no source lines, no locals.
    lines = []
    while tb is not None:
        code = tb.tb_frame.f_code
        lines.append(f"  {code.co_filename}:{tb.tb_lineno} in {code.co_name}")
        tb = tb.tb_next
    return lines


def describe(exc: BaseException) -> list[str]:
    """The log's account of ``exc``: type names and frames only, for it and its causes."""
    lines = [
        f"exception: {_type_name(exc)}",
        "stack (most recent call last):",
        *_frames(exc.__traceback__),
    ]
    seen = {id(exc)}
    current = exc
    for _ in range(MAX_CHAIN):
        if current.__cause__ is not None:
            link, how = current.__cause__, "caused by"
        elif current.__context__ is not None and not current.__suppress_context__:
            link, how = current.__context__, "raised while handling"
        else:
            return lines
        if id(link) in seen:
            return lines
        seen.add(id(link))
        lines += [f"{how}: {_type_name(link)}", *_frames(link.__traceback__)]
        current = link
    lines.append("(further causes left out)")
    return lines


def write(exc: BaseException, folder: Path, program: str) -> tuple[str, Path | None]:
    """Write one log file for ``exc`` in ``folder``; return (reference, path or None when
    the log could not be written). The folder is private to the user, the file too."""
    now = datetime.now(UTC)
    reference = new_reference(now)
    text = (
        "\n".join(
            [
                f"reference: {reference}",
                f"time: {now.isoformat()}",
                f"program: {program} {__version__}",
                f"python: {sys.version.split()[0]}",
                *describe(exc),
            ]
        )
        + "\n"
    )
    path = folder / f"crash-{reference}.log"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, text.encode("utf-8", "replace"))
        finally:
            os.close(fd)
    except OSError:
        return reference, None
    return reference, path
