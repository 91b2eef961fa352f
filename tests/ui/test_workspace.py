"""The main window's navigation: screens offered by role, opened (and audited) on demand,
emptied on lock; idle time and clipboard clearing follow the unit's policy."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from cim_desktop.domain.officers.roles import Role
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.policy import settings as policy
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from cim_desktop.ui.kit import clipboard
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.shell.main_window import MainWindow
from tests.officer_helpers import add_officer
from tests.ui.conftest import wait_idle

HANDLER, HANDLER_PASSWORD = "h.jones", "a handler passphrase"


def _titles(window: MainWindow) -> list[str]:
    nav = window.workspace.nav
    return [nav.item(i).text() for i in range(nav.count())]


def _views(window: MainWindow, entity: str) -> int:
    session = window.session
    assert session is not None
    rows = session.db.audit.page(limit=200)
    return sum(1 for r in rows if r.action == "view" and r.entity_type == entity)


def test_an_administrator_is_offered_the_admin_screens(window: MainWindow) -> None:
    assert _titles(window) == ["Audit trail", "Officers", "Local policy", "My account"]
    assert window.workspace.current_key() == "audit"


def test_a_screen_is_read_and_audited_only_when_chosen(qtbot: QtBot, window: MainWindow) -> None:
    before = _views(window, "officer")  # the audit screen's officer filter reads the list
    assert _views(window, "policy") == 0
    window.workspace.show_page("officers")
    wait_idle(qtbot, window.worker)
    assert window.workspace.stack.currentWidget() is window.workspace.page("officers").widget
    assert _views(window, "officer") == before + 1
    window.workspace.show_page("audit")
    window.workspace.show_page("officers")  # already open in this session: no second read
    wait_idle(qtbot, window.worker)
    assert _views(window, "officer") == before + 1
    assert _views(window, "policy") == 0, "a screen nobody chose is never read"


def test_a_handler_sees_only_what_the_role_allows(
    qtbot: QtBot, new_vault: NewVault, worker: DbWorker, keyring_store: DeviceSecretStore
) -> None:
    add_officer(new_vault.session, HANDLER, HANDLER_PASSWORD, [Role.HANDLER])
    new_vault.session.lock()
    session = unlock(new_vault.session.paths.root, HANDLER, HANDLER_PASSWORD, keyring_store)
    main = MainWindow(session, worker, keyring_store)
    qtbot.addWidget(main)
    main.show()
    wait_idle(qtbot, worker)
    try:
        assert _titles(main) == ["Sources", "Local policy", "My account"]
        assert not main.verify_action.isEnabled()
        rows = session.db.audit.page(limit=50)
        assert not any(r.action == "denied" for r in rows), "nothing was tried and refused"
    finally:
        main.close()


def test_lock_empties_every_opened_screen(qtbot: QtBot, window: MainWindow) -> None:
    window.workspace.show_page("officers")
    wait_idle(qtbot, window.worker)
    officers = window.workspace.page("officers").widget
    clipboard.guard().copy("URN-2026-0001")
    window.lock()
    wait_idle(qtbot, window.worker)
    assert window.workspace.nav.count() == 0
    assert window.audit.model.rowCount() == 0
    assert officers.model.rowCount() == 0  # type: ignore[attr-defined]
    assert not clipboard.guard().pending


def test_idle_time_follows_the_policy(
    qtbot: QtBot, new_vault: NewVault, worker: DbWorker, keyring_store: DeviceSecretStore
) -> None:
    session = new_vault.session
    policy.change(session, "idle_lock_minutes", 2, None)  # one administrator: bootstrap
    main = MainWindow(session, worker, keyring_store)
    qtbot.addWidget(main)
    main.show()
    wait_idle(qtbot, worker)
    try:
        assert main.idle.timeout_ms == 2 * 60_000
        assert policy.current(session).number("idle_lock_minutes") == 2
    finally:
        main.close()
