"""The application's look: Fusion with a restrained palette and a few named styles."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = "#1d3557"
ERROR = "#b3261e"
OK = "#1b6e3a"

STYLE_SHEET = f"""
QLabel#marking {{
    background: {ACCENT}; color: white; font-weight: bold; letter-spacing: 3px;
    padding: 4px; font-size: 9pt;
}}
QLabel#heading {{ font-size: 15pt; font-weight: bold; color: #1b1b1b; }}
QLabel#subheading {{ font-size: 11pt; font-weight: bold; color: #1b1b1b; }}
QLabel#note {{ color: #4a4a4a; }}
QLabel#fieldError {{ color: {ERROR}; }}
QLabel#formError {{
    color: {ERROR}; background: #fdecea; border: 1px solid #f3c1bd; border-radius: 4px;
    padding: 8px;
}}
QLabel#recoveryCode {{
    background: #fffdf5; border: 2px dashed #8a7a3d; border-radius: 6px; padding: 16px;
    color: #111111;
}}
QLabel#instruction {{
    background: #fff4d6; border-left: 4px solid #c98a00; padding: 10px; color: #3a2c00;
}}
QFrame#header {{ background: white; border: none; border-bottom: 1px solid #d5dae1; }}
QLabel#steps {{
    background: white; border: 1px solid #d5dae1; border-radius: 6px; padding: 12px 16px;
    color: #2b2b2b;
}}
QFrame#card {{
    background: white; border: 1px solid #c9ced6; border-radius: 8px;
}}
QFrame#chainStatus {{
    background: white; border: 1px solid #c9ced6; border-radius: 6px;
}}
QWidget#lockScreen {{ background: #e9edf2; }}
QPushButton#primary {{
    background: {ACCENT}; color: white; border: 1px solid {ACCENT}; border-radius: 4px;
    padding: 6px 18px; font-weight: bold;
}}
QPushButton#primary:disabled {{ background: #8a97a8; border-color: #8a97a8; }}
QPushButton#primary:hover {{ background: #26456f; }}
QPushButton#link {{
    border: none; color: {ACCENT}; text-decoration: underline; text-align: left; padding: 0;
}}
QStatusBar QLabel {{ padding: 0 8px; }}
QTableView {{ gridline-color: #e1e4e8; }}
"""


def apply(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = app.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor("#f3f5f8"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#f5f7fa"))
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#2f5d8a"))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    app.setPalette(palette)
    app.setStyleSheet(STYLE_SHEET)
