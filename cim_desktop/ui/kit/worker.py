"""The one background thread that runs slow vault work and hands results back by signal.

Key derivation (Argon2id releases the GIL), chain verification and backups run here so the
window keeps painting. Jobs run one at a time in the order given, which is also what keeps
the session's single database connection from being used by two threads at once: widgets
read the database on the GUI thread only while ``busy`` is false.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QThread, Signal

from cim_desktop.ui.kit import crash

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


@dataclass
class _Job:
    fn: Callable[[], Any]
    on_done: Done | None
    on_error: Failed | None
    owner: QObject | None
    result: Any = None
    error: BaseException | None = field(default=None, repr=False)


class _Thread(QThread):
    job_finished = Signal(object)

    def __init__(self, jobs: queue.Queue[_Job | None]) -> None:
        super().__init__()
        self._jobs = jobs

    def run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                try:
                    job.result = job.fn()
                except Exception as exc:  # handed to the GUI thread, never lost
                    job.error = exc
                self.job_finished.emit(job)
            finally:
                self._jobs.task_done()


class DbWorker(QObject):
    """Run callables on one background thread; callbacks run on the GUI thread."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._pending = 0
        self._stopped = False
        self._thread = _Thread(self._jobs)
        self._thread.job_finished.connect(self._deliver)
        self._thread.start()

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def run(
        self,
        fn: Callable[[], Any],
        on_done: Done | None = None,
        on_error: Failed | None = None,
        owner: QObject | None = None,
    ) -> None:
        """Queue ``fn``. ``on_done(result)`` or ``on_error(exc)`` follow on the GUI thread,
        unless ``owner`` has been deleted by then. Errors without ``on_error`` reach the
        crash handler (a ``CimError`` shows its message)."""
        if self._stopped:
            raise RuntimeError("the worker has been stopped")
        self._pending += 1
        if self._pending == 1:
            self.busy_changed.emit(True)
        self._jobs.put(_Job(fn, on_done, on_error, owner))

    def drain(self) -> None:
        """Block until every queued job has run (their callbacks are not delivered here)."""
        self._jobs.join()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._jobs.put(None)
        self._thread.wait()

    def _deliver(self, job: _Job) -> None:
        self._pending -= 1
        try:
            if job.owner is not None and not shiboken6.isValid(job.owner):
                return
            if job.error is not None:
                if job.on_error is not None:
                    job.on_error(job.error)
                else:
                    crash.report(job.error)
            elif job.on_done is not None:
                job.on_done(job.result)
        finally:
            if self._pending == 0:
                self.busy_changed.emit(False)
