"""What the main window shows while the vault is locked: no data, only a way back in."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from cim_desktop.ui.kit import fmt
from cim_desktop.ui.kit.widgets import heading, note
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.vault.login import LoginForm

if TYPE_CHECKING:
    from cim_desktop.security.device_secret import DeviceSecretStore


class Padlock(QWidget):
    """A drawn padlock: the fonts on a bare workstation may not have one."""

    def sizeHint(self) -> QSize:
        return QSize(48, 56)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = QColor("#1d3557")
        x = (self.width() - 40) / 2
        painter.setPen(QPen(colour, 5))
        painter.drawArc(QRectF(x + 8, 4, 24, 30), 0, 180 * 16)
        painter.drawLine(int(x + 8), 19, int(x + 8), 26)
        painter.drawLine(int(x + 32), 19, int(x + 32), 26)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(QRectF(x, 24, 40, 30), 5, 5)
        painter.setBrush(QColor("white"))
        painter.drawEllipse(QRectF(x + 16, 33, 8, 8))


class LockScreen(QWidget):
    def __init__(
        self,
        root: Path,
        worker: DbWorker,
        keyring: DeviceSecretStore | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("lockScreen")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.form = LoginForm(root, worker, keyring)
        self.reason = note("")
        symbol = Padlock()
        symbol.setFixedHeight(58)
        title = heading("The vault is locked")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reason.setAlignment(Qt.AlignmentFlag.AlignCenter)
        explain = note(
            "Its contents are hidden and the database is closed. Log in to "
            "continue; any officer with an account on this vault may log in."
        )
        explain.setAlignment(Qt.AlignmentFlag.AlignCenter)

        card = QFrame()
        card.setObjectName("card")
        card.setFixedWidth(500)
        column = QVBoxLayout(card)
        column.setContentsMargins(36, 28, 36, 30)
        column.setSpacing(10)
        column.addWidget(symbol)
        column.addWidget(title)
        column.addWidget(self.reason)
        column.addWidget(explain)
        column.addSpacing(10)
        column.addWidget(self.form)

        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

    def prepare(self, username: str, why: str, when: datetime, unit: str = "") -> None:
        self.form.reset()
        self.form.set_unit(unit)
        self.form.show_recovery_route(False)
        self.form.set_username(username)
        self.reason.setText(f"Locked at {fmt.clock(when)} {why}.")
