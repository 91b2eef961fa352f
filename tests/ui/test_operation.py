"""The operation helper on a real vault: stale answers dropped, user errors where the caller
says (nothing changed), bugs to the crash dialog, progress with Cancel, and the change set
published with its initiator, also after an audited denial."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtWidgets import QPushButton, QWidget
from pytestqt.qtbot import QtBot

from cim_desktop.domain.changes import ChangeSet, Kind
from cim_desktop.services.officers import associations
from cim_desktop.services.policy import settings as policy
from cim_desktop.services.review import queue as review
from cim_desktop.services.session import Session
from cim_desktop.services.vault.lifecycle import NewVault
from cim_desktop.ui.kit import dialogs
from cim_desktop.ui.kit.changes import bus
from cim_desktop.ui.kit.operation import Cancelled, Operation, Progress
from cim_desktop.ui.kit.worker import DbWorker
from tests.ui.conftest import wait_idle

Published = list[tuple[ChangeSet, object]]


@pytest.fixture
def owner(qtbot: QtBot) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def published() -> Iterator[Published]:
    seen: Published = []

    def record(changed: ChangeSet, initiator: object) -> None:
        seen.append((changed, initiator))

    bus().changed.connect(record)
    yield seen
    bus().changed.disconnect(record)


def _rows(session: Session) -> int:
    return int(session.db.conn.execute("SELECT count(*) FROM audit").fetchone()[0])


def test_a_stale_answer_is_dropped(
    qtbot: QtBot, owner: QWidget, worker: DbWorker, new_vault: NewVault
) -> None:
    s = new_vault.session
    shown: list[int] = []
    for minutes in (1, 2, 3):
        # Each asks the policy; only the newest one's answer may reach the screen.
        (
            Operation(owner, worker, lambda m=minutes: (policy.current(s), m)[1], session=s)
            .stale("load")
            .success(shown.append)
            .run()
        )
    other: list[int] = []
    Operation(owner, worker, lambda: 9, session=s).stale("other").success(other.append).run()
    wait_idle(qtbot, worker)
    assert shown == [3]
    assert other == [9]  # another key is not made stale


def test_a_user_error_goes_to_the_callback_and_changes_nothing(
    qtbot: QtBot, owner: QWidget, worker: DbWorker, new_vault: NewVault, published: Published
) -> None:
    s = new_vault.session
    before = _rows(s)
    errors: list[str] = []
    done: list[object] = []
    (
        Operation(
            owner,
            worker,
            lambda: associations.declare(s, "A. Person", "", date(2020, 1, 1)),
            session=s,
        )
        .success(done.append)
        .user_errors(errors.append)
        .run()
    )
    wait_idle(qtbot, worker)
    assert errors and errors[0].startswith("Relationship")
    assert not done and not published
    assert _rows(s) == before and not associations.declarations(s)
    assert not [m for m in dialogs.shown() if m.kind == "critical"]


def test_a_bug_goes_to_the_crash_dialog_not_the_callback(
    qtbot: QtBot,
    owner: QWidget,
    worker: DbWorker,
    new_vault: NewVault,
    tmp_path: Path,
    published: Published,
) -> None:
    s = new_vault.session

    def bug() -> None:
        with s.db.transaction():  # refused by the append-only trigger: not a user's error
            s.db.conn.execute("UPDATE audit SET detail = '{}'")

    errors: list[str] = []
    before = len(dialogs.shown())
    Operation(owner, worker, bug, session=s).user_errors(errors.append).run()
    qtbot.waitUntil(lambda: len(dialogs.shown()) > before)
    crash = dialogs.shown()[-1]
    assert crash.kind == "critical" and crash.title == "Internal error"
    assert "Reference:" in crash.text and "UPDATE" not in crash.text
    assert not errors and not published
    assert list((tmp_path / "logs").iterdir())  # the details went to the log


def test_progress_is_reported_and_cancel_stops_the_work(
    qtbot: QtBot, owner: QWidget, worker: DbWorker, new_vault: NewVault
) -> None:
    s = new_vault.session
    reported = threading.Event()
    may_go_on = threading.Event()
    seen: list[str] = []

    def work(progress: Progress) -> str:
        progress.report(1, 3, "First step")
        reported.set()
        may_go_on.wait(10)
        try:
            progress.report(2, 3, "Second step")
        except Cancelled:
            seen.append("cancelled")
            raise
        return "finished"

    owner.show()
    done: list[str] = []
    errors: list[str] = []
    op = (
        Operation(owner, worker, work, session=s)
        .with_progress("Working…", cancellable=True)
        .success(done.append)
        .user_errors(errors.append)
    )
    op.run()
    dialog = op.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.value() == 1 and dialog.labelText() == "First step")
    assert dialog.maximum() == 3
    [cancel] = dialog.findChildren(QPushButton)
    assert cancel.text() == "Cancel"
    cancel.click()
    may_go_on.set()
    wait_idle(qtbot, worker)
    assert seen == ["cancelled"]
    assert not done and not errors  # cancelling is not an error to show
    assert op.dialog is None  # closed


def test_the_change_set_is_published_with_its_initiator(
    qtbot: QtBot, owner: QWidget, worker: DbWorker, new_vault: NewVault, published: Published
) -> None:
    s = new_vault.session
    declared: list[associations.Association] = []
    (
        Operation(
            owner, worker, lambda: associations.declare(s, "C. Person", "cousin", date(2020, 1, 1))
        )
        .success(declared.append)
        .run()
    )
    wait_idle(qtbot, worker)
    assert not published  # no session given: nothing recorded

    (
        Operation(
            owner,
            worker,
            lambda: associations.declare(s, "D. Person", "cousin", date(2020, 1, 1)),
            session=s,
        )
        .success(declared.append)
        .run()
    )
    wait_idle(qtbot, worker)
    [(changed, initiator)] = published
    assert initiator is owner
    assert changed.kinds == {Kind.OFFICERS, Kind.AUDIT}
    assert changed.ids(Kind.OFFICERS) == {declared[-1].id}


def test_an_audited_denial_is_published_and_shown(
    qtbot: QtBot, owner: QWidget, worker: DbWorker, new_vault: NewVault, published: Published
) -> None:
    s = new_vault.session  # an administrator, not a reader of the review queue
    errors: list[str] = []
    tag = object()
    (
        Operation(owner, worker, lambda: review.pending(s), session=s)
        .initiated_by(tag)
        .user_errors(errors.append)
        .run()
    )
    wait_idle(qtbot, worker)
    assert errors and "review queue" in errors[0]
    [(changed, initiator)] = published
    assert initiator is tag
    assert changed.kinds == {Kind.AUDIT, Kind.REVIEW}
