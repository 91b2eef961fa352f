"""The Officers screen: list and filters, details (audited), create with inline validation,
role changes through a two-person approval, reset, release and suspend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from cim_desktop.domain.officers.model import OfficerStatus
from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import AccountLocked, WrongCredentials
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.session import Session
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from cim_desktop.ui.kit import dialogs
from cim_desktop.ui.kit.approval_dialog import ApprovalDialog
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.officers.dialogs import OfficerDialog, ResetPasswordDialog
from cim_desktop.ui.officers.model import Column
from cim_desktop.ui.officers.screen import OfficersScreen
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.officer_helpers import add_officer
from tests.ui.conftest import wait_idle

CAROL, CAROL_PW = "carol", "second admin on nights"
HANK, HANK_PW = "hank", "a handler password"


def _screen(qtbot: QtBot, worker: DbWorker, session: Session) -> OfficersScreen:
    screen = OfficersScreen(worker)
    qtbot.addWidget(screen)
    screen.resize(1200, 640)
    screen.show()
    screen.open(session)
    wait_idle(qtbot, worker)
    return screen


@pytest.fixture
def staffed(new_vault: NewVault) -> NewVault:
    s = new_vault.session
    add_officer(s, HANK, HANK_PW, [Role.HANDLER])
    add_officer(s, "rita", "record keeper password", [Role.RECORD_KEEPER])
    return new_vault


@pytest.fixture
def screen(qtbot: QtBot, staffed: NewVault, worker: DbWorker) -> Iterator[OfficersScreen]:
    yield _screen(qtbot, worker, staffed.session)


def _dialog_of[T](kind: type[T]) -> T:
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]
    assert len(found) == 1, found
    return found[0]


def _names(screen: OfficersScreen) -> list[str]:
    proxy = screen.proxy
    return [proxy.index(r, Column.USERNAME).data() for r in range(proxy.rowCount())]


def test_the_list_filters_and_reading_details_is_audited(
    qtbot: QtBot, screen: OfficersScreen, staffed: NewVault, qtmodeltester: ModelTester
) -> None:
    qtmodeltester.check(screen.model)
    qtmodeltester.check(screen.proxy)
    assert _names(screen) == [ADMIN, HANK, "rita"]
    assert screen.count_label.text() == "3 officers"
    screen.search.setText("HAN")
    assert _names(screen) == [HANK]
    assert screen.count_label.text() == "1 of 3 officers"
    screen.search.clear()
    screen.role_filter.setCurrentIndex(screen.role_filter.findData(Role.RECORD_KEEPER))
    assert _names(screen) == ["rita"]
    screen.status_filter.setCurrentIndex(screen.status_filter.findData(OfficerStatus.LEFT))
    assert _names(screen) == []
    screen.role_filter.setCurrentIndex(0)
    screen.status_filter.setCurrentIndex(0)

    assert screen.select(staffed.session.db.officers.by_username(HANK).id)  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: screen.details is not None)
    assert "National source handling course" in screen.details_text.text()
    assert "Handler: from" in screen.details_text.text()
    rows = staffed.session.db.audit.page(limit=5)
    assert [(r.action, r.entity_id) for r in rows[:1]] == [("view", screen.details.officer.id)]  # type: ignore[union-attr]
    assert any(r.action == "view" and r.entity_id == "*" for r in rows)

    # One's own account: particulars yes, roles and status no.
    assert screen.select(staffed.session.officer.id)
    qtbot.waitUntil(
        lambda: (
            screen.details is not None and screen.details.officer.id == staffed.session.officer.id
        )
    )
    assert not screen.reset_button.isEnabled() and not screen.suspend_button.isEnabled()
    qtbot.mouseClick(screen.edit_button, Qt.MouseButton.LeftButton)
    own = _dialog_of(OfficerDialog)
    assert not any(box.isEnabled() for box in own.role_boxes.values())
    own.reject()


def test_create_shows_inline_errors_then_creates_with_a_temporary_password(
    qtbot: QtBot, screen: OfficersScreen, staffed: NewVault, worker: DbWorker
) -> None:
    qtbot.mouseClick(screen.new_button, Qt.MouseButton.LeftButton)
    dialog = _dialog_of(OfficerDialog)
    before = staffed.session.db.audit.head()
    qtbot.keyClicks(dialog.username, "x")
    qtbot.keyClicks(dialog.display_name, "Pat Smith")
    qtbot.keyClicks(dialog.password, "short")
    qtbot.keyClicks(dialog.repeat, "other")
    dialog.role_boxes[Role.HANDLER].setChecked(True)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    errors = dialog.shown_errors()
    assert set(errors) == {"username", "password", "repeat", "roles"}
    assert "at least 12" in errors["password"] and "accreditation" in errors["roles"]
    assert not worker.busy and staffed.session.db.audit.head() == before

    dialog.username.setText("pat.smith")
    dialog.password.setText("pats first password")
    dialog.repeat.setText("pats first password")
    dialog.rank.setCurrentIndex(dialog.rank.findData("Sergeant"))
    dialog.accreditation.setChecked(True)
    assert dialog.course_fields is not None
    dialog.course_fields.course.setText("Covert handling level 2")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    wait_idle(qtbot, worker)
    assert "pat.smith" in _names(screen)
    made = staffed.session.db.officers.by_username("pat.smith")
    assert made is not None and made.rank == "Sergeant" and made.has(Role.HANDLER)
    row = screen.model.rows[[r.officer.username for r in screen.model.rows].index("pat.smith")]
    index = screen.model.index(screen.model.rows.index(row), Column.ACCOUNT)
    assert index.data() == "Temporary password"


def test_a_role_change_needs_a_second_officer_and_the_same_one_twice_fails(
    qtbot: QtBot, staffed: NewVault, worker: DbWorker
) -> None:
    s = staffed.session
    add_officer(s, CAROL, CAROL_PW, [Role.ADMINISTRATOR])
    screen = _screen(qtbot, worker, s)
    hank = s.db.officers.by_username(HANK)
    assert hank is not None
    screen.select(hank.id)
    qtbot.waitUntil(lambda: screen.edit_button.isEnabled())
    qtbot.mouseClick(screen.edit_button, Qt.MouseButton.LeftButton)
    dialog = _dialog_of(OfficerDialog)
    dialog.role_boxes[Role.CONTROLLER].setChecked(True)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: any(
            isinstance(w, ApprovalDialog) and w.isVisible() for w in QApplication.topLevelWidgets()
        ),
        timeout=10_000,
    )
    approve = _dialog_of(ApprovalDialog)
    assert "grant Controller" in approve.summary.text()

    qtbot.keyClicks(approve.username, ADMIN)
    qtbot.keyClicks(approve.password, ADMIN_PASSWORD)
    qtbot.mouseClick(approve.approve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: approve.error.isVisible(), timeout=10_000)
    assert "different person" in approve.error.text() and approve.isVisible()
    assert not s.db.officers.get(hank.id).has(Role.CONTROLLER)  # type: ignore[union-attr]

    approve.username.setText(CAROL)
    qtbot.keyClicks(approve.password, CAROL_PW)
    qtbot.mouseClick(approve.approve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    wait_idle(qtbot, worker)
    assert s.db.officers.get(hank.id).has(Role.CONTROLLER)  # type: ignore[union-attr]
    change = next(r for r in s.db.audit.page(limit=10) if r.action == "update")
    assert json.loads(change.detail)["approved_by_username"] == CAROL


def test_reset_release_and_suspend(
    qtbot: QtBot,
    screen: OfficersScreen,
    staffed: NewVault,
    worker: DbWorker,
    vault_dir: Path,
    keyring_store: DeviceSecretStore,
) -> None:
    s = staffed.session
    hank = s.db.officers.by_username(HANK)
    assert hank is not None
    with pytest.raises(AccountLocked):
        for _ in range(5):
            with pytest.raises(WrongCredentials):
                unlock(vault_dir, HANK, "not hanks password", keyring_store)
    screen.refresh()  # an unlock attempt by another process
    wait_idle(qtbot, worker)
    screen.select(hank.id)
    qtbot.waitUntil(lambda: screen.release_button.isEnabled())
    assert "locked" in screen.details_text.text()

    dialogs.set_next_answer(dialogs.Answer.YES)
    qtbot.mouseClick(screen.release_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, worker)
    qtbot.waitUntil(lambda: not screen.release_button.isEnabled())

    qtbot.mouseClick(screen.reset_button, Qt.MouseButton.LeftButton)
    reset = _dialog_of(ResetPasswordDialog)
    qtbot.keyClicks(reset.password, "temporary pass no 2")
    qtbot.keyClicks(reset.repeat, "temporary pass no 2")
    qtbot.mouseClick(reset.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not reset.isVisible(), timeout=10_000)
    wait_idle(qtbot, worker)
    assert s.db.officers.get(hank.id).must_change_password  # type: ignore[union-attr]

    screen.select(hank.id)
    qtbot.waitUntil(lambda: screen.suspend_button.isEnabled())
    dialogs.set_next_answer(dialogs.Answer.YES)
    qtbot.mouseClick(screen.suspend_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, worker)
    qtbot.waitUntil(
        lambda: (
            s.db.officers.get(hank.id).status  # type: ignore[union-attr]
            is OfficerStatus.SUSPENDED
        )
    )
    screen.select(hank.id)
    qtbot.waitUntil(lambda: screen.suspend_button.text() == "Reinstate")


def test_who_may_see_and_change(
    qtbot: QtBot,
    staffed: NewVault,
    worker: DbWorker,
    vault_dir: Path,
    keyring_store: DeviceSecretStore,
) -> None:
    add_officer(staffed.session, "pat", "professional standards", [Role.AUDITOR])
    auditor = unlock(vault_dir, "pat", "professional standards", keyring_store)
    screen = _screen(qtbot, worker, auditor)
    assert _names(screen) == [ADMIN, HANK, "pat", "rita"]
    assert not screen.new_button.isEnabled()
    screen.select(auditor.officer.id)
    qtbot.waitUntil(lambda: screen.details is not None)
    assert not any(
        b.isEnabled() for b in (screen.edit_button, screen.reset_button, screen.suspend_button)
    )
    screen.close_view()
    assert screen.model.rowCount() == 0 and screen.details is None
    auditor.close()

    hank = unlock(vault_dir, HANK, HANK_PW, keyring_store)
    other = _screen(qtbot, worker, hank)
    assert other.body.currentIndex() == 1 and "not permitted" in other.denied.text()
    hank.close()
