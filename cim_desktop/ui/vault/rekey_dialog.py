"""Vault > Re-key: confirm, a second administrator's approval, then the re-keying on the
worker thread through the operation helper, with a progress dialog that cannot be cancelled
half-way (the service makes a crash safe; a person pressing Cancel in the middle should not
have to rely on that)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from cim_desktop.errors import CimError
from cim_desktop.services.vault import rekey
from cim_desktop.ui.kit import dialogs
from cim_desktop.ui.kit.form_dialog import with_approval
from cim_desktop.ui.kit.operation import Operation, Progress
from cim_desktop.ui.kit.worker import DbWorker

if TYPE_CHECKING:
    from cim_desktop.services.access.approval import Approval
    from cim_desktop.services.session import Session

QUESTION = (
    "Re-key the vault? The database is re-encrypted under a new key and every "
    "officer's key slot is re-issued. Do this after an officer has left: what they "
    "knew will no longer open the vault."
)


class RekeyRun(QObject):
    """One re-keying from the menu; ``finished`` carries the result, or None if it stopped."""

    finished = Signal(object)

    def __init__(self, parent: QWidget, session: Session, worker: DbWorker) -> None:
        super().__init__(parent)
        self._parent = parent
        self._session = session
        self._worker = worker
        self.steps: list[tuple[int, int, str]] = []  # as shown, for the status line and tests
        self.operation: Operation[rekey.RekeyResult] | None = None

    def start(self) -> None:
        if not dialogs.question(self._parent, "Re-key the vault", QUESTION, yes="Re-key"):
            self.finished.emit(None)
            return
        with_approval(
            self._parent,
            self._session,
            self._worker,
            rekey.PURPOSE_REKEY,
            "Re-key the vault",
            self._run,
            self._refused,
        )

    def _run(self, approval: Approval | None) -> None:
        session = self._session

        def work(progress: Progress) -> rekey.RekeyResult:
            return rekey.rekey_vault(session, approval, progress.report)

        # No Cancel: the service can only stop safely between whole steps it does not
        # expose, and stopping half-way helps no one.
        self.operation = (
            Operation(self._parent, self._worker, work, session=session)
            .with_progress("Re-keying the vault…")
            .success(self._done)
            .handle(self._stopped)
        )
        assert self.operation.progress is not None
        self.operation.progress.moved.connect(self._step)
        self.operation.run()

    def _step(self, step: int, total: int, text: str) -> None:
        self.steps.append((step, total, text))

    def _done(self, result: rekey.RekeyResult) -> None:
        dialogs.information(
            self._parent,
            "Vault re-keyed",
            f"The vault was re-keyed in {result.seconds:.1f} s. {result.slots_issued} officer "
            f"slot(s) and the recovery slot hold the new key; {result.slots_disabled} "
            "suspended slot(s) stay disabled.",
            f"The copy taken first is {result.copy.name}, under the old key: anyone who knew "
            "that key can open it. Once the re-keyed vault is confirmed, move it to secure "
            "storage or destroy it.",
        )
        self.finished.emit(result)

    def _stopped(self, exc: CimError) -> bool:
        self._refused(exc)
        return True

    def _refused(self, exc: CimError) -> None:
        dialogs.warning(self._parent, "Re-keying stopped", exc.message)
        self.finished.emit(None)
