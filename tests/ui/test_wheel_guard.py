"""Wheel-safe inputs: scrolling over a policy spin box must not change the setting."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QSpinBox
from pytestqt.qtbot import QtBot

from cim_desktop.services.vault.lifecycle import NewVault
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.policy.editors import NumberEditor
from cim_desktop.ui.policy.screen import PolicyScreen
from tests.ui.conftest import wait_idle


def _wheel_down(widget: QSpinBox) -> None:
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(
        centre,
        QPointF(widget.mapToGlobal(centre)),
        QPoint(),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_wheel_changes_a_spin_box_only_while_it_has_focus(
    qtbot: QtBot, worker: DbWorker, new_vault: NewVault
) -> None:
    screen = PolicyScreen(worker)
    qtbot.addWidget(screen)
    screen.resize(1000, 420)  # short enough for the settings to scroll
    screen.show()
    screen.open(new_vault.session)
    wait_idle(qtbot, worker)
    editor = screen.rows["idle_lock_minutes"].editor
    assert isinstance(editor, NumberEditor)
    spin = editor.spin
    assert spin.value() == 5
    assert spin.focusPolicy() == Qt.FocusPolicy.StrongFocus  # the wheel gives no focus
    bar = screen.scroll_area.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(0)
    screen.save_button.setFocus()

    _wheel_down(spin)
    assert spin.value() == 5
    assert screen.unsaved_changes() == {}
    assert bar.value() > 0  # the page scrolled instead

    screen.activateWindow()
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    _wheel_down(spin)
    assert spin.value() == 4
