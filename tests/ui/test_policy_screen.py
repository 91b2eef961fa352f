"""The policy screen over a real vault: editors, inline errors, saving with a second
administrator's approval, restoring defaults, and the read-only view."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QListWidget, QSpinBox, QWidget
from pytestqt.qtbot import QtBot

from cim_desktop.domain.changes import ChangeSet, Kind
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.policy.settings import BY_KEY, RANKS, SETTINGS, Policy
from cim_desktop.errors import InvalidInput
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.access import approval
from cim_desktop.services.access.approval import Approval
from cim_desktop.services.policy import settings as policy
from cim_desktop.services.session import Session
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from cim_desktop.ui.kit.approval_dialog import ApprovalDialog
from cim_desktop.ui.kit.changes import bus
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.policy.editors import ListEditor, NumberEditor, RankEditor, TextEditor
from cim_desktop.ui.policy.screen import PolicyScreen
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.officer_helpers import add_officer
from tests.ui.conftest import wait_idle

CAROL, CAROL_PASSWORD = "carol", "second admin on nights"
AUDREY, AUDREY_PASSWORD = "audrey", "an auditor password"
Done = Callable[[Approval], None]


class Approver:
    """Stands in for the approval dialog: records what it was asked, answers as told."""

    def __init__(self, username: str = "", password: str = "") -> None:
        self.username, self.password = username, password
        self.asked: list[str] = []

    def __call__(
        self, parent: QWidget, session: Session, purpose: str, summary: str, done: Done
    ) -> None:
        self.asked.append(summary)
        if not self.username:
            raise AssertionError("no approval should have been asked for")
        done(approval.second_officer(session, self.username, self.password, policy.ADMINS, purpose))


def _screen(
    qtbot: QtBot, worker: DbWorker, session: Session, approver: Approver | None
) -> PolicyScreen:
    screen = PolicyScreen(worker, request_approval=approver)
    qtbot.addWidget(screen)
    screen.resize(1000, 700)
    screen.show()
    screen.open(session)
    wait_idle(qtbot, worker)
    assert screen.pages.currentIndex() == 1
    return screen


def _audit(session: Session, action: str) -> list[dict[str, object]]:
    return [
        {"entity": r.entity_id, **json.loads(r.detail)}
        for r in session.db.audit.page(limit=100)
        if r.action == action and r.entity_type != "officer"
    ]  # not officer set-up rows


@pytest.fixture
def two_admins(new_vault: NewVault) -> Session:
    # The auditor first: while there is one administrator, neither needs an approval.
    add_officer(new_vault.session, AUDREY, AUDREY_PASSWORD, [Role.AUDITOR])
    add_officer(new_vault.session, CAROL, CAROL_PASSWORD, [Role.ADMINISTRATOR])
    return new_vault.session


@pytest.fixture
def audrey(
    two_admins: Session, vault_dir: Path, keyring_store: DeviceSecretStore
) -> Iterator[Session]:
    session = unlock(vault_dir, AUDREY, AUDREY_PASSWORD, keyring_store)
    yield session
    session.close()


def test_every_setting_is_shown_grouped_with_a_fitting_editor(
    qtbot: QtBot, worker: DbWorker, new_vault: NewVault
) -> None:
    screen = _screen(qtbot, worker, new_vault.session, Approver())
    assert list(screen.groups) == list(dict.fromkeys(s.group for s in SETTINGS))
    for key, row in screen.rows.items():
        assert screen.groups[BY_KEY[key].group].isAncestorOf(row)
    assert list(screen.rows) == [s.key for s in SETTINGS]
    idle = screen.rows["idle_lock_minutes"]
    assert isinstance(idle.editor, NumberEditor)
    assert (idle.editor.spin.minimum(), idle.editor.spin.maximum()) == (1, 60)
    assert idle.help.text().startswith("The application locks")
    assert screen.rows["same_gender_officer"].findChild(QCheckBox).isChecked()
    combo = screen.rows["ao_rank_standard"].findChild(QComboBox)
    assert [combo.itemText(i) for i in range(combo.count())] == list(RANKS)
    assert combo.currentText() == "Superintendent"
    ranks = screen.rows["ranks"].findChild(QListWidget)
    assert ranks.count() == len(RANKS)
    assert ranks.visualItemRect(ranks.item(0)).height() > 0  # the view shows the entries
    assert all(
        r.history.text() == "Shipped default" and r.restore_button.isHidden()
        for r in screen.rows.values()
    )
    assert not screen.save_button.isEnabled() and screen.read_only_note.isHidden()
    assert [v["entity"] for v in _audit(new_vault.session, "view")] == ["*"]


def test_inline_errors_name_the_setting_and_block_saving(
    qtbot: QtBot, worker: DbWorker, new_vault: NewVault
) -> None:
    screen = _screen(qtbot, worker, new_vault.session, Approver())
    urn = screen.rows["urn_format"]
    assert isinstance(urn.editor, TextEditor)
    urn.editor.line.clear()
    qtbot.keyClicks(urn.editor.line, "DSU-{year}")
    assert urn.error.isVisible()
    assert urn.error.text() == "URN format: must contain {number}."
    assert not screen.save_button.isEnabled() and "Correct the 1" in screen.status.text()
    qtbot.keyClicks(urn.editor.line, "-{number:03d}")
    assert urn.error.isHidden() and screen.save_button.isEnabled()

    controller = screen.rows["payment_controller_limit"]
    assert isinstance(controller.editor, NumberEditor)
    controller.editor.spin.setValue(3_000)
    assert "must not exceed 2,500" in controller.error.text()
    assert not screen.save_button.isEnabled()
    lifetime = screen.rows["payment_lifetime_limit"]
    assert isinstance(lifetime.editor, NumberEditor)
    lifetime.editor.spin.setValue(9_000)
    assert "must be at least 10,000" in lifetime.error.text()
    assert screen.rows["payment_yearly_limit"].error.isHidden()
    lifetime.restore_button.click()
    controller.restore_button.click()
    assert controller.editor.value() == 250 and controller.error.isHidden()
    screen.discard_button.click()
    assert urn.editor.value() == "DSU-{year}-{number:04d}"
    assert screen.status.text() == "No unsaved changes."


def test_the_rank_list_drives_the_rank_pickers(
    qtbot: QtBot, worker: DbWorker, new_vault: NewVault
) -> None:
    screen = _screen(qtbot, worker, new_vault.session, Approver())
    ranks = screen.rows["ranks"].editor
    standard = screen.rows["ao_rank_standard"]
    assert isinstance(ranks, ListEditor) and isinstance(standard.editor, RankEditor)
    ranks.add_entry("Commissioner")
    combo = standard.editor.combo
    assert combo.findText("Commissioner") == len(RANKS)
    ranks.list.setCurrentRow(RANKS.index("Superintendent"))
    ranks.remove_button.click()
    assert "'Superintendent' is no longer a rank" in standard.error.text()
    assert not screen.save_button.isEnabled()
    combo.setCurrentIndex(combo.findText("Chief Superintendent"))
    assert standard.error.isHidden() and screen.save_button.isEnabled()
    ranks.list.setCurrentRow(0)
    ranks.list.currentItem().setText("Sergeant")  # a duplicate
    assert "distinct" in screen.rows["ranks"].error.text()


def test_saving_asks_a_second_administrator_and_records_both(
    qtbot: QtBot, worker: DbWorker, two_admins: Session
) -> None:
    approver = Approver(CAROL, CAROL_PASSWORD)
    screen = _screen(qtbot, worker, two_admins, approver)
    assert "second administrator" in screen.approval_note.text()
    idle = screen.rows["idle_lock_minutes"]
    assert isinstance(idle.editor, NumberEditor)
    idle.editor.spin.setValue(10)
    assert idle.label.font().italic() and screen.save_button.isEnabled()
    with qtbot.waitSignal(screen.saved) as saved:
        screen.save_button.click()
    wait_idle(qtbot, worker)
    assert saved.args == [["idle_lock_minutes"]]
    assert approver.asked == ["Lock after idle (minutes): 5 → 10"]
    assert policy.current(two_admins).number("idle_lock_minutes") == 10
    assert idle.history.text().endswith(f"by {ADMIN}; approved by {CAROL}")
    assert not idle.label.font().italic() and screen.status.text() == "Saved: 1 setting changed."
    (row,) = _audit(two_admins, "update")
    assert (row["old"], row["new"], row["approved_by_username"]) == (5, 10, CAROL)

    # Restoring the default is a change like any other.
    idle.restore_button.click()
    assert idle.editor.value() == 5
    with qtbot.waitSignal(screen.saved):
        screen.save_button.click()
    wait_idle(qtbot, worker)
    assert policy.current(two_admins) == Policy.defaults()
    assert idle.history.text().startswith("Default restored")


def test_the_same_officer_twice_saves_nothing(
    qtbot: QtBot, worker: DbWorker, two_admins: Session
) -> None:
    screen = _screen(qtbot, worker, two_admins, Approver(ADMIN, ADMIN_PASSWORD))
    screen.rows["meeting_min_officers"].editor.set_value(3)
    screen.rows["meeting_min_officers"].edited.emit("meeting_min_officers")
    screen.save_button.click()
    wait_idle(qtbot, worker)
    assert screen.form_error.isVisible() and "different person" in screen.form_error.text()
    assert screen.unsaved_changes() == {"meeting_min_officers": 3}
    assert screen.save_button.isEnabled()

    # Even an approval naming the officer themself, were a dialog to hand one over.
    def own(parent: QWidget, session: Session, purpose: str, summary: str, done: Done) -> None:
        done(Approval(session.officer.id, ADMIN, Role.ADMINISTRATOR, purpose, iso_utc(utc_now())))

    screen._request_approval = own
    screen.save_button.click()
    wait_idle(qtbot, worker)
    assert "Nothing was saved" in screen.form_error.text()
    assert "different person" in screen.form_error.text()
    assert policy.current(two_admins) == Policy.defaults()
    assert _audit(two_admins, "update") == []


def test_the_approval_dialog_refuses_the_same_officer_then_takes_another(
    qtbot: QtBot, worker: DbWorker, two_admins: Session
) -> None:
    screen = _screen(qtbot, worker, two_admins, None)  # the real dialog
    screen.rows["idle_lock_minutes"].findChild(QSpinBox).setValue(10)
    screen.save_button.click()
    qtbot.waitUntil(lambda: screen.findChild(ApprovalDialog) is not None)
    dialog = screen.findChild(ApprovalDialog)
    assert dialog.summary.text() == "Lock after idle (minutes): 5 → 10"
    qtbot.keyClicks(dialog.username, ADMIN)
    qtbot.keyClicks(dialog.password, ADMIN_PASSWORD)
    dialog.approve_button.click()
    qtbot.waitUntil(dialog.error.isVisible)
    assert "different person" in dialog.error.text()
    assert policy.current(two_admins) == Policy.defaults()
    dialog.username.clear()
    qtbot.keyClicks(dialog.username, CAROL)
    qtbot.keyClicks(dialog.password, CAROL_PASSWORD)
    with qtbot.waitSignal(screen.saved, timeout=10_000):
        dialog.approve_button.click()
    wait_idle(qtbot, worker)
    assert policy.current(two_admins).number("idle_lock_minutes") == 10
    assert screen.rows["idle_lock_minutes"].history.text().endswith(f"approved by {CAROL}")


def test_a_refused_approval_is_shown_not_raised(
    qtbot: QtBot, worker: DbWorker, two_admins: Session
) -> None:
    def refuse(parent: QWidget, session: Session, purpose: str, summary: str, done: Done) -> None:
        raise InvalidInput("The second officer must enter their username and password.")

    screen = _screen(qtbot, worker, two_admins, Approver())
    screen._request_approval = refuse
    screen.rows["same_gender_officer"].findChild(QCheckBox).click()
    screen.save_button.click()
    wait_idle(qtbot, worker)
    assert "username and password" in screen.form_error.text()
    assert policy.current(two_admins) == Policy.defaults()


def test_a_single_administrator_saves_alone(
    qtbot: QtBot, worker: DbWorker, new_vault: NewVault
) -> None:
    approver = Approver()  # fails the test if asked
    screen = _screen(qtbot, worker, new_vault.session, approver)
    assert "single administrator" in screen.approval_note.text()
    spin = screen.rows["break_glass_minutes"].findChild(QSpinBox)
    spin.setValue(30)
    with qtbot.waitSignal(screen.saved):
        screen.save_button.click()
    wait_idle(qtbot, worker)
    assert approver.asked == []
    assert (
        screen.rows["break_glass_minutes"].history.text().endswith("no second administrator then")
    )
    (row,) = _audit(new_vault.session, "update")
    assert row["approval"] == "bootstrap: no second administrator yet"


def test_a_non_administrator_sees_the_policy_read_only(
    qtbot: QtBot, worker: DbWorker, audrey: Session
) -> None:
    screen = _screen(qtbot, worker, audrey, Approver())
    assert screen.read_only_note.isVisible()
    assert screen.save_button.isHidden() and screen.discard_button.isHidden()
    assert screen.status.isHidden()
    assert screen.approval_note.isHidden()
    for row in screen.rows.values():
        assert row.restore_button.isHidden()
    assert not screen.rows["idle_lock_minutes"].findChild(QSpinBox).isEnabled()
    assert not screen.rows["urn_format"].editor.line.isEnabled()
    ranks = screen.rows["ranks"].editor
    assert isinstance(ranks, ListEditor) and ranks.add_button.isHidden()
    assert ranks.list.editTriggers() == ranks.list.EditTrigger.NoEditTriggers


def test_unsaved_edits_survive_a_lock_for_the_same_officer(
    qtbot: QtBot, worker: DbWorker, two_admins: Session, audrey: Session
) -> None:
    screen = _screen(qtbot, worker, two_admins, Approver())
    ranks = screen.rows["ranks"].editor
    confidential = screen.rows["ao_rank_confidential"].editor
    assert isinstance(ranks, ListEditor) and isinstance(confidential, RankEditor)
    ranks.add_entry("Commissioner")
    confidential.combo.setCurrentIndex(confidential.combo.findText("Commissioner"))
    screen.rows["urn_format"].editor.line.setText("X {number}")  # not valid yet
    screen.rows["urn_format"].edited.emit("urn_format")
    # A refresh (another screen changed officers) keeps them, the invalid one included.
    loads = screen.loads
    bus().publish(ChangeSet.of(Kind.OFFICERS), "another screen")
    qtbot.waitUntil(lambda: screen.loads > loads)
    assert screen.rows["urn_format"].editor.value() == "X {number}"
    assert screen.rows["urn_format"].error.isVisible()

    screen.close_view()
    assert screen.pages.currentIndex() == 0
    assert all(not r.history.text() for r in screen.rows.values())
    screen.open(two_admins)
    wait_idle(qtbot, worker)
    assert screen.unsaved_changes() == {
        "ranks": (*RANKS, "Commissioner"),
        "ao_rank_confidential": "Commissioner",
    }
    assert confidential.combo.currentText() == "Commissioner"
    assert screen.rows["urn_format"].editor.value() == "X {number}"
    assert "before the lock" in screen.status.text()
    # Another officer logging in after the lock does not get them.
    screen.close_view()
    screen.open(audrey)
    wait_idle(qtbot, worker)
    assert screen.rows["urn_format"].editor.value() == "DSU-{year}-{number:04d}"
    assert confidential.combo.currentText() == "Chief Constable"
