"""The local policy screen: every setting, grouped, with its help, its editor and its history.

Edits are checked as they are typed (``domain.policy.check_changes``, the same rules the
service applies) and shown under the field. Saving asks a second administrator to approve,
then runs the change on the worker. Officers without the administrator role see the policy
read-only. Unsaved edits survive a lock and come back when the same officer logs in again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.domain.changes import Kind
from cim_desktop.domain.policy.settings import SETTINGS, SettingInvalid, check_changes, display
from cim_desktop.errors import CimError
from cim_desktop.services.policy import settings as policy
from cim_desktop.ui.kit.approval_dialog import request_approval as approval_dialog
from cim_desktop.ui.kit.operation import Operation
from cim_desktop.ui.kit.screen import Screen
from cim_desktop.ui.kit.widgets import note
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.policy.editors import SettingRow

if TYPE_CHECKING:
    from cim_desktop.services.access.approval import Approval
    from cim_desktop.services.policy.settings import PolicyView
    from cim_desktop.services.session import Session

# Ask a second administrator to approve: (parent, session, purpose, what is to be approved,
# done). ``done(approval)`` follows once they have typed their password; nothing follows if
# they cancel. A ``CimError`` raised at once is shown on the screen. The default is the
# approval dialog; tests may pass their own.
RequestApproval = Callable[["QWidget", "Session", str, str, Callable[["Approval"], None]], None]


class PolicyScreen(Screen):
    title = "Local policy"
    intro = (
        "The unit's local rules, shipped with sensible defaults. A change needs a second "
        "administrator's approval and is recorded in the audit trail with its old and new value."
    )
    help_topic = "policy"
    # Officers: whether a second administrator exists decides if saving asks for approval.
    kinds = frozenset({Kind.POLICY, Kind.OFFICERS})
    saved = Signal(list)  # the keys that changed

    def __init__(
        self,
        worker: DbWorker,
        parent: QWidget | None = None,
        request_approval: RequestApproval | None = None,
    ) -> None:
        super().__init__(worker, parent)
        self._request_approval = request_approval or self._ask_second_administrator
        self._view: PolicyView | None = None
        self._kept: tuple[str, dict[str, Any]] | None = None  # (officer id, unsaved edits)
        self._saving = False
        self._save_step = 0
        self._left_by: Session | None = None  # while closing: whose edits are kept

        self.read_only_note = QLabel(
            "You can read the local policy. Only an administrator may change it."
        )
        self.read_only_note.setObjectName("instruction")
        self.approval_note = note("")
        self.rows: dict[str, SettingRow] = {}
        self.groups: dict[str, QFrame] = {}
        groups = QWidget()
        column = QVBoxLayout(groups)
        column.setContentsMargins(0, 0, 12, 0)
        column.setSpacing(6)
        by_group: dict[str, QVBoxLayout] = {}
        for setting in SETTINGS:
            if setting.group not in by_group:
                title = QLabel(setting.group)
                title.setObjectName("subheading")
                card = QFrame()
                card.setObjectName("card")
                by_group[setting.group] = QVBoxLayout(card)
                by_group[setting.group].setContentsMargins(16, 6, 16, 6)
                self.groups[setting.group] = card
                if column.count():
                    column.addSpacing(8)
                column.addWidget(title)
                column.addWidget(card)
            row = SettingRow(setting)
            row.edited.connect(self._edited)
            self.rows[setting.key] = row
            if by_group[setting.group].count():
                line = QFrame()
                line.setFrameShape(QFrame.Shape.HLine)
                line.setStyleSheet("color: #e1e4e8;")
                by_group[setting.group].addWidget(line)
            by_group[setting.group].addWidget(row)
        column.addStretch(1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setWidget(groups)

        self.form_error = QLabel()
        self.form_error.setObjectName("formError")
        self.form_error.setWordWrap(True)
        self.form_error.hide()
        self.status = note("")
        self.discard_button = QPushButton("Discard changes")
        self.discard_button.clicked.connect(self.discard)
        self.save_button = QPushButton("Save changes…")
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self.save)
        bar = QHBoxLayout()
        bar.addWidget(self.status, 1)
        bar.addWidget(self.discard_button)
        bar.addWidget(self.save_button)

        content = QWidget()
        content_box = QVBoxLayout(content)
        content_box.setContentsMargins(0, 0, 0, 0)
        content_box.addWidget(self.read_only_note)
        content_box.addWidget(self.approval_note)
        content_box.addWidget(self.scroll_area, 1)
        content_box.addWidget(self.form_error)
        content_box.addLayout(bar)
        self.message = note("")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # The message until the policy has been read (and after a lock), then the settings.
        self.pages = QStackedWidget()
        self.pages.addWidget(self.message)
        self.pages.addWidget(content)
        self.set_content(self.pages)

    # -- loading ------------------------------------------------------------------------
    def open(self, session: Session) -> None:
        """Show the policy for ``session``'s officer (the first read is audited)."""
        self._view = None
        self.message.setText("Loading the policy…")
        self.pages.setCurrentIndex(0)
        super().open(session)

    def fetch(self, session: Session) -> PolicyView:
        # Opening the screen is recorded; reloading after a change elsewhere is not.
        return policy.open_view(session) if self._view is None else policy.refresh_view(session)

    def show_data(self, data: Any) -> None:
        if self._saving:
            return  # the save shows the policy it leaves in force
        # Edits in progress survive a reload (an invalid one included).
        self._show_view(data, self._edits() if self._view is not None else None)

    def clear(self) -> None:
        """Drop the content (the vault is locking); unsaved edits are kept for the same
        officer's return, as policy values are neither secrets nor identities."""
        session = self.session or self._left_by
        if session is not None and self._view is not None:
            edits = self._edits()
            self._kept = (session.officer.id, edits) if edits else None
        self._view = None
        self._saving = False
        self.message.setText("")
        self.pages.setCurrentIndex(0)
        for row in self.rows.values():
            row.history.clear()
            row.error.clear_error()
        self.form_error.hide()

    def close_view(self) -> None:
        self._left_by = self.session
        super().close_view()
        self._left_by = None

    # -- filling --------------------------------------------------------------------------
    def _show_view(self, view: PolicyView, edits: dict[str, Any] | None = None) -> None:
        if self.session is None:
            return
        self._view = view
        kept, self._kept = self._kept, None
        if edits is None and kept is not None and kept[0] == self.session.officer.id:
            edits = kept[1]
        self._set_ranks(view.policy.ranks)
        for state in view.states:
            self.rows[state.setting.key].show_state(state)
        for key, value in (edits or {}).items():
            self.rows[key].editor.set_value(value)
        self._set_ranks(self._pending_ranks())
        editable = view.can_change
        self.read_only_note.setVisible(not editable)
        for row in self.rows.values():
            row.editor.set_editable(editable)
        self.status.setVisible(editable)
        self.save_button.setVisible(editable)
        self.discard_button.setVisible(editable)
        self.approval_note.setVisible(editable)
        self.approval_note.setText(
            "Saving asks a second administrator to type their password."
            if view.approval_needed
            else "This vault has a single administrator, so changes are made alone for now; "
            "the audit trail marks them as made before a second administrator existed."
        )
        self.form_error.hide()
        self.pages.setCurrentIndex(1)
        self._revalidate()
        if edits and kept is not None:
            self.status.setText("Your unsaved changes from before the lock are still here.")

    def _set_ranks(self, ranks: tuple[str, ...]) -> None:
        for row in self.rows.values():
            row.editor.set_ranks(ranks)

    # -- editing --------------------------------------------------------------------------
    def _edits(self) -> dict[str, Any]:
        """What the editors hold that differs from the policy in force, as entered (valid
        or not)."""
        if self._view is None:
            return {}
        base = self._view.policy
        return {
            key: value
            for key, row in self.rows.items()
            if (value := row.editor.value()) != base[key]
        }

    def _pending_ranks(self) -> tuple[str, ...]:
        return tuple(r.strip() for r in self.rows["ranks"].editor.value())

    def _check(self) -> tuple[dict[str, Any], dict[str, str]]:
        if self._view is None:
            return {}, {}
        base = self._view.policy
        # Only what differs is checked as a change, so a rule between two settings is
        # reported at the one the officer touched.
        clean, errors = check_changes(base, self._edits())
        return ({k: v for k, v in clean.items() if v != base[k]}, errors)

    def unsaved_changes(self) -> dict[str, Any]:
        """The edits that differ from the policy in force, in their proper types."""
        return self._check()[0]

    def _edited(self, key: str) -> None:
        if key == "ranks":
            self._set_ranks(self._pending_ranks())
        self.form_error.hide()
        self._revalidate()

    def _revalidate(self) -> dict[str, str]:
        changes, errors = self._check()
        for key, row in self.rows.items():
            row.error.show_error(errors.get(key, ""))
            row.restore_button.setVisible(
                self._can_change() and row.editor.value() != row.setting.default
            )
            row.restore_button.setEnabled(not self._saving)
            font = row.label.font()
            font.setItalic(key in changes)
            row.label.setFont(font)
        count = len(changes)
        if errors:
            self.status.setText(
                f"Correct the {len(errors)} marked setting"
                f"{'s' if len(errors) != 1 else ''} before saving."
            )
        elif count:
            self.status.setText(
                f"{count} unsaved change{'s' if count != 1 else ''} (shown in italics)."
            )
        else:
            self.status.setText("No unsaved changes.")
        ready = bool(count) and not errors and not self._saving
        self.save_button.setEnabled(ready)
        self.discard_button.setEnabled(bool(count or errors) and not self._saving)
        return errors

    def _can_change(self) -> bool:
        return self._view is not None and self._view.can_change

    def discard(self) -> None:
        if self._view is not None:
            self._show_view(self._view, {})

    # -- saving ---------------------------------------------------------------------------
    def save(self) -> None:
        session, view = self.session, self._view
        if session is None or view is None or self._saving:
            return
        changes, errors = self._check()
        if errors or not changes:
            self._revalidate()
            return
        self._set_saving(True)
        self._saving_op(lambda: policy.approval_needed(session)).success(
            lambda needed: self._approve(session, changes, needed)
        ).run()

    def _saving_op[T](self, work: Callable[[], T]) -> Operation[T]:
        # Saving is two steps (is an approval needed? then the change); the first step's end
        # must not re-enable the form while the second is running.
        self._save_step += 1
        step = self._save_step

        def settle() -> None:
            if step == self._save_step:
                self._set_saving(False)

        return (
            self.operation(work)
            .handle(self._save_refused)
            .user_errors(lambda message: self._show_form_error(f"Nothing was saved. {message}"))
            .finally_(settle)
        )

    def _approve(self, session: Session, changes: dict[str, Any], needed: bool) -> None:
        if session is not self.session:
            return
        if not needed:
            self._commit(session, changes, None)
            return
        summary = "\n".join(self._describe(key, value) for key, value in changes.items())
        self._set_saving(False)  # the dialog may be cancelled: the form stays editable
        try:
            self._request_approval(
                self,
                session,
                policy.PURPOSE,
                summary,
                lambda approval: self._commit(session, changes, approval),
            )
        except CimError as exc:
            self._show_form_error(exc.message)

    def _ask_second_administrator(
        self,
        parent: QWidget,
        session: Session,
        purpose: str,
        summary: str,
        done: Callable[[Approval], None],
    ) -> None:
        approval_dialog(parent, session, policy.ADMINS, purpose, summary, done, self.worker)

    def _describe(self, key: str, value: Any) -> str:
        setting = self.rows[key].setting
        old = self._view.policy[key] if self._view is not None else setting.default
        return f"{setting.label}: {display(setting, old)} → {display(setting, value)}"

    def _commit(self, session: Session, changes: dict[str, Any], approval: Approval | None) -> None:
        if session is not self.session:
            return
        self._set_saving(True)

        def run() -> tuple[list[str], PolicyView]:
            keys = policy.change_many(session, changes, approval)
            return keys, policy.refresh_view(session)

        # What changed (and a refusal's audit row) is published by the operation; the save
        # returns the policy now in force, so this screen need not reload for it.
        self._saving_op(run).initiated_by(self.load_tag).success(self._saved).run()

    def _saved(self, result: tuple[list[str], PolicyView]) -> None:
        keys, view = result
        self._saving = False
        self._save_step += 1  # settled here, with the saved policy shown
        self._show_view(view, {})
        self.status.setText(f"Saved: {len(keys)} setting{'s' if len(keys) != 1 else ''} changed.")
        self.saved.emit(keys)

    def _save_refused(self, exc: CimError) -> bool:
        if not isinstance(exc, SettingInvalid):
            return False
        for key, text in exc.errors.items():
            if key in self.rows:
                self.rows[key].error.show_error(text)
        self._show_form_error("Nothing was saved: correct the marked settings.")
        return True

    def _set_saving(self, saving: bool) -> None:
        self._saving = saving
        if saving:
            self.save_button.setEnabled(False)
            self.discard_button.setEnabled(False)
            self.status.setText("Saving…")
        elif self._view is not None:
            self._revalidate()

    def _show_form_error(self, text: str) -> None:
        self.form_error.setText(text)
        self.form_error.show()
