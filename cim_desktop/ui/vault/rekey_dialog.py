"""Vault > Re-key: confirm, a second administrator's approval, then the re-keying on the
worker thread with a progress dialog that cannot be cancelled half-way (the service makes a
crash safe; a person pressing Cancel in the middle should not have to rely on that)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from cim_desktop.errors import CimError
from cim_desktop.services.vault import rekey
from cim_desktop.ui.kit import crash, dialogs
from cim_desktop.ui.kit.form_dialog import with_approval
from cim_desktop.ui.kit.worker import DbWorker

if TYPE_CHECKING:
    from cim_desktop.services.access.approval import Approval
    from cim_desktop.services.session import Session

QUESTION = (
    "Re-key the vault? The database is re-encrypted under a new key and every "
    "officer's key slot is re-issued. Do this after an officer has left: what they "
    "knew will no longer open the vault."
)


class _Progress(QObject):
    """Carries the service's progress reports from the worker thread to the GUI thread."""

    step = Signal(int, int, str)


class RekeyRun(QObject):
    """One re-keying from the menu; ``finished`` carries the result, or None if it stopped."""

    finished = Signal(object)

    def __init__(self, parent: QWidget, session: Session, worker: DbWorker) -> None:
        super().__init__(parent)
        self._parent = parent
        self._session = session
        self._worker = worker
        self._relay = _Progress(self)
        self.progress = QProgressDialog("Re-keying the vault…", "", 0, len(rekey.STEPS), parent)
        self.progress.setWindowTitle("Re-keying — cim-desktop")
        self.progress.setObjectName("rekeyProgress")
        self.progress.setCancelButton(None)  # no Cancel: stopping half-way helps no one
        self.progress.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress.setMinimumDuration(0)
        self.progress.setAutoClose(False)
        self.progress.setAutoReset(False)
        self.progress.reset()
        self._relay.step.connect(self._show_step)

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
            self._failed,
        )

    def _run(self, approval: Approval | None) -> None:
        session, relay = self._session, self._relay
        report: Callable[[int, int, str], None] = relay.step.emit
        self.progress.setValue(0)
        self.progress.show()
        self._worker.run(
            lambda: rekey.rekey_vault(session, approval, report),
            self._done,
            self._failed,
            owner=self,
        )

    def _show_step(self, step: int, total: int, text: str) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(step)
        self.progress.setLabelText(f"{text}…" if step < total else text)

    def _done(self, result: rekey.RekeyResult) -> None:
        self.progress.close()
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

    def _failed(self, exc: BaseException) -> None:
        self.progress.close()
        if isinstance(exc, CimError):
            dialogs.warning(self._parent, "Re-keying stopped", exc.message)
        else:
            crash.report(exc, self._parent)
        self.finished.emit(None)
