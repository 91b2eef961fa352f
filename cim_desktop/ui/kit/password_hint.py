"""Password fields that help: a show/hide toggle and a strength hint.

The hint is a rough estimate from length and the kinds of character used, and says so; the
rules that refuse a password are elsewhere (``domain.officers.passwords``), and a long
passphrase of plain words rates well here because length is what counts most.
"""

from __future__ import annotations

import math

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QLineEdit

from cim_desktop.ui.kit.icons import icon

SHOW, HIDE = "Show password", "Hide password"


def add_show_toggle(*fields: QLineEdit) -> QAction:
    """An eye button in the first field that shows or hides the text of all of them."""
    action = QAction(icon("eye"), SHOW, fields[0])
    action.setCheckable(True)

    def toggled(on: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password
        for field in fields:
            field.setEchoMode(mode)
        action.setIcon(icon("eye-off" if on else "eye"))
        action.setText(HIDE if on else SHOW)
        action.setToolTip(HIDE if on else SHOW)

    action.setToolTip(SHOW)
    action.toggled.connect(toggled)
    fields[0].addAction(action, QLineEdit.ActionPosition.TrailingPosition)
    return action


def estimate_bits(password: str) -> float:
    """Length times the bits per character of the classes used (an upper bound, a hint)."""
    pool = 0
    if any(c.islower() for c in password):
        pool += 26
    if any(c.isupper() for c in password):
        pool += 26
    if any(c.isdigit() for c in password):
        pool += 10
    if any(c == " " for c in password):
        pool += 1
    if any(not c.isalnum() and c != " " for c in password):
        pool += 33
    if not password or pool == 0:
        return 0.0
    # Repeats add little: count each distinct character fully, repeats at a quarter.
    distinct = len(set(password))
    effective = distinct + (len(password) - distinct) / 4
    return effective * math.log2(pool)


def strength(password: str) -> str:
    if not password:
        return ""
    bits = estimate_bits(password)
    if bits < 45:
        word = "weak"
    elif bits < 70:
        word = "fair"
    elif bits < 100:
        word = "good"
    else:
        word = "strong"
    return f"Strength (a hint only): {word}"


class StrengthHint(QLabel):
    """A line under a password field that follows what is typed."""

    def __init__(self, field: QLineEdit) -> None:
        super().__init__()
        self.setObjectName("note")
        field.textChanged.connect(lambda text: self.setText(strength(text)))
