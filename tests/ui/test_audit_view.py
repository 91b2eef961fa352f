"""The audit screen over a real vault: keyset pages on the worker, search and filters, the
detail pane, export, counts, and new rows arriving from the change bus."""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from cim_desktop.domain import clock
from cim_desktop.domain.audit.rows import Action, AuditEvent, AuditRow
from cim_desktop.services.audit import lines
from cim_desktop.services.audit import trail as audit
from cim_desktop.services.session import Session
from cim_desktop.services.vault.lifecycle import NewVault
from cim_desktop.ui.audit.model import Column
from cim_desktop.ui.audit.screen import EMPTY_TRAIL, NO_MATCH, AuditScreen
from cim_desktop.ui.kit import dialogs
from cim_desktop.ui.kit.operation import Operation
from cim_desktop.ui.kit.worker import DbWorker
from tests.ui.conftest import wait_idle

EXTRA_ROWS = 80
PAGE = 30  # more rows than the table shows at once, so the view asks for no more
URN = "DSU-TEST-0007"


def _add_rows(session: Session, count: int = EXTRA_ROWS) -> None:
    for number in range(count):
        session.record(AuditEvent(Action.VIEW, "test", f"row-{number}", {"n": number}))
    session.record(
        AuditEvent(
            Action.UPDATE, "source", URN, {"fields": ["pseudonym", "status"]}, reason="moved on"
        )
    )


@pytest.fixture
def session(new_vault: NewVault) -> Session:
    _add_rows(new_vault.session)
    return new_vault.session


def _wait_loaded(qtbot: QtBot, screen: AuditScreen) -> None:
    wait_idle(qtbot, screen.worker)
    qtbot.waitUntil(lambda: not screen.model.loading and not screen.worker.busy)


def _load_all(qtbot: QtBot, screen: AuditScreen) -> None:
    while screen.model.canFetchMore():
        screen.model.fetchMore()
        _wait_loaded(qtbot, screen)


@pytest.fixture
def screen(qtbot: QtBot, session: Session, worker: DbWorker) -> Iterator[AuditScreen]:
    view = AuditScreen(worker, page_size=PAGE)
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    view.open(session)
    qtbot.waitUntil(lambda: view.loads >= 1 and view.last_verify is not None, timeout=10_000)
    _wait_loaded(qtbot, view)
    yield view
    view.close_view()


def _search(qtbot: QtBot, screen: AuditScreen, text: str) -> None:
    screen.search.setText(text)
    screen.apply_filters()  # without waiting for typing to settle
    _wait_loaded(qtbot, screen)


def _shown(screen: AuditScreen, column: Column) -> list[str]:
    model = screen.model
    return [model.data(model.index(r, column)) for r in range(model.rowCount())]


def test_the_model_passes_the_model_tester(
    qtbot: QtBot, qtmodeltester: ModelTester, screen: AuditScreen
) -> None:
    model = screen.model
    assert model.rowCount() == PAGE and model.pages_fetched == 1
    # Checked once (a second check would connect the tester twice); it keeps watching the
    # pages that arrive and the reset at the end.
    qtmodeltester.check(model, force_py=True)
    _wait_loaded(qtbot, screen)  # the tester's fetchMore brings a page in, checked as it lands
    _load_all(qtbot, screen)
    screen.refresh()
    _wait_loaded(qtbot, screen)
    index = model.index(0, Column.ACTION)
    assert model.data(index, Qt.ItemDataRole.DecorationRole) is None
    assert model.headerData(0, Qt.Orientation.Vertical) is None


def test_pages_come_by_keyset_as_the_view_scrolls(qtbot: QtBot, screen: AuditScreen) -> None:
    model = screen.model
    assert model.rowCount() == PAGE
    screen.table.scrollToBottom()
    qtbot.waitUntil(lambda: model.rowCount() == 2 * PAGE)
    _load_all(qtbot, screen)
    seqs = [model.row_at(r).row.seq for r in range(model.rowCount())]
    assert seqs == sorted(set(seqs), reverse=True)
    # The count agrees with the rows shown.
    assert model.rowCount() == screen.count
    assert screen.count_label.text() == f"{screen.count} matching rows"


def test_the_screen_never_reads_on_the_gui_thread(
    qtbot: QtBot, session: Session, worker: DbWorker, tmp_path: Path
) -> None:
    on_gui: list[str] = []
    gui = threading.main_thread()

    def traced(sql: str) -> None:
        if threading.current_thread() is gui:
            on_gui.append(sql)

    session.db.conn.set_trace_callback(traced)  # type: ignore[attr-defined]
    try:
        view = AuditScreen(worker, page_size=PAGE)
        qtbot.addWidget(view)
        view.show()
        view.open(session)
        qtbot.waitUntil(lambda: view.loads >= 1 and view.last_verify is not None)
        _wait_loaded(qtbot, view)
        view.table.scrollToBottom()
        qtbot.waitUntil(lambda: view.model.rowCount() > PAGE)
        view.table.selectRow(3)
        _search(qtbot, view, "row-1")
        view.action_filter.setCurrentIndex(view.action_filter.findData("view"))
        _wait_loaded(qtbot, view)
        dialogs.set_next_file(tmp_path / "out.csv")
        view.export()
        qtbot.waitUntil(lambda: "Exported" in view.status.text())
        view.verify()
        _wait_loaded(qtbot, view)
        assert view.model.rowCount() > 0
    finally:
        session.db.conn.set_trace_callback(None)  # type: ignore[attr-defined]
    assert on_gui == []


def test_rows_show_names_and_labelled_detail(screen: AuditScreen, session: Session) -> None:
    officer = session.officer
    name = (
        officer.username
        if officer.display_name == officer.username
        else f"{officer.display_name} ({officer.username})"
    )
    assert set(_shown(screen, Column.OFFICER)) == {name}
    records = {(r.row.action, r.row.entity_type): r.record for r in screen.model.rows}
    assert records["view", "audit"] == "Audit trail"
    assert records["verify", "audit"] == "Audit chain"
    row = next(r for r in screen.model.rows if r.row.entity_id == URN)
    assert row.record == f"Source {URN}"
    assert row.detail == "Fields changed: pseudonym, status"
    assert "{" not in "".join(_shown(screen, Column.DETAIL))


def test_the_detail_pane_shows_every_field_labelled(qtbot: QtBot, screen: AuditScreen) -> None:
    number = next(i for i, r in enumerate(screen.model.rows) if r.row.entity_id == URN)
    screen.table.selectRow(number)
    text = screen.detail.text()
    line = screen.model.row_at(number)
    for expected in (
        f"Sequence: {line.row.seq}",
        f"Officer: {line.officer}",
        f"Record: Source {URN}",
        "Action: Update",
        "Details: Fields changed: pseudonym, status",
        "Reason: moved on",
        "Outcome: OK",
        f"Row hash: {line.row.hash.hex()[:8]}…{line.row.hash.hex()[-8:]}",
        "Acting role:",
        "Time (local):",
        "Previous hash:",
    ):
        assert expected in text
    screen.table.clearSelection()
    assert "Sequence: \n" in screen.detail.text() + "\n"


def test_search_by_urn_officer_and_text(
    qtbot: QtBot, screen: AuditScreen, session: Session
) -> None:
    _search(qtbot, screen, URN.lower())
    assert [r.row.entity_id for r in screen.model.rows] == [URN]
    assert screen.count == 1

    _search(qtbot, screen, "moved on")  # the reason
    assert [r.row.entity_id for r in screen.model.rows] == [URN]

    _search(qtbot, screen, "row-79")  # the record's id, and nothing else
    assert [r.row.entity_id for r in screen.model.rows] == ["row-79"]

    _search(qtbot, screen, session.officer.display_name)  # by display name, in SQL
    _load_all(qtbot, screen)
    assert screen.model.rowCount() == screen.count and screen.count > EXTRA_ROWS

    _search(qtbot, screen, "100%_")  # LIKE's wildcards are matched literally
    assert screen.model.rowCount() == 0 and screen.count == 0
    assert not screen.empty.isHidden() and screen.empty.text() == NO_MATCH
    assert not screen.export_button.isEnabled()


def test_export_writes_the_rows_shown_and_is_audited(
    qtbot: QtBot, screen: AuditScreen, tmp_path: Path
) -> None:
    _search(qtbot, screen, "row-1")  # row-1 and row-10 to row-19
    _load_all(qtbot, screen)
    shown = [r.row.seq for r in screen.model.rows]
    assert len(shown) == 11 == screen.count
    target = tmp_path / "trail.csv"
    dialogs.set_next_file(target)
    screen.export()
    qtbot.waitUntil(lambda: "Exported 11 rows" in screen.status.text())
    with target.open(encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    assert [int(r["seq"]) for r in written] == shown
    # The export is itself recorded (what was asked for, never the words searched for).
    screen.action_filter.setCurrentIndex(screen.action_filter.findData("export"))
    _search(qtbot, screen, "")
    (exported,) = [r.row for r in screen.model.rows]
    assert exported.seq > max(shown) and "row-1" not in exported.detail
    assert '"searched":true' in exported.detail


def test_rows_written_elsewhere_arrive_without_refresh(
    qtbot: QtBot, screen: AuditScreen, session: Session, worker: DbWorker
) -> None:
    loads = screen.loads
    opened = session.db.audit.count(audit.make_filter(action="view", text="trail"))
    other = QWidget()  # another screen: its operation publishes what it wrote
    qtbot.addWidget(other)
    Operation(
        other,
        worker,
        lambda: session.record(AuditEvent(Action.UPDATE, "source", "DSU-X-1")),
        session=session,
    ).run()
    qtbot.waitUntil(lambda: screen.model.rowCount() > 0 and screen.loads > loads)
    _wait_loaded(qtbot, screen)
    assert screen.model.row_at(0).record == "Source DSU-X-1"
    # Reading again for the new row is not audited again: no second "opened" row.
    assert session.db.audit.count(audit.make_filter(action="view", text="trail")) == opened


def test_filters_narrow_rows_and_counts_agree(
    qtbot: QtBot, screen: AuditScreen, session: Session
) -> None:
    screen.action_filter.setCurrentIndex(screen.action_filter.findData("login"))
    _wait_loaded(qtbot, screen)
    assert {r.row.action for r in screen.model.rows} == {"login"}
    assert screen.count_label.text() == "1 matching row" and screen.model.rowCount() == 1
    screen.clear_filters()
    _wait_loaded(qtbot, screen)
    assert screen.action_filter.currentIndex() == 0 and screen.model.rowCount() == PAGE

    labels = [screen.officer_filter.itemText(i) for i in range(screen.officer_filter.count())]
    assert labels[0] == "All officers" and labels[-1] == "System"
    screen.officer_filter.setCurrentIndex(labels.index("System"))
    _wait_loaded(qtbot, screen)
    assert screen.model.rowCount() == 0 == screen.count


def test_date_filter_narrows_rows(qtbot: QtBot, screen: AuditScreen, session: Session) -> None:
    clock.set_clock(lambda: datetime(2021, 3, 4, 12, 0, tzinfo=UTC))
    session.record(AuditEvent(Action.EXPORT, "test", "old"))
    clock.set_clock(None)
    screen.date_from.setDate(QDate(2021, 3, 4))
    screen.date_to.setDate(QDate(2021, 3, 4))
    _wait_loaded(qtbot, screen)
    assert [r.row.entity_id for r in screen.model.rows] == ["old"]
    tomorrow = datetime.now().astimezone() + timedelta(days=1)
    screen.date_to.setDate(QDate(2000, 1, 1))  # "Any"
    screen.date_from.setDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))
    _wait_loaded(qtbot, screen)
    assert screen.model.rowCount() == 0


def test_a_page_for_an_old_filter_is_dropped(
    qtbot: QtBot, screen: AuditScreen, worker: DbWorker
) -> None:
    release = threading.Event()
    worker.run(lambda: release.wait(10))
    screen.model.fetchMore()  # queued behind the blocker: a page of the unfiltered trail
    assert screen.model.loading
    screen.action_filter.setCurrentIndex(screen.action_filter.findData("login"))
    release.set()
    _wait_loaded(qtbot, screen)
    assert {r.row.action for r in screen.model.rows} == {"login"}


def test_a_page_asked_for_before_a_reload_lands_is_dropped(
    qtbot: QtBot, screen: AuditScreen, worker: DbWorker
) -> None:
    release = threading.Event()
    worker.run(lambda: release.wait(10))
    screen.refresh()  # a reload (as on a change set), queued first
    screen.model.fetchMore()  # then the view scrolls: a page after the old last row
    release.set()
    _wait_loaded(qtbot, screen)
    seqs = [r.row.seq for r in screen.model.rows]
    assert len(seqs) == PAGE and seqs == sorted(set(seqs), reverse=True)


def test_closing_drops_every_row_and_the_chain_header_stays(screen: AuditScreen) -> None:
    assert screen.chain.title.text() == "Audit chain intact"
    assert screen.model.rowCount() > 0
    screen.close_view()
    assert screen.model.rowCount() == 0 and not screen.model.canFetchMore()
    assert screen.detail.values["seq"].text() == ""


def test_an_empty_list_says_what_it_will_hold(qtbot: QtBot, screen: AuditScreen) -> None:
    assert screen.empty.isHidden()
    screen.model.clear()
    screen._update_empty()
    assert not screen.empty.isHidden() and screen.empty.text() == EMPTY_TRAIL


def test_columns_fit_beside_the_detail_pane_at_1366(qtbot: QtBot, screen: AuditScreen) -> None:
    screen.resize(1366 - 190, 640)  # the window less the navigation list
    qtbot.waitUntil(lambda: screen.table.viewport().width() < 1000)
    header = screen.table.horizontalHeader()
    fixed = sum(header.sectionSize(c) for c in Column if c is not Column.DETAIL)
    assert fixed + 80 <= screen.table.viewport().width(), "room for the detail column"
    assert not screen.table.horizontalScrollBar().isVisible()


def test_labels_for_sessions_and_team_roles() -> None:
    row = AuditRow(
        1,
        "",
        "u",
        "u",
        "none",
        "",
        "login",
        "session",
        "0123456789abcdef",
        "{}",
        "",
        "ok",
        b"",
        b"",
    )
    assert lines.record_label(row, {}) == "Session 01234567…"
    names = {"o-1": ("Jo Bloggs", "jbloggs")}
    officer = replace(row, entity_type="officer", entity_id="o-1")
    assert lines.record_label(officer, names) == "Officer Jo Bloggs (jbloggs)"
    policy = replace(row, entity_type="policy", entity_id="idle_lock_minutes")
    assert lines.record_label(policy, names) == "Local policy: idle lock minutes"
    assert lines.describe('{"officer":"o-1","ended":true}', names=names) == (
        "Officer: Jo Bloggs (jbloggs); Ended: yes"
    )
    assert lines.describe('{"team_role":"record_keeper"}') == "Team role: record keeper"


def test_a_declaration_filed_under_its_own_id_is_labelled_with_its_officer() -> None:
    names = {"o-1": ("Jo Bloggs", "jbloggs")}
    row = AuditRow(
        1, "", "o-1", "jbloggs", "handler", "", "create", "association", "a-7f3e9c",
        '{"officer_id":"o-1","fields":["name"]}', "", "ok", b"", b"",
    )  # fmt: skip
    assert lines.record_label(row, names) == "Associations of Jo Bloggs (jbloggs)"
    unknown = replace(row, detail='{"fields":["name"]}')
    assert lines.record_label(unknown, names) == "Associations of a-7f3e9c"
