"""Every empty list says what it will hold and how to add the first item."""

from __future__ import annotations

from PySide6.QtCore import QStringListModel
from PySide6.QtWidgets import QListView
from pytestqt.qtbot import QtBot

from cim_desktop.domain.officers.roles import Role
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from cim_desktop.ui.account.screen import AccountScreen
from cim_desktop.ui.kit.empty_state import EmptyState
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.officers.screen import OfficersScreen
from cim_desktop.ui.review.screen import ReviewScreen
from cim_desktop.ui.shell.main_window import MainWindow
from tests.officer_helpers import add_officer
from tests.ui.conftest import wait_idle


def test_the_note_follows_the_rows(qtbot: QtBot) -> None:
    model = QStringListModel()
    view = QListView()
    view.setModel(model)
    qtbot.addWidget(view)
    view.resize(300, 200)
    view.show()
    empty = EmptyState.attach(view, "Nothing here yet. Add one with New.")
    assert empty.showing and empty.geometry() == view.viewport().rect()
    model.setStringList(["one"])
    assert not empty.showing
    model.removeRows(0, 1)
    assert empty.showing


def test_officers_and_declarations_say_what_they_hold(qtbot: QtBot, window: MainWindow) -> None:
    window.workspace.show_page("account")
    account = window.workspace.page("account").widget
    assert isinstance(account, AccountScreen)
    wait_idle(qtbot, window.worker)
    assert account.empty.isVisible()
    assert "Declare an association" in account.empty.text()

    window.workspace.show_page("officers")
    officers = window.workspace.page("officers").widget
    assert isinstance(officers, OfficersScreen)
    qtbot.waitUntil(lambda: officers.table.model().rowCount() == 1)
    assert not officers.empty.isVisible()
    officers.search.setText("nobody by this name")
    qtbot.waitUntil(officers.empty.isVisible)
    assert "New officer" in officers.empty.text()


def test_an_empty_review_queue_says_so(
    qtbot: QtBot, new_vault: NewVault, worker: DbWorker, keyring_store: DeviceSecretStore
) -> None:
    add_officer(new_vault.session, "auditor1", "a long auditor passphrase", [Role.AUDITOR])
    session = unlock(
        new_vault.session.paths.root, "auditor1", "a long auditor passphrase", keyring_store
    )
    screen = ReviewScreen(worker)
    qtbot.addWidget(screen)
    screen.show()
    screen.open(session)
    qtbot.waitUntil(lambda: screen.loads == 1)
    assert screen.empty.isVisible()
    assert "Nothing to review" in screen.empty.text()
    session.close()
