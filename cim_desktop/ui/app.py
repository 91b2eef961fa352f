"""``cim-desktop``: start the application.

Imports are kept lean: the first window needs Qt and little else; cryptography, the keyring
and SQLCipher load on the worker thread while the officer types.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Fallback start mark when the process start time cannot be read.
_IMPORTED_AT = time.perf_counter()


def process_age_ms() -> float:
    """Milliseconds since this process started (the OS's record where it has one)."""
    try:
        with Path("/proc/self/stat").open("rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        # Field 22 of stat (the 20th after the command name): start time in clock ticks
        # since boot, on the same clock as CLOCK_BOOTTIME.
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return (time.clock_gettime(time.CLOCK_BOOTTIME) - started) * 1000.0
    except (OSError, IndexError, ValueError, AttributeError):
        return (time.perf_counter() - _IMPORTED_AT) * 1000.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from cim_desktop.services.vault.paths import default_vault_dir

    parser = argparse.ArgumentParser(
        prog="cim-desktop",
        description="Offline, encrypted records for a Dedicated Source Unit.",
    )
    parser.add_argument(
        "--vault",
        metavar="DIR",
        type=Path,
        default=None,
        help="the vault folder (default: $CIM_HOME or the user data folder)",
    )
    parser.add_argument(
        "--idle-minutes",
        metavar="N",
        type=float,
        default=None,
        help="lock after N minutes without input (default 5)",
    )
    parser.add_argument(
        "--quit-after-ms",
        metavar="N",
        type=int,
        default=None,
        help="quit N ms after the first window is shown (smoke tests)",
    )
    parser.add_argument(
        "--report-startup",
        action="store_true",
        help="when the first window is shown, print startup_ms=<ms> and "
        "first_window=<class name> on two lines, then quit",
    )
    args = parser.parse_args(argv)
    if args.vault is None:
        args.vault = default_vault_dir()
    if args.idle_minutes is not None and args.idle_minutes <= 0:
        parser.error("--idle-minutes must be above zero")
    return args


def main(argv: list[str] | None = None) -> int:
    import multiprocessing

    # A frozen (PyInstaller) build must hand its chain-walk worker processes to
    # multiprocessing before anything else runs.
    multiprocessing.freeze_support()
    args = parse_args(argv)

    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from cim_desktop.ui.kit import crash, style, wheel_guard
    from cim_desktop.ui.shell.flow import AppFlow

    class FirstPaint(QObject):
        """Calls back once, when the first window has actually painted."""

        def __init__(self, target: QObject, callback: Callable[[], None]) -> None:
            super().__init__(target)
            self._callback = callback
            self._done = False
            target.installEventFilter(self)

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if not self._done and event.type() == QEvent.Type.Paint:
                self._done = True
                QTimer.singleShot(0, self._callback)
            return False

    app = QApplication([sys.argv[0]])
    app.setApplicationName("cim-desktop")
    app.setApplicationDisplayName("cim-desktop")
    app.setDesktopFileName("cim-desktop")
    style.apply(app)
    wheel_guard.install(app)
    crash.configure(args.vault / "logs")
    crash.install()

    idle_ms = None if args.idle_minutes is None else int(args.idle_minutes * 60_000)
    flow = AppFlow(args.vault, idle_ms=idle_ms)
    flow.quit_requested.connect(app.quit)

    def shown() -> None:
        if args.report_startup:
            # The window's class lets a smoke test tell the login dialog from the wizard.
            sys.stdout.write(
                f"startup_ms={process_age_ms():.1f}\nfirst_window={type(window).__name__}\n"
            )
            sys.stdout.flush()
            app.quit()
            return
        if args.quit_after_ms is not None:
            QTimer.singleShot(args.quit_after_ms, app.quit)
        flow.warm_up()

    window = flow.start()
    FirstPaint(window, shown)
    try:
        return app.exec()
    finally:
        flow.shutdown()
