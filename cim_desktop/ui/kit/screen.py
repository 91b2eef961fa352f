"""The base of every screen: heading, note, a denied state, loading, and refreshing.

A screen says what it shows (``title``, ``intro``), which kinds of change make it reload
(``kinds``), how to read its data on the worker (``fetch``) and how to show it on the GUI
thread (``show``). The base runs the read through the operation helper, drops stale
answers, shows a refusal in place of the content, reloads when a change set it cares about
is published (at once if visible, else when next shown), and empties itself on lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLineEdit, QStackedWidget, QVBoxLayout, QWidget

from cim_desktop.domain.changes import ChangeSet, Kind
from cim_desktop.errors import CimError, PermissionDenied
from cim_desktop.ui.kit.changes import bus
from cim_desktop.ui.kit.operation import Operation
from cim_desktop.ui.kit.widgets import heading, note

if TYPE_CHECKING:
    from collections.abc import Callable

    from cim_desktop.services.session import Session
    from cim_desktop.ui.kit.worker import DbWorker


class LoadTag:
    """Names a screen's own loading as the initiator of the audit rows it writes."""

    def __init__(self, screen: QWidget) -> None:
        self.screen = screen


class Screen(QWidget):
    title = ""
    intro = ""
    help_topic = ""
    kinds: frozenset[Kind] = frozenset()

    def __init__(self, worker: DbWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.session: Session | None = None
        self._stale = False
        self.loads = 0  # completed loads, for tests and the status bar
        # A load writes audit rows (an audited view, a denial); the change set that says so
        # names this tag, so that a screen's own reading never makes it read again.
        self.load_tag = LoadTag(self)
        self.denied = note("")
        self.denied.setObjectName("denied")
        self.denied.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body = QStackedWidget()
        self.body.addWidget(QWidget())
        self.body.addWidget(self.denied)
        self.heading = heading(self.title)
        self.intro_label = note(self.intro)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 12)
        layout.setSpacing(6)
        layout.addWidget(self.heading)
        layout.addWidget(self.intro_label)
        self.intro_label.setVisible(bool(self.intro))
        layout.addSpacing(6)
        layout.addWidget(self.body, 1)
        bus().changed.connect(self._changes_published)

    # -- for subclasses -----------------------------------------------------------------
    def set_content(self, content: QWidget) -> None:
        old = self.body.widget(0)
        if old is not None:
            self.body.removeWidget(old)
            old.deleteLater()
        self.body.insertWidget(0, content)
        self.body.setCurrentIndex(0)

    def fetch(self, session: Session) -> Any:
        """Read what the screen shows. Runs on the worker; may raise PermissionDenied."""
        return None

    def show_data(self, data: Any) -> None:
        """Show what ``fetch`` returned. Runs on the GUI thread."""

    def clear(self) -> None:
        """Drop everything shown (the vault is locking)."""

    def search_field(self) -> QLineEdit | None:
        """The field Ctrl+F focuses, if the screen has one."""
        return None

    def operation[T](self, work: Callable[[], T]) -> Operation[T]:
        """An operation on this screen's worker and session (see ``ui.kit.operation``)."""
        return Operation(self, self.worker, work, session=self.session)

    # -- life cycle ---------------------------------------------------------------------
    def open(self, session: Session) -> None:
        self.session = session
        self.refresh()

    def close_view(self) -> None:
        self.session = None
        self._stale = False
        self.denied.clear()
        self.body.setCurrentIndex(0)
        self.clear()

    def refresh(self) -> None:
        session = self.session
        if session is None:
            return
        self._stale = False
        (
            self.operation(lambda: self.fetch(session))
            .stale("load")
            .initiated_by(self.load_tag)
            .success(lambda data: self._loaded(session, data))
            .handle(lambda exc: self._refused(session, exc))
            .run()
        )

    def show_denied(self, message: str) -> None:
        self.denied.setText(message)
        self.body.setCurrentIndex(1)

    # -- internals ----------------------------------------------------------------------
    def _loaded(self, session: Session, data: Any) -> None:
        if session is not self.session:
            return  # answered after a lock or a new login
        self.body.setCurrentIndex(0)
        self.show_data(data)
        self.loads += 1

    def _refused(self, session: Session, exc: CimError) -> bool:
        if session is not self.session:
            return True
        if isinstance(exc, PermissionDenied):
            self.clear()
            self.show_denied(exc.message)
            return True
        return False

    def _changes_published(self, changed: ChangeSet, initiator: object) -> None:
        if initiator is self.load_tag:
            return
        if self.session is None or not changed.touches(self.kinds):
            return
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()
