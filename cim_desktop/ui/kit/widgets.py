"""Small building blocks shared by the screens: marking banner, headings, inline errors."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLayout,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.ui.kit import fmt

MARKING = "OFFICIAL-SENSITIVE"


class MarkingBanner(QLabel):
    """The protective marking every window carries, top of the window."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(MARKING, parent)
        self.setObjectName("marking")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAccessibleName(f"Protective marking: {MARKING}")


def heading(text: str, parent: QWidget | None = None) -> QLabel:
    label = QLabel(text, parent)
    label.setObjectName("heading")
    return label


def note(text: str, parent: QWidget | None = None) -> QLabel:
    label = QLabel(text, parent)
    label.setObjectName("note")
    label.setWordWrap(True)
    return label


class FieldError(QLabel):
    """An inline message under a field; takes no room while empty.

    One line, unwrapped: a word-wrapped label inside a form row is given too little height
    by the form layout, and the field above it is squashed.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fieldError")
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_error(self, text: str) -> None:
        self.setText(text)
        self.setVisible(bool(text))

    def clear_error(self) -> None:
        self.show_error("")


def form_field(widget: QWidget, error: FieldError, hint: str = "") -> QWidget:
    """A form field with its hint and inline error stacked beneath it."""
    box = QWidget()
    column = QVBoxLayout(box)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(3)
    column.addWidget(widget)
    if hint:
        hint_label = QLabel(hint)  # unwrapped, like FieldError
        hint_label.setObjectName("note")
        column.addWidget(hint_label)
    column.addWidget(error)
    return box


def page(*widgets: QWidget) -> QWidget:
    """A column of widgets, top-aligned."""
    holder = QWidget()
    column = QVBoxLayout(holder)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(12)
    for widget in widgets:
        column.addWidget(widget)
    column.addStretch(1)
    return holder


def mono_font(point_size: int = 0) -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setStyleHint(QFont.StyleHint.Monospace)
    if point_size:
        font.setPointSize(point_size)
    return font


def local_time(moment: datetime, with_date: bool = True) -> str:
    """Kept for screens not yet moved to ``ui.kit.fmt``, which does the formatting."""
    return fmt.moment(moment) if with_date else fmt.clock(moment)


def record_table(model: QAbstractItemModel) -> QTableView:
    """A read-only table that selects one whole row at a time, as every list here does."""
    table = QTableView()
    table.setModel(model)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    header.setStretchLastSection(True)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return table


def marked_frame(dialog: QWidget, body: QLayout, width: int) -> None:
    """Lay a dialog out under the protective marking at a fixed width.

    The height follows the content, so word-wrapped messages that appear later grow the
    dialog instead of squashing its fields.
    """
    content = QWidget()
    content.setLayout(body)
    content.setFixedWidth(width)
    outer = QVBoxLayout(dialog)
    outer.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.setSpacing(0)
    outer.addWidget(MarkingBanner())
    outer.addWidget(content)
