"""The keyset-paged audit model and the audit screen's filters, over a real vault."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QDate, QModelIndex, Qt
from PySide6.QtWidgets import QTableView
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from cim_desktop.domain import clock
from cim_desktop.domain.audit.rows import Action, AuditEvent
from cim_desktop.services.audit import trail as audit
from cim_desktop.services.session import Session
from cim_desktop.services.vault.lifecycle import NewVault
from cim_desktop.ui.audit.model import AuditTableModel, Column
from cim_desktop.ui.audit.screen import AuditScreen
from cim_desktop.ui.kit.worker import DbWorker
from tests.ui.conftest import wait_idle

EXTRA_ROWS = 40


def _add_rows(session: Session, count: int = EXTRA_ROWS) -> None:
    for number in range(count):
        session.record(AuditEvent(Action.VIEW, "test", f"row-{number}", {"n": number}))


@pytest.fixture
def session(new_vault: NewVault) -> Session:
    _add_rows(new_vault.session)
    return new_vault.session


@pytest.fixture
def screen(qtbot: QtBot, session: Session, worker: DbWorker) -> Iterator[AuditScreen]:
    view = AuditScreen(worker, page_size=10)
    qtbot.addWidget(view)
    view.resize(1000, 600)
    view.show()
    view.open(session)
    wait_idle(qtbot, worker)
    yield view
    view.close_view()


def test_model_passes_the_model_tester(qtmodeltester: ModelTester, session: Session) -> None:
    model = AuditTableModel(page_size=7)
    model.set_view(audit.open_view(session))
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() >= 7
    # Unhandled roles and vertical headers give None.
    index = model.index(0, Column.ACTION)
    assert model.data(index, Qt.ItemDataRole.DecorationRole) is None
    assert model.data(index, Qt.ItemDataRole.UserRole + 5) is None
    assert model.headerData(0, Qt.Orientation.Vertical) is None
    assert model.data(model.index(0, Column.SEQ, QModelIndex())) is not None


def test_model_pages_by_keyset_and_never_loads_all(qtbot: QtBot, session: Session) -> None:
    view = audit.open_view(session)
    total = view.count()
    assert total > 3 * 10
    model = AuditTableModel(page_size=10)
    model.set_view(view)
    assert model.rowCount() == 10 and model.pages_fetched == 1

    table = QTableView()
    qtbot.addWidget(table)
    table.setModel(model)
    table.resize(600, 160)  # room for a few rows only
    table.show()
    qtbot.waitExposed(table)
    assert model.rowCount() == 10  # showing it fetched nothing more

    table.scrollToBottom()
    qtbot.waitUntil(lambda: model.rowCount() == 20)
    assert model.pages_fetched == 2
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() == total
    assert model.pages_fetched == total // 10 + 1
    seqs = [model.row_at(r).seq for r in range(model.rowCount())]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == total
    assert not model.canFetchMore()


def test_model_waits_while_the_worker_is_busy(session: Session) -> None:
    busy = True
    model = AuditTableModel(page_size=10, can_read=lambda: busy)
    model.set_view(audit.open_view(session))
    busy = False
    assert not model.canFetchMore()
    model.fetchMore()
    assert model.rowCount() == 10


def test_new_rows_appear_at_the_top(qtbot: QtBot, screen: AuditScreen, session: Session) -> None:
    model = screen.model
    top = model.row_at(0).seq
    before = model.rowCount()
    row = session.record(AuditEvent(Action.EXPORT, "test", "fresh"))
    screen.on_data_changed("audit")
    assert model.row_at(0).seq == row.seq and model.row_at(0).action == "export"
    # Exactly the rows appended since (this one and the verification's), none twice.
    assert model.rowCount() == before + (row.seq - top)
    seqs = [model.row_at(r).seq for r in range(model.rowCount())]
    assert seqs == sorted(set(seqs), reverse=True)


def test_action_filter_narrows_rows(qtbot: QtBot, screen: AuditScreen) -> None:
    model = screen.model
    unfiltered = model.rowCount()
    screen.action_filter.setCurrentIndex(screen.action_filter.findData("login"))
    wait_idle(qtbot, screen._worker)
    assert 0 < model.rowCount() < unfiltered
    assert {model.row_at(r).action for r in range(model.rowCount())} == {"login"}
    qtbot.waitUntil(lambda: screen.count_label.text() == "1 matching row")

    screen.clear_filters()
    wait_idle(qtbot, screen._worker)
    assert screen.action_filter.currentIndex() == 0
    assert model.rowCount() == unfiltered


def test_officer_filter_narrows_rows(qtbot: QtBot, screen: AuditScreen, session: Session) -> None:
    labels = [screen.officer_filter.itemText(i) for i in range(screen.officer_filter.count())]
    assert labels == ["All officers", "admin", "System"]
    screen.officer_filter.setCurrentIndex(labels.index("System"))
    wait_idle(qtbot, screen._worker)
    assert screen.model.rowCount() == 0
    screen.officer_filter.setCurrentIndex(labels.index("admin"))
    wait_idle(qtbot, screen._worker)
    rows = [screen.model.row_at(r) for r in range(screen.model.rowCount())]
    assert rows and {r.user_id for r in rows} == {session.officer.id}


def test_date_filter_narrows_rows(qtbot: QtBot, screen: AuditScreen, session: Session) -> None:
    # One row dated long ago, by moving the one clock the application reads.
    clock.set_clock(lambda: datetime(2021, 3, 4, 12, 0, tzinfo=UTC))
    session.record(AuditEvent(Action.EXPORT, "test", "old"))
    clock.set_clock(None)
    screen.date_from.setDate(QDate(2021, 3, 4))
    screen.date_to.setDate(QDate(2021, 3, 4))
    wait_idle(qtbot, screen._worker)
    assert screen.model.rowCount() == 1
    assert screen.model.row_at(0).entity_id == "old"

    tomorrow = datetime.now().astimezone() + timedelta(days=1)
    screen.date_to.setDate(QDate(2000, 1, 1))  # "Any"
    screen.date_from.setDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))
    wait_idle(qtbot, screen._worker)
    assert screen.model.rowCount() == 0


def test_filter_change_while_busy_waits_for_the_worker(
    qtbot: QtBot, screen: AuditScreen, worker: DbWorker
) -> None:
    release = threading.Event()
    worker.run(lambda: release.wait(10))
    unfiltered = screen.model.rowCount()
    screen.action_filter.setCurrentIndex(screen.action_filter.findData("login"))
    assert screen.model.rowCount() == unfiltered  # nothing read while the worker is busy
    release.set()
    wait_idle(qtbot, worker)
    assert {screen.model.row_at(r).action for r in range(screen.model.rowCount())} == {"login"}


def test_closing_the_view_drops_every_row(screen: AuditScreen) -> None:
    assert screen.model.rowCount() > 0
    screen.close_view()
    assert screen.model.rowCount() == 0 and not screen.model.canFetchMore()
