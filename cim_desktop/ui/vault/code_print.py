"""Printing the recovery code on paper, through the system's print dialog.

This is a plain print of the code for the unit's recovery sheet; the signed recovery sheet
is a later addition. Tests route the print to a PDF file with ``set_next_pdf`` instead of
asking the user for a printer.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtGui import QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QWidget

_next_pdf: Path | None = None


def set_next_pdf(path: Path | None) -> None:
    """Send the next print to ``path`` as PDF, without the print dialog (tests)."""
    global _next_pdf
    _next_pdf = path


def sheet_html(code: str, unit: str) -> str:
    groups = " ".join(html.escape(g) for g in code.split("-"))
    return (
        "<h2>cim-desktop recovery code</h2>"
        f"<p>Unit: {html.escape(unit)}</p>"
        f"<p style='font-family: monospace; font-size: 18pt'>{groups}</p>"
        "<p>Anyone holding this code and the vault files can open the vault. Seal this sheet "
        "and keep it under two-person custody.</p>"
        "<p>Sealed by: ____________________ &nbsp; Witnessed by: ____________________</p>"
    )


def print_code(parent: QWidget, code: str, unit: str) -> bool:
    """Print the code; False if the user cancelled the print dialog."""
    global _next_pdf
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    if _next_pdf is not None:
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(_next_pdf))
        _next_pdf = None
    else:
        chooser = QPrintDialog(printer, parent)
        chooser.setWindowTitle("Print the recovery code")
        if chooser.exec() != QDialog.DialogCode.Accepted:
            return False
    document = QTextDocument()
    document.setHtml(sheet_html(code, unit))
    document.print_(printer)
    return True
