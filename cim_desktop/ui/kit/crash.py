"""What the user sees when something goes wrong.

A ``CimError`` is the user's or the environment's problem: its ``.message`` is shown as is.
Anything else is a bug: the user gets a reference and the log file's location, never the
exception text. The log is written by ``cim_desktop.crashlog``, shared with ``cim``: the
exception type and the stack (files, lines, functions), never the exception's message or any
variable, either of which may carry case content.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QApplication, QWidget

from cim_desktop import crashlog
from cim_desktop.errors import CimError
from cim_desktop.ui.kit import dialogs

_log_dir: Path | None = None


def configure(log_dir: Path) -> None:
    global _log_dir
    _log_dir = log_dir


def log_dir() -> Path:
    if _log_dir is not None:
        return _log_dir
    from cim_desktop.services.vault.paths import default_vault_dir

    return default_vault_dir() / "logs"


def install() -> None:
    """Route uncaught exceptions (including those raised in Qt slots) here."""
    sys.excepthook = _hook


def _hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    report(exc.with_traceback(tb))


def _active_window() -> QWidget | None:
    return QApplication.activeWindow() if QApplication.instance() is not None else None


def report(exc: BaseException, parent: QWidget | None = None) -> str | None:
    """Show the error; for a bug, write the log and return its reference."""
    parent = parent or _active_window()
    if isinstance(exc, CimError):
        dialogs.warning(parent, "Cannot continue", exc.message)
        return None
    reference, path = write_log(exc)
    where = (
        f"Details for support were written to:\n{path}"
        if path
        else ("The details could not be written to the log folder.")
    )
    dialogs.critical(
        parent,
        "Internal error",
        f"cim-desktop met an internal error and could not finish what it was doing.\n\n"
        f"Reference: {reference}",
        f"Nothing you saved before this point is lost. Quote the reference to your "
        f"administrator.\n\n{where}",
    )
    return reference


def write_log(exc: BaseException) -> tuple[str, Path | None]:
    return crashlog.write(exc, log_dir(), "cim-desktop")
