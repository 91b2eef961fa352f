"""The one way a screen runs vault work: off the GUI thread, with one error path.

Modelled on the idea of Anki's ``CollectionOp`` (written here from scratch)::

    Operation(self, self.worker, lambda: review.sign_off(session, kind, ref, note),
              session=session)
        .success(self._signed)
        .user_errors(self.note_error.show_error)
        .run()

* the call runs on the single database worker; its callbacks run on the GUI thread, and
  not at all if the owner widget has been deleted;
* ``stale(key)``: a newer operation of the same owner and key makes an older one's result
  be dropped (a list reloaded twice shows only the second answer);
* user errors (``CimError``) go where the caller says (a field, a label) or else to a
  message box; anything else is a bug and goes to the crash dialog;
* ``progress(label)`` shows a progress dialog for long work, with Cancel when the work
  accepts a ``Progress`` and checks it;
* what the work changed (``services.changes.collect``) is published on the change bus with
  the owner as initiator, also when the work refused after committing an audited denial.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from cim_desktop.domain.changes import Outcome
from cim_desktop.errors import CimError
from cim_desktop.services.changes import FailedWithChanges, collect
from cim_desktop.ui.kit import crash, dialogs
from cim_desktop.ui.kit.changes import bus

if TYPE_CHECKING:
    from cim_desktop.services.session import Session
    from cim_desktop.ui.kit.worker import DbWorker


class Cancelled(CimError):
    def __init__(self) -> None:
        super().__init__("Cancelled; nothing after the last completed step was changed.")


class Progress(QObject):
    """Handed to long work: report how far it is, and stop when the user cancels."""

    moved = Signal(int, int, str)

    def __init__(self) -> None:
        super().__init__()
        self._cancel = threading.Event()

    def report(self, done: int, total: int, text: str = "") -> None:
        self.check()
        self.moved.emit(done, total, text)  # queued to the GUI thread

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()


_generations: dict[tuple[int, str], int] = {}


class Operation[T]:
    def __init__(
        self,
        owner: QWidget | None,  # None: no window waits for it (a logout before any window)
        worker: DbWorker,
        work: Callable[[], T] | Callable[[Progress], T],
        *,
        session: Session | None = None,
    ) -> None:
        self._owner = owner
        self._worker = worker
        self._work = work
        self._session = session
        self._on_success: Callable[[T], None] | None = None
        self._on_user_error: Callable[[str], None] | None = None
        self._on_error: Callable[[CimError], bool] | None = None
        self._on_done: Callable[[], None] | None = None
        self._stale_key: str | None = None
        self._progress_label: str | None = None
        self._cancellable = False
        self._initiator: object = owner
        self.progress: Progress | None = None
        self.dialog: QProgressDialog | None = None

    # -- configuration ------------------------------------------------------------------
    def success(self, fn: Callable[[T], None]) -> Self:
        self._on_success = fn
        return self

    def user_errors(self, show: Callable[[str], None]) -> Self:
        """Where a user error's message is shown (a field's error label, a status line)."""
        self._on_user_error = show
        return self

    def handle(self, fn: Callable[[CimError], bool]) -> Self:
        """A chance to handle a particular user error (return True if handled)."""
        self._on_error = fn
        return self

    def finally_(self, fn: Callable[[], None]) -> Self:
        """Runs after success or failure (not when the result is stale or the owner gone)."""
        self._on_done = fn
        return self

    def initiated_by(self, initiator: object) -> Self:
        """Who the published change set names as its cause (default: the owner)."""
        self._initiator = initiator
        return self

    def stale(self, key: str) -> Self:
        self._stale_key = key
        return self

    def with_progress(self, label: str, *, cancellable: bool = False) -> Self:
        """The work takes a ``Progress`` as its one argument and reports through it."""
        self._progress_label = label
        self._cancellable = cancellable
        # Made now so that a caller can follow ``progress.moved`` before the work starts.
        self.progress = Progress()
        return self

    # -- running ------------------------------------------------------------------------
    def run(self) -> None:
        generation: tuple[tuple[int, str], int] | None = None
        if self._stale_key is not None:
            slot = (id(self._owner), self._stale_key)
            _generations[slot] = _generations.get(slot, 0) + 1
            generation = (slot, _generations[slot])
        call: Callable[[], Any]
        if self.progress is not None:
            progress = self.progress
            self._show_progress(progress)
            work_p: Callable[[Progress], T] = self._work  # type: ignore[assignment]
            call = lambda: work_p(progress)  # noqa: E731
        else:
            call = self._work  # type: ignore[assignment]
        session = self._session
        self._worker.run(
            lambda: collect(session, call),
            lambda outcome: self._delivered(generation, outcome),
            lambda exc: self._failed(generation, exc),
            owner=self._owner,
        )

    def _current(self, generation: tuple[tuple[int, str], int] | None) -> bool:
        return generation is None or _generations.get(generation[0]) == generation[1]

    def _close_progress(self) -> None:
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None

    def _delivered(self, generation: tuple[tuple[int, str], int] | None, outcome: Any) -> None:
        self._close_progress()
        assert isinstance(outcome, Outcome)
        bus().publish(outcome.changes, self._initiator)
        if not self._current(generation):
            return
        try:
            if self._on_success is not None:
                self._on_success(outcome.value)
        finally:
            if self._on_done is not None:
                self._on_done()

    def _failed(self, generation: tuple[tuple[int, str], int] | None, exc: BaseException) -> None:
        self._close_progress()
        if isinstance(exc, FailedWithChanges):
            bus().publish(exc.changes, self._initiator)
            exc = exc.error
        if not self._current(generation):
            return
        try:
            if isinstance(exc, Cancelled):
                return
            if not isinstance(exc, CimError):
                crash.report(exc, self._owner)
            elif self._on_error is not None and self._on_error(exc):
                return
            elif self._on_user_error is not None:
                self._on_user_error(exc.message)
            else:
                dialogs.warning(self._owner, "Not done", exc.message)
        finally:
            if self._on_done is not None:
                self._on_done()

    def _show_progress(self, progress: Progress) -> None:
        dialog = QProgressDialog(
            self._progress_label or "", "Cancel" if self._cancellable else "", 0, 0, self._owner
        )
        dialog.setWindowTitle("Working")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(400)  # quick work finishes before any dialog flickers
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        if self._cancellable:
            dialog.canceled.connect(progress.cancel)
        else:
            dialog.setCancelButton(None)

        def moved(done: int, total: int, text: str) -> None:
            if self.dialog is None:
                return
            self.dialog.setMaximum(max(total, 0))
            self.dialog.setValue(done)
            if text:
                self.dialog.setLabelText(text)

        progress.moved.connect(moved)
        self.dialog = dialog
