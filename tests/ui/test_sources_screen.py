"""The Sources screen: what each officer sees, registering, the sealed identity, break-glass
from the screen, and the screen dropping everything when it closes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from cim_desktop.domain import clock
from cim_desktop.domain.access.rules import TeamRole
from cim_desktop.domain.changes import Kind
from cim_desktop.services.policy import settings as policy
from cim_desktop.services.sources import register as sources
from cim_desktop.ui.access.break_glass import BreakGlassDialog
from cim_desktop.ui.audit.screen import AuditScreen
from cim_desktop.ui.kit.changes import bus
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.sources.dialogs import AssignDialog, IdentityReasonDialog, RegisterDialog
from cim_desktop.ui.sources.model import NOT_OPEN, empty_text
from cim_desktop.ui.sources.screen import SourcesScreen
from tests.access_world import World, build, password
from tests.conftest import ADMIN
from tests.ui.conftest import wait_idle

WHY = "Source's handler is off sick and a threat came in"
TRUE_NAME = "Jane Example"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build(
        tmp_path_factory.mktemp("sources-ui") / "vault", "ctrl", "keeper", "handler1", "handler2"
    )
    yield built
    built.close()


def _source(world: World, pseudonym: str) -> str:
    """A source controlled by ctrl and handled by handler1, with the keeper on its team."""
    urn = sources.register_source(world["keeper"], pseudonym).urn
    sources.assign_team_role(world["keeper"], urn, "ctrl", TeamRole.CONTROLLER)
    sources.assign_team_role(world["keeper"], urn, "handler1", TeamRole.HANDLER)
    sources.update_identity(world["keeper"], urn, {"full_name": TRUE_NAME}, "first record")
    return urn


def _screen(qtbot: QtBot, worker: DbWorker, world: World, username: str) -> SourcesScreen:
    screen = SourcesScreen(worker)
    qtbot.addWidget(screen)
    screen.resize(1100, 640)
    screen.show()
    screen.open(world[username])
    wait_idle(qtbot, worker)
    return screen


def _urns(screen: SourcesScreen) -> list[str]:
    return [r.urn for r in screen.model.rows]


def _trail(screen: AuditScreen) -> list[tuple[str, str]]:
    return [(r.row.action, r.row.entity_id) for r in screen.model.rows]


def _filter(qtbot: QtBot, worker: DbWorker, screen: SourcesScreen, text: str) -> None:
    screen.filter.setText(text)
    screen.apply_filter()  # without waiting for typing to settle
    wait_idle(qtbot, worker)


def _select(qtbot: QtBot, worker: DbWorker, screen: SourcesScreen, urn: str) -> None:
    screen.select(urn)
    wait_idle(qtbot, worker)
    assert screen.source_title.text() == urn


def test_the_list_shows_only_permitted_sources(
    qtbot: QtBot, worker: DbWorker, world: World
) -> None:
    mine = _source(world, "Kestrel")
    other = sources.register_source(world["ctrl"], "Osprey").urn
    screen = _screen(qtbot, worker, world, "handler1")
    assert mine in _urns(screen) and other not in _urns(screen)
    row = next(r for r in screen.model.rows if r.urn == mine)
    assert screen.model.display(row)[1] == "Kestrel"
    assert screen.register_button.isHidden(), "handlers do not register sources"

    _filter(qtbot, worker, screen, "nothing like it")
    assert _urns(screen) == []
    _filter(qtbot, worker, screen, "kestrel")
    assert _urns(screen) == [mine]

    # With the policy on, an outsider sees URN and status only, and may break glass.
    policy.change(world[ADMIN], "metadata_outside_team", True, None)
    try:
        outsider = _screen(qtbot, worker, world, "handler2")
        assert mine in _urns(outsider)
        row = next(r for r in outsider.model.rows if r.urn == mine)
        assert row.pseudonym is None and outsider.model.display(row)[1] == NOT_OPEN
        _select(qtbot, worker, outsider, mine)
        assert "Kestrel" not in outsider.facts.text()
        assert not outsider.glass_button.isHidden()
        assert outsider.assign_button.isHidden() and outsider.identity_button.isHidden()
    finally:
        policy.change(world[ADMIN], "metadata_outside_team", False, None)


def test_registering_shows_an_inline_error_then_succeeds(
    qtbot: QtBot, worker: DbWorker, world: World
) -> None:
    screen = _screen(qtbot, worker, world, "keeper")
    assert not screen.register_button.isHidden()
    qtbot.mouseClick(screen.register_button, Qt.MouseButton.LeftButton)
    dialog = screen.dialog
    assert isinstance(dialog, RegisterDialog)
    qtbot.keyClicks(dialog.pseudonym, "Merlin")
    qtbot.keyClicks(dialog.urn, "x")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, worker)
    assert "A URN is 3 to 40 characters" in dialog.error.text() and dialog.error.isVisible()
    assert dialog.isVisible()
    assert "Merlin" not in {r.pseudonym for r in sources.list_sources(world["keeper"])}

    dialog.urn.clear()
    qtbot.keyClicks(dialog.urn, "DSU-TEST-0042")
    with qtbot.waitSignal(
        bus().changed,
        timeout=10_000,
        check_params_cb=lambda changed, _by: changed.touches({Kind.SOURCES}),
    ):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, worker)
    assert "DSU-TEST-0042" in _urns(screen)
    assert screen.source_title.text() == "DSU-TEST-0042" and "Merlin" in screen.facts.text()
    assert "Record keeper: keeper" in screen.team_label.text()


def test_identity_needs_a_reason_and_only_keepers_and_controllers_get_it(
    qtbot: QtBot, worker: DbWorker, world: World
) -> None:
    urn = _source(world, "Harrier")
    other = _source(world, "Hobby")
    handler = _screen(qtbot, worker, world, "handler1")
    _select(qtbot, worker, handler, urn)
    assert "Harrier" in handler.facts.text()
    assert handler.identity_button.isHidden(), "a handler never sees the identity"

    for username in ("keeper", "ctrl"):
        screen = _screen(qtbot, worker, world, username)
        _select(qtbot, worker, screen, urn)
        assert not screen.identity_button.isHidden()
        qtbot.mouseClick(screen.identity_button, Qt.MouseButton.LeftButton)
        dialog = screen.dialog
        assert isinstance(dialog, IdentityReasonDialog)
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        assert "reason" in dialog.shown_errors()["reason"]
        assert not worker.busy and screen.identity.isHidden()

        qtbot.keyClicks(dialog.reason, "Checking before a meeting")
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        wait_idle(qtbot, worker)
        assert not screen.identity.isHidden() and TRUE_NAME in screen.identity.text()
        assert screen.identity.textInteractionFlags() == Qt.TextInteractionFlag.NoTextInteraction

        # Choosing another source drops the particulars at once.
        _select(qtbot, worker, screen, other)
        assert screen.identity.isHidden() and screen.identity.text() == ""


def test_break_glass_from_the_screen_opens_content_until_the_grant_runs_out(
    qtbot: QtBot, worker: DbWorker, world: World
) -> None:
    urn = _source(world, "Redwing")
    start = clock.utc_now()
    clock.set_clock(lambda: start)
    trail = AuditScreen(worker)  # open beside it: it hears of the rows without a refresh
    qtbot.addWidget(trail)
    trail.show()
    trail.open(world[ADMIN])
    qtbot.waitUntil(lambda: trail.loads >= 1)
    screen = _screen(qtbot, worker, world, "handler2")
    assert urn not in _urns(screen)
    qtbot.keyClicks(screen.urn_box, urn.lower())
    qtbot.mouseClick(screen.open_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, worker)
    assert "outside your caseload" in screen.detail_error.text(), "denial shown inline"
    assert not screen.glass_button.isHidden()
    qtbot.waitUntil(lambda: _trail(trail)[:1] == [("denied", urn)])

    qtbot.mouseClick(screen.glass_button, Qt.MouseButton.LeftButton)
    dialog = screen.dialog
    assert isinstance(dialog, BreakGlassDialog) and dialog.urn == urn
    dialog.justification.setPlainText(WHY)
    qtbot.keyClicks(dialog.password, password("handler2"))
    with qtbot.waitSignal(
        bus().changed,
        timeout=10_000,
        check_params_cb=lambda changed, _by: changed.touches({Kind.ACCESS}),
    ):
        qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, worker)
    assert urn in _urns(screen)
    assert "Redwing" in screen.facts.text() and "break-glass" in screen.facts.text()
    assert screen.glass_button.isHidden() and screen.detail_error.isHidden()
    qtbot.waitUntil(lambda: ("break-glass", urn) in _trail(trail)[:6])
    trail.close_view()

    clock.set_clock(lambda: start + timedelta(minutes=61))
    qtbot.waitUntil(lambda: urn not in _urns(screen), timeout=5_000)
    wait_idle(qtbot, worker)
    assert screen.detail.isHidden() and "Redwing" not in screen.facts.text()


def test_closing_drops_everything(qtbot: QtBot, worker: DbWorker, world: World) -> None:
    urn = _source(world, "Merlin Three")
    screen = _screen(qtbot, worker, world, "keeper")
    _select(qtbot, worker, screen, urn)
    qtbot.mouseClick(screen.identity_button, Qt.MouseButton.LeftButton)
    dialog = screen.dialog
    assert isinstance(dialog, IdentityReasonDialog)
    qtbot.keyClicks(dialog.reason, "Checking before a meeting")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, worker)
    assert TRUE_NAME in screen.identity.text()
    qtbot.mouseClick(screen.assign_button, Qt.MouseButton.LeftButton)
    assert screen.dialog is not None

    screen.close_view()
    assert screen.model.rows == [] and screen.dialog is None
    assert screen.identity.text() == "" and screen.identity.isHidden()
    assert screen.facts.text() == "" and screen.team_label.text() == ""
    assert screen.detail.isHidden() and screen.source_title.text() == ""


def test_assigning_to_the_team_is_offered_by_the_rules(
    qtbot: QtBot, worker: DbWorker, world: World
) -> None:
    urn = _source(world, "Goshawk")
    handler = _screen(qtbot, worker, world, "handler1")
    _select(qtbot, worker, handler, urn)
    assert handler.assign_button.isHidden(), "handlers do not manage the team"

    screen = _screen(qtbot, worker, world, "ctrl")
    _select(qtbot, worker, screen, urn)
    qtbot.mouseClick(screen.assign_button, Qt.MouseButton.LeftButton)
    dialog = screen.dialog
    assert isinstance(dialog, AssignDialog)
    qtbot.keyClicks(dialog.username, "nobody")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, worker)
    assert "no active officer" in dialog.shown_errors()["username"]
    dialog.username.clear()
    qtbot.keyClicks(dialog.username, "handler2")
    dialog.team_role.setCurrentText(TeamRole.CO_HANDLER.label)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Co-handler: handler2" in screen.team_label.text(), timeout=5000)
    assert "Co-handler: handler2" in screen.team_label.text()


def test_the_register_form_places_problems_by_their_finding_field(
    qtbot: QtBot, worker: DbWorker, world: World
) -> None:
    # A refusal that names no field goes on top, not under whichever field was guessed.
    # (Both dialogs stay referenced: pytest-qt holds widgets weakly, and a dialog without a
    # parent collected mid-test takes Qt's objects with it at an arbitrary moment.)
    refused = RegisterDialog(world["handler1"], worker, None)
    qtbot.addWidget(refused)
    refused.show()
    qtbot.keyClicks(refused.pseudonym, "Osprey")
    qtbot.mouseClick(refused.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: refused.error.isVisible(), timeout=10_000)
    assert refused.shown_errors() == {}

    # The pseudonym's own finding lands under the pseudonym, in its own words.
    dialog = RegisterDialog(world["keeper"], worker, None)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.pseudonym, "P" * 200)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "pseudonym" in dialog.shown_errors(), timeout=10_000)
    assert dialog.shown_errors()["pseudonym"].startswith("The pseudonym must be 1 to")
    assert not dialog.error.isVisible()
    wait_idle(qtbot, worker)


def test_the_list_pages_on_the_worker_with_the_filter_in_sql(
    qtbot: QtBot, qtmodeltester: ModelTester, worker: DbWorker, world: World
) -> None:
    urns = [sources.register_source(world["keeper"], f"Pipit {n}").urn for n in range(8)]
    screen = SourcesScreen(worker, page_size=3)
    qtbot.addWidget(screen)
    screen.resize(1100, 300)
    screen.show()
    screen.open(world["keeper"])
    wait_idle(qtbot, worker)
    assert screen.search_field() is screen.filter
    model = screen.model
    qtmodeltester.check(model, force_py=True)  # watching the reset and the pages below
    _filter(qtbot, worker, screen, "pipit")
    while model.canFetchMore():
        model.fetchMore()
        wait_idle(qtbot, worker)
    assert model.pages_fetched == 3  # pages of 3, 3 and 2, each read after the last URN
    assert _urns(screen) == sorted(urns) and screen.count.text() == "8 sources"
    assert screen.empty.isHidden()

    _filter(qtbot, worker, screen, "pipit 7")
    assert _urns(screen) == [urns[7]]
    screen.status_filter.setCurrentIndex(screen.status_filter.findData("authorised"))
    wait_idle(qtbot, worker)
    assert _urns(screen) == [] and screen.count.text() == "0 sources"
    assert not screen.empty.isHidden() and "No source matches" in screen.empty.text()


def test_an_empty_list_says_what_it_will_hold_and_how_to_add_one(
    qtbot: QtBot, worker: DbWorker, world: World
) -> None:
    screen = _screen(qtbot, worker, world, ADMIN)  # an administrator holds no caseload
    assert _urns(screen) == [] and not screen.empty.isHidden()
    assert "will hold the sources on your caseload" in screen.empty.text()
    assert "assigns you" in screen.empty.text()
    assert empty_text(False, True).endswith("use Register source… to add the first.")
