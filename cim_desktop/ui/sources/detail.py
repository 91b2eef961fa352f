"""The Sources screen's detail panel: one source's facts, its team, the ways in the officer
has, and (only after a reason is given) the sealed identity, which cannot be selected or
copied and is cleared with the panel."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from cim_desktop.domain.sources.model import IDENTITY_FIELDS
from cim_desktop.ui.kit.widgets import FieldError
from cim_desktop.ui.sources.model import SourceDetail, status_label, team_text


class DetailPanel(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.setMinimumWidth(340)
        self.title = QLabel()
        self.title.setObjectName("subheading")
        self.facts = QLabel()
        self.facts.setWordWrap(True)
        self.team_heading = QLabel("Current team")
        self.team_heading.setStyleSheet("font-weight: bold;")
        self.team_label = QLabel()
        self.team_label.setWordWrap(True)
        self.assign_button = QPushButton("Assign to team…")
        self.identity_button = QPushButton("Show identity…")
        self.glass_button = QPushButton("Break glass…")
        self.error = FieldError()
        self.error.setWordWrap(True)
        self.identity = QLabel()
        self.identity.setObjectName("identityPanel")
        self.identity.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.identity.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self.identity.setWordWrap(True)
        self.identity.setStyleSheet(
            "QLabel#identityPanel { background: #fff4d6; border: 1px "
            "solid #c98a00; padding: 10px; color: #3a2c00; }"
        )
        self.identity.hide()
        buttons = QHBoxLayout()
        for button in (self.assign_button, self.identity_button, self.glass_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(16, 14, 16, 14)
        column.setSpacing(8)
        for widget in (self.title, self.facts, self.team_heading, self.team_label):
            column.addWidget(widget)
        column.addLayout(buttons)
        column.addWidget(self.error)
        column.addWidget(self.identity)
        column.addStretch(1)
        self.hide()

    def show_detail(self, detail: SourceDetail) -> None:
        self.error.clear_error()
        self.title.setText(detail.urn)
        content = (
            detail.pseudonym
            if detail.pseudonym is not None
            else "not open to you (outside your caseload)"
        )
        facts = f"Status: {status_label(detail.status)}\nPseudonym: {content}"
        if detail.grant_expires:
            facts += "\nOpen by break-glass: recorded, and reviewed by a controller."
        self.facts.setText(facts)
        self.team_heading.show()
        self.team_label.setText(team_text(detail.team))
        self.team_label.show()
        self.assign_button.setVisible(detail.can_manage_team)
        self.identity_button.setVisible(detail.can_view_identity)
        self.glass_button.setVisible(detail.can_break_glass)
        self.show()

    def show_refusal(self, urn: str, message: str, may_break_glass: bool) -> None:
        self.title.setText(urn)
        self.facts.setText("")
        for widget in (self.team_heading, self.team_label, self.assign_button):
            widget.hide()
        self.identity_button.hide()
        self.glass_button.setVisible(may_break_glass)
        self.error.show_error(message)
        self.show()

    def show_identity(self, particulars: dict[str, str]) -> None:
        if not particulars:
            text = "No identity particulars are recorded for this source."
        else:
            text = "\n".join(
                f"{label}: {particulars[key]}"
                for key, label in IDENTITY_FIELDS.items()
                if key in particulars
            )
        self.identity.setText("SEALED IDENTITY (cleared when you leave this source)\n\n" + text)
        self.identity.show()

    def clear_identity(self) -> None:
        self.identity.clear()
        self.identity.hide()

    def clear(self) -> None:
        self.clear_identity()
        for label in (self.title, self.facts, self.team_label):
            label.clear()
        self.error.clear_error()
        self.hide()
