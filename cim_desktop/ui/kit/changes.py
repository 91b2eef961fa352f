"""The one application signal that carries every change set, with who caused it.

Screens never call each other: a screen that changed something publishes here through the
operation helper, and every screen refreshes from what it receives (``Screen.kinds``).
Changes made outside the window (``cim`` while the application is open) are noticed by
``ExternalChanges`` and published with the initiator ``OUTSIDE``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from cim_desktop.domain.changes import ChangeSet

if TYPE_CHECKING:
    from cim_desktop.services.session import Session
    from cim_desktop.ui.kit.worker import DbWorker

OUTSIDE = "outside"  # the initiator of changes made by another process


class ChangeBus(QObject):
    # (ChangeSet, initiator: the QObject that started the work, or OUTSIDE)
    changed = Signal(object, object)

    def publish(self, changed: ChangeSet, initiator: object) -> None:
        if changed:
            self.changed.emit(changed, initiator)


_bus: ChangeBus | None = None


def bus() -> ChangeBus:
    global _bus
    if _bus is None:
        _bus = ChangeBus()
    return _bus


class ExternalChanges(QObject):
    """Notices commits made by other connections to the open vault.

    SQLite's ``data_version`` moves when another connection commits; it is read on the
    worker (the connection's thread) at each window activation and every few seconds.
    """

    POLL_MS = 3000

    def __init__(self, worker: DbWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker = worker
        self._session: Session | None = None
        self._seen: int | None = None
        self._asking = False
        self.timer = QTimer(self)
        self.timer.setInterval(self.POLL_MS)
        self.timer.timeout.connect(self._poll)

    def start(self, session: Session) -> None:
        self._session, self._seen, self._asking = session, None, False
        self.check()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self._session, self._seen = None, None

    def _poll(self) -> None:
        if not self._worker.busy:  # the timer never queues behind the user's own work
            self.check()

    def check(self) -> None:
        """Ask now (at start and at activation: even behind other work, so that the
        baseline is taken at unlock and a change made meanwhile is not missed)."""
        session = self._session
        if session is None or self._asking:
            return
        self._asking = True
        self._worker.run(
            session.db.data_version, lambda v: self._answer(session, v), self._lost, owner=self
        )

    def _lost(self, _exc: BaseException) -> None:
        # The vault locked or closed while asking: nothing to compare with any more.
        self._asking = False

    def _answer(self, asked: Session, version: object) -> None:
        self._asking = False
        if asked is not self._session or not isinstance(version, int):
            return
        before, self._seen = self._seen, version
        if before is not None and version != before:
            bus().publish(ChangeSet.everything(), OUTSIDE)
