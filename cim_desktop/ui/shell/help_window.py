"""A window that shows a guide page, the shortcuts or the About text."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget


class TextWindow(QDialog):
    """Non-modal, so the officer can read the guide beside the screen it describes."""

    def __init__(self, title: str, markdown: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("helpWindow")
        self.text = QTextBrowser()
        self.text.setOpenLinks(False)  # offline: no link leads anywhere
        self.text.setMarkdown(markdown)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.resize(620, 520)

    def plain_text(self) -> str:
        return self.text.toPlainText()
