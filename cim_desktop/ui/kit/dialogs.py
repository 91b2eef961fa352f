"""Every message box and file dialog goes through here.

Tests queue the answer a person would give (``set_next_answer``, ``set_next_file``) so no
test ever blocks on a modal; with test mode on, a question nobody answered fails the test
instead of hanging it. Open modals are tracked so that locking the vault can close them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox, QWidget

APP_TITLE = "cim-desktop"


class Answer(Enum):
    OK = "ok"
    YES = "yes"
    NO = "no"
    CANCEL = "cancel"


@dataclass(frozen=True)
class Shown:
    """A message that would have been shown, as recorded in test mode."""

    kind: str
    title: str
    text: str
    # The smaller text under the main one; kept for tests that read the whole message, left
    # out of comparisons so that a test can name a message by its main text.
    informative: str = field(default="", compare=False)


_answers: deque[Answer] = deque()
_files: deque[Path | None] = deque()
_shown: list[Shown] = []
_open: list[QDialog] = []
_test_mode = False


# -- test seams -------------------------------------------------------------------------
def set_test_mode(on: bool) -> None:
    """In test mode messages are recorded instead of shown, and unanswered questions fail."""
    global _test_mode
    _test_mode = on
    reset()


def set_next_answer(answer: Answer) -> None:
    _answers.append(answer)


def set_next_file(path: Path | None) -> None:
    """The path the next file or folder dialog returns (``None``: the user cancelled)."""
    _files.append(path)


def shown() -> list[Shown]:
    return list(_shown)


def reset() -> None:
    _answers.clear()
    _files.clear()
    _shown.clear()


def _seamed(
    kind: str, title: str, text: str, *, needs_answer: bool, informative: str = ""
) -> Answer | None:
    if _answers:
        _shown.append(Shown(kind, title, text, informative))
        return _answers.popleft()
    if _test_mode:
        _shown.append(Shown(kind, title, text, informative))
        if needs_answer:
            raise AssertionError(f"unanswered {kind} dialog in a test: {title}: {text}")
        return Answer.OK
    return None


# -- messages ---------------------------------------------------------------------------
_ICONS = {
    "information": QMessageBox.Icon.Information,
    "warning": QMessageBox.Icon.Warning,
    "critical": QMessageBox.Icon.Critical,
    "question": QMessageBox.Icon.Question,
}


def _exec(box: QDialog) -> int:
    _open.append(box)
    try:
        return box.exec()
    finally:
        _open.remove(box)


def _message(
    kind: str, parent: QWidget | None, title: str, text: str, informative: str = ""
) -> None:
    if _seamed(kind, title, text, needs_answer=False, informative=informative) is not None:
        return
    box = QMessageBox(
        _ICONS[kind], f"{title} — {APP_TITLE}", text, QMessageBox.StandardButton.Ok, parent
    )
    if informative:
        box.setInformativeText(informative)
    _exec(box)


def information(parent: QWidget | None, title: str, text: str, informative: str = "") -> None:
    _message("information", parent, title, text, informative)


def warning(parent: QWidget | None, title: str, text: str, informative: str = "") -> None:
    _message("warning", parent, title, text, informative)


def critical(parent: QWidget | None, title: str, text: str, informative: str = "") -> None:
    _message("critical", parent, title, text, informative)


def question(
    parent: QWidget | None, title: str, text: str, *, yes: str = "Yes", no: str = "No"
) -> bool:
    """Ask a yes/no question; closing the box counts as no."""
    seamed = _seamed("question", title, text, needs_answer=True)
    if seamed is not None:
        return seamed is Answer.YES
    box = QMessageBox(
        QMessageBox.Icon.Question,
        f"{title} — {APP_TITLE}",
        text,
        QMessageBox.StandardButton.NoButton,
        parent,
    )
    yes_button = box.addButton(yes, QMessageBox.ButtonRole.YesRole)
    no_button = box.addButton(no, QMessageBox.ButtonRole.NoRole)
    box.setDefaultButton(no_button)
    box.setEscapeButton(no_button)
    _exec(box)
    return box.clickedButton() is yes_button


# -- files ------------------------------------------------------------------------------
def _file_dialog(
    parent: QWidget | None,
    caption: str,
    start: Path | None,
    mode: QFileDialog.FileMode,
    accept: QFileDialog.AcceptMode,
    name_filter: str = "",
) -> Path | None:
    if _files:
        return _files.popleft()
    if _test_mode:
        raise AssertionError(f"unanswered file dialog in a test: {caption}")
    dialog = QFileDialog(parent, caption, str(start) if start else "")
    dialog.setFileMode(mode)
    dialog.setAcceptMode(accept)
    if mode is QFileDialog.FileMode.Directory:
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
    if name_filter:
        dialog.setNameFilter(name_filter)
    if _exec(dialog) != QDialog.DialogCode.Accepted or not dialog.selectedFiles():
        return None
    return Path(dialog.selectedFiles()[0])


def choose_directory(
    parent: QWidget | None, caption: str, start: Path | None = None
) -> Path | None:
    return _file_dialog(
        parent, caption, start, QFileDialog.FileMode.Directory, QFileDialog.AcceptMode.AcceptOpen
    )


def open_file(
    parent: QWidget | None, caption: str, start: Path | None = None, name_filter: str = ""
) -> Path | None:
    return _file_dialog(
        parent,
        caption,
        start,
        QFileDialog.FileMode.ExistingFile,
        QFileDialog.AcceptMode.AcceptOpen,
        name_filter,
    )


def save_file(
    parent: QWidget | None, caption: str, start: Path | None = None, name_filter: str = ""
) -> Path | None:
    return _file_dialog(
        parent,
        caption,
        start,
        QFileDialog.FileMode.AnyFile,
        QFileDialog.AcceptMode.AcceptSave,
        name_filter,
    )


# -- locking ----------------------------------------------------------------------------
def close_all() -> int:
    """Close every open modal from this module (used when the vault locks)."""
    closing = list(_open)
    for dialog in closing:
        dialog.done(QDialog.DialogCode.Rejected)
    return len(closing)
