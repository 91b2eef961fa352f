"""Wheel-safe inputs: a value widget reacts to the mouse wheel only while it has focus.

Without this, scrolling a long form with the wheel changes whatever spin box, combo box or
slider passes under the pointer (the idle lock went from 5 to 4 minutes that way). One
application-wide event filter covers every screen and dialog, present and future:

- spin boxes (and date/time edits), combo boxes and sliders lose Qt's ``WheelFocus`` (the
  wheel would otherwise give them focus first and change them on the next notch);
- a wheel event over one that has no focus is handed to the enclosing scroll area, so the
  page scrolls as the user meant.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QScrollBar,
    QWidget,
)

_GUARDED = (QAbstractSpinBox, QComboBox, QAbstractSlider)


def _guarded(obj: QObject) -> bool:
    # Scroll bars are sliders whose whole purpose is the wheel.
    return isinstance(obj, _GUARDED) and not isinstance(obj, QScrollBar)


class WheelGuard(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Polish and _guarded(watched):
            widget: QWidget = watched  # type: ignore[assignment]
            if widget.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            return False
        if kind != QEvent.Type.Wheel or not _guarded(watched):
            return False
        widget = watched  # type: ignore[assignment]
        if widget.hasFocus():
            return False
        area = _scroll_area(widget)
        if area is not None:
            QCoreApplication.sendEvent(area.viewport(), event.clone())
        return True  # consumed: the unfocused input never sees it


def _scroll_area(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None:
        # A combo box's own popup list is a scroll area too, but never an ancestor here.
        if isinstance(parent, QAbstractScrollArea):
            return parent
        parent = parent.parentWidget()
    return None


_guard: WheelGuard | None = None


def install(app: QApplication) -> WheelGuard:
    """Install the guard once on ``app`` (again is harmless)."""
    global _guard
    if _guard is None:
        _guard = WheelGuard(app)
        app.installEventFilter(_guard)
    return _guard


def uninstall(app: QApplication) -> None:
    """Remove the guard (tests show what happens without it)."""
    global _guard
    if _guard is not None:
        app.removeEventFilter(_guard)
        _guard.deleteLater()
        _guard = None
