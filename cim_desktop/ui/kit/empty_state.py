"""What an empty list says: what it will hold and how to add the first item.

``EmptyState.attach(view, text)`` lays a centred note over the view's viewport while its
model has no rows, and takes it away as soon as a row arrives (it follows the model's reset,
insert and remove signals, so it is right whichever way a screen loads).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel


class EmptyState(QLabel):
    def __init__(self, view: QAbstractItemView, text: str) -> None:
        super().__init__(text, view.viewport())
        self.setObjectName("emptyState")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("QLabel#emptyState { color: #5b6573; padding: 24px; }")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._view = view
        view.viewport().installEventFilter(self)
        model = view.model()
        for signal in (
            model.modelReset,
            model.rowsInserted,
            model.rowsRemoved,
            model.layoutChanged,
        ):
            signal.connect(self.update_state)
        self.update_state()

    @classmethod
    def attach(cls, view: QAbstractItemView, text: str) -> EmptyState:
        return cls(view, text)

    @property
    def showing(self) -> bool:
        return not self.isHidden()

    def update_state(self, *_args: object) -> None:
        model = self._view.model()
        self.setVisible(model is not None and model.rowCount() == 0)
        self._fit()

    def _fit(self) -> None:
        self.setGeometry(self._view.viewport().rect())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._fit()
        return False
