"""The policy screen's pieces: one editor per kind of setting, and the row around it.

Every editor has the same small interface: ``value()`` gives what the officer entered
(validated later by ``domain.policy``), ``set_value`` fills it without counting as an edit,
``edited`` fires on a real edit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.domain.policy.settings import Setting, display
from cim_desktop.ui.kit import fmt
from cim_desktop.ui.kit.widgets import FieldError, note

if TYPE_CHECKING:
    from cim_desktop.services.policy.settings import SettingState

INT_MAX = 2**31 - 1


class Editor(QWidget):
    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 0, 0, 0)
        # Set while the screen fills the editor: changes then are not the officer's edits.
        # (Blocking the child widgets' signals instead would also block the list's model,
        # and its view would never show the entries.)
        self._filling = False

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        self._filling = True
        try:
            self._show(value)
        finally:
            self._filling = False

    def _show(self, value: Any) -> None:
        raise NotImplementedError

    def _changed(self, *_args: object) -> None:
        if not self._filling:
            self.edited.emit()

    def set_ranks(self, ranks: tuple[str, ...]) -> None:
        """Only rank pickers care which ranks exist."""

    def set_editable(self, editable: bool) -> None:
        for child in self.findChildren(QWidget):
            child.setEnabled(editable)


class NumberEditor(Editor):
    def __init__(self, setting: Setting, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spin = QSpinBox()
        self.spin.setRange(
            setting.minimum if setting.minimum is not None else 0,
            setting.maximum if setting.maximum is not None else INT_MAX,
        )
        self.spin.setGroupSeparatorShown(True)
        self.spin.setAccelerated(True)
        self.spin.setMinimumWidth(130)
        self.spin.setToolTip(f"From {self.spin.minimum():,} to {self.spin.maximum():,}")
        self.spin.valueChanged.connect(self._changed)
        self._row.addWidget(self.spin)
        self._row.addStretch(1)

    def value(self) -> int:
        return self.spin.value()

    def _show(self, value: Any) -> None:
        self.spin.setValue(int(value))


class FlagEditor(Editor):
    def __init__(self, setting: Setting, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.box = QCheckBox()
        self.box.setAccessibleName(setting.label)
        self.box.toggled.connect(self._toggled)
        self._row.addWidget(self.box)
        self._row.addStretch(1)

    def _toggled(self, on: bool) -> None:
        self.box.setText("Yes" if on else "No")
        self._changed()

    def value(self) -> bool:
        return self.box.isChecked()

    def _show(self, value: Any) -> None:
        self.box.setChecked(bool(value))
        self.box.setText("Yes" if value else "No")


class RankEditor(Editor):
    """A rank from the current list; a rank since removed from the list stays the value (and
    is refused by validation) until another is chosen."""

    def __init__(self, setting: Setting, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setMinimumWidth(220)
        self.combo.setPlaceholderText("Choose a rank")
        self.combo.currentIndexChanged.connect(self._chosen)
        self._value = str(setting.default)
        self._row.addWidget(self.combo)
        self._row.addStretch(1)

    def _chosen(self, index: int) -> None:
        if self._filling:
            return
        if index >= 0:
            self._value = self.combo.itemText(index)
        self.edited.emit()

    def value(self) -> str:
        return self._value

    def set_ranks(self, ranks: tuple[str, ...]) -> None:
        self._filling = True
        try:
            self.combo.clear()
            self.combo.addItems(list(ranks))
            self.combo.setCurrentIndex(ranks.index(self._value) if self._value in ranks else -1)
        finally:
            self._filling = False

    def _show(self, value: Any) -> None:
        self._value = str(value)
        self.combo.setCurrentIndex(self.combo.findText(self._value))


class ListEditor(Editor):
    """An ordered list of short entries (the ranks, lowest first): edit in place, add,
    remove, move up and down."""

    def __init__(self, setting: Setting, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setAccessibleName(setting.label)
        self.list.setMinimumHeight(120)
        self.list.setMaximumHeight(190)
        self.list.itemChanged.connect(self._changed)
        self.add_button = QPushButton("Add")
        self.remove_button = QPushButton("Remove")
        self.up_button = QPushButton("Up")
        self.down_button = QPushButton("Down")
        self.add_button.clicked.connect(self.add_entry)
        self.remove_button.clicked.connect(self.remove_current)
        self.up_button.clicked.connect(lambda: self.move_current(-1))
        self.down_button.clicked.connect(lambda: self.move_current(1))
        buttons = QVBoxLayout()
        buttons.setSpacing(4)
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self._row.addWidget(self.list, 1)
        self._row.addLayout(buttons)

    def set_editable(self, editable: bool) -> None:
        # Still scrollable when read-only: only the editing goes.
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            button.setVisible(editable)
        self.list.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
            if editable
            else QAbstractItemView.EditTrigger.NoEditTriggers
        )

    def value(self) -> tuple[str, ...]:
        items = (self.list.item(i) for i in range(self.list.count()))
        return tuple(item.text() for item in items if item is not None)

    def _show(self, value: Any) -> None:
        self.list.clear()
        for text in value:
            self._append(str(text))

    def _append(self, text: str) -> QListWidgetItem:
        item = QListWidgetItem(text)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        self.list.addItem(item)
        return item

    def add_entry(self, text: str = "New rank") -> None:
        item = self._append(text)
        self.list.setCurrentItem(item)
        if self.isVisible():
            self.list.editItem(item)
        self.edited.emit()

    def remove_current(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.list.takeItem(row)
            self.edited.emit()

    def move_current(self, step: int) -> None:
        row = self.list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.list.count():
            return
        item = self.list.takeItem(row)
        self.list.insertItem(target, item)
        self.list.setCurrentRow(target)
        self.edited.emit()


class TextEditor(Editor):
    def __init__(self, setting: Setting, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line = QLineEdit()
        self.line.setAccessibleName(setting.label)
        self.line.setMinimumWidth(220)
        self.line.setMaxLength(120)
        self.line.textEdited.connect(self._changed)
        self._row.addWidget(self.line)
        self._row.addStretch(1)

    def value(self) -> str:
        return self.line.text()

    def _show(self, value: Any) -> None:
        self.line.setText(str(value))


def editor_for(setting: Setting) -> Editor:
    if setting.kind is bool:
        return FlagEditor(setting)
    if setting.kind is int:
        return NumberEditor(setting)
    if setting.kind is tuple:
        return ListEditor(setting)
    if setting.is_rank:
        return RankEditor(setting)
    return TextEditor(setting)


class SettingRow(QWidget):
    """One setting: label and help on the left; editor, inline error and history on the
    right; a button to restore the shipped default."""

    edited = Signal(str)

    def __init__(self, setting: Setting, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setting = setting
        self.label = QLabel(setting.label)
        self.label.setObjectName("settingLabel")
        self.label.setStyleSheet("font-weight: bold;")
        self.help = note(setting.help)
        self.editor: Editor = editor_for(setting)
        self.label.setBuddy(self.editor)
        self.error = FieldError()
        self.history = QLabel()
        self.history.setObjectName("note")
        # Wrapped, so a long message does not widen the column and push the editor aside
        # (no form layout here to squash the field above it).
        self.error.setWordWrap(True)
        self.history.setWordWrap(True)
        self.restore_button = QPushButton("Restore default")
        self.restore_button.setObjectName("link")
        self.restore_button.setToolTip(f"Shipped default: {display(setting, setting.default)}")
        self.restore_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.restore_button.clicked.connect(self.restore_default)
        policy_keeps = self.restore_button.sizePolicy()
        policy_keeps.setRetainSizeWhenHidden(True)  # rows stay aligned either way
        self.restore_button.setSizePolicy(policy_keeps)
        self.editor.edited.connect(lambda: self.edited.emit(setting.key))

        words = QVBoxLayout()
        words.setSpacing(2)
        words.addWidget(self.label)
        words.addWidget(self.help)
        words.addStretch(1)
        field = QVBoxLayout()
        field.setSpacing(3)
        field.addWidget(self.editor)
        field.addWidget(self.error)
        field.addWidget(self.history)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 6, 0, 6)
        row.setSpacing(16)
        row.addLayout(words, 5)
        row.addLayout(field, 5)
        row.addWidget(self.restore_button, 0, Qt.AlignmentFlag.AlignTop)

    def restore_default(self) -> None:
        self.editor.set_value(self.setting.default)
        self.edited.emit(self.setting.key)

    def show_state(self, state: SettingState) -> None:
        self.editor.set_value(state.value)
        if not state.changed_at:
            self.history.setText("Shipped default")
            return
        when = fmt.stored_moment(state.changed_at)
        what = "Default restored" if state.is_default else "Changed"
        by = (
            f"; approved by {state.approved_by}"
            if not state.bootstrap
            else "; no second administrator then"
        )
        self.history.setText(f"{what} {when} by {state.changed_by}{by}")
