"""Logging in, which is unlocking: the login form, and the dialog that holds it at start-up.

The same form sits on the lock screen. Argon2id runs on the worker thread (it releases the
GIL), so the window keeps painting while the key is derived. The services are imported inside
the job: they pull in the crypto and database modules, which the first window does not need.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cim_desktop.errors import CimError, KeyringUnavailable, NoUsableKeyring, VaultTampered
from cim_desktop.ui.kit.widgets import heading, marked_frame, note
from cim_desktop.ui.kit.worker import DbWorker
from cim_desktop.ui.vault.keyring_panel import KeyringPanel

if TYPE_CHECKING:
    from cim_desktop.security.device_secret import DeviceSecretStore
    from cim_desktop.services.session import Session


def os_caps_lock() -> bool | None:
    """Caps Lock as the OS reports it, or None where there is no simple way to ask.

    Windows answers through GetKeyState. X11 and Wayland have no call that does not need the
    display connection's internals, so there the form infers Caps Lock from the letters typed
    (an upper-case letter without Shift) instead.
    """
    if sys.platform == "win32":
        import ctypes

        user32 = ctypes.WinDLL("user32")  # type: ignore[attr-defined,unused-ignore]
        return bool(user32.GetKeyState(0x14) & 1)  # VK_CAPITAL, toggled bit
    return None


# The seam for tests and platforms: the Caps Lock state, or None if unknown.
caps_lock_state: Callable[[], bool | None] = os_caps_lock


def _caps_from_key(event: QKeyEvent) -> bool | None:
    """What a typed letter says about Caps Lock (None: the key says nothing)."""
    text = event.text()
    if len(text) != 1 or not text.isalpha() or text.lower() == text.upper():
        return None
    shifted = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
    return text.isupper() != shifted


class LoginForm(QWidget):
    """Username and password; emits ``unlocked(Session)`` on success."""

    unlocked = Signal(object)
    recovery_requested = Signal()

    def __init__(
        self,
        root: Path,
        worker: DbWorker,
        keyring: DeviceSecretStore | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.root = root
        self._worker = worker
        self._keyring = keyring
        self._waiting = False

        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.username.setMaxLength(64)
        self.username.setAccessibleName("Username")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.username.returnPressed.connect(self.password.setFocus)
        self.password.returnPressed.connect(self.attempt)
        for field in (self.username, self.password):
            field.setMinimumWidth(260)
            field.textEdited.connect(self._edited)

        self.unit = QLabel()
        self.unit.setObjectName("subheading")
        # The name arrives after the keyring check: its line is kept from the start so that
        # the form does not jump when it appears.
        self.unit.setMinimumHeight(self.unit.fontMetrics().lineSpacing() + 4)
        keep = self.unit.sizePolicy()
        keep.setRetainSizeWhenHidden(True)
        self.unit.setSizePolicy(keep)
        self.unit.hide()
        self.error = QLabel()
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.caps_warning = QLabel("Caps Lock is on.")
        self.caps_warning.setObjectName("formError")
        # Room for both is kept while they are hidden, so that the window never jumps.
        for label, lines in ((self.error, 2), (self.caps_warning, 1)):
            label.setFixedHeight(lines * label.fontMetrics().lineSpacing() + 4)
            policy = label.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            label.setSizePolicy(policy)
            label.hide()
        self.password.installEventFilter(self)
        self.status = QLabel("Unlocking the vault…")
        self.status.setObjectName("note")
        self.status.hide()

        self.recover_button = QPushButton("Recover with recovery code…")
        self.recover_button.setObjectName("link")
        self.recover_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.recover_button.clicked.connect(self.recovery_requested)
        self.recover_button.hide()
        self.login_button = QPushButton("Log in")
        self.login_button.setObjectName("primary")
        self.login_button.setDefault(True)
        self.login_button.clicked.connect(self.attempt)
        # Hidden while the keyring works; see check_keyring().
        self.keyring_panel = KeyringPanel(worker, keyring)
        self.keyring_panel.checked.connect(self._keyring_checked)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(10)
        form.addRow("&Username", self.username)
        form.addRow("&Password", self.password)
        buttons = QHBoxLayout()
        buttons.addWidget(self.recover_button)
        buttons.addStretch(1)
        buttons.addWidget(self.status)
        buttons.addWidget(self.login_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        layout.addWidget(self.keyring_panel)
        layout.addWidget(self.unit)
        layout.addLayout(form)
        messages = QVBoxLayout()
        messages.setSpacing(0)
        messages.addWidget(self.caps_warning)
        messages.addWidget(self.error)
        layout.addLayout(messages)
        layout.addLayout(buttons)

    # -- behaviour ------------------------------------------------------------------------
    def set_unit(self, name: str) -> None:
        """Name the unit whose vault this is (known once the vault has been opened)."""
        self.unit.setText(f"Unit: {name}" if name else "")
        self.unit.setVisible(bool(name))

    def show_caps_lock(self, on: bool | None) -> None:
        if on is not None:
            self.caps_warning.setVisible(on)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.password:
            if event.type() == QEvent.Type.FocusIn:
                self.show_caps_lock(caps_lock_state())
            elif event.type() == QEvent.Type.KeyPress:
                key: QKeyEvent = event  # type: ignore[assignment]
                if key.key() == Qt.Key.Key_CapsLock:
                    # The OS state flips once the key is handled: ask after that.
                    QTimer.singleShot(0, lambda: self.show_caps_lock(caps_lock_state()))
                else:
                    self.show_caps_lock(_caps_from_key(key))
        return super().eventFilter(watched, event)

    def set_username(self, name: str) -> None:
        self.username.setText(name)
        (self.password if name else self.username).setFocus()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def show_recovery_route(self, on: bool) -> None:
        self.recover_button.setVisible(on)

    def reset(self) -> None:
        self.password.clear()
        self.show_error("")
        self._set_waiting(False)

    def check_keyring(self) -> None:
        """Ask whether the keyring works before the user types: without one no password
        can open the vault, and the form stays shut until "Check again" finds one. A missing
        entry for this vault is not found here; the unlock reports it with the recovery
        route, as before."""
        self.keyring_panel.check()

    def _keyring_checked(self, usable: bool) -> None:
        self._set_waiting(self._waiting)
        if not usable:
            self.show_error("")
            self.show_recovery_route(False)
            return
        if not self.username.text():
            self.username.setFocus()
        # The check's answer can arrive as the application closes: then nothing more is read.
        if not self.unit.text() and not self._worker.stopped:
            self._read_unit_name(self._keyring)

    def _read_unit_name(self, keyring: DeviceSecretStore | None) -> None:
        from cim_desktop.security.device_secret import DeviceSecretStore
        from cim_desktop.services.vault import slots
        from cim_desktop.services.vault.paths import VaultPaths
        from cim_desktop.ui.kit.operation import Operation

        paths = VaultPaths(self.root)
        store = keyring or DeviceSecretStore()
        Operation(self, self._worker, lambda: slots.unit_name(paths, store)).success(
            self.set_unit
        ).run()

    def _edited(self) -> None:
        if self.error.isVisible() and not self.recover_button.isVisible():
            self.show_error("")

    def attempt(self) -> None:
        if self._waiting or self.keyring_panel.usable is False:
            return
        username = self.username.text().strip()
        password = self.password.text()
        if not username or not password:
            self.show_error("Enter your username and password.")
            (self.username if not username else self.password).setFocus()
            return
        root, keyring = self.root, self._keyring

        def unlock() -> Session:
            from cim_desktop.services.vault import lifecycle as vault

            return vault.unlock(root, username, password, keyring)

        from cim_desktop.ui.kit.operation import Operation  # not needed before a login

        self.show_error("")
        self._set_waiting(True)
        # No session yet: nothing to publish. A bug still reaches the crash dialog.
        (
            Operation(self, self._worker, unlock)
            .success(self._succeeded)
            .handle(self._failed)
            .finally_(self._settle)
            .run()
        )

    def _settle(self) -> None:
        self.password.clear()
        self._set_waiting(False)

    def _set_waiting(self, on: bool) -> None:
        self._waiting = on
        usable = self.keyring_panel.usable is not False
        for widget in (self.username, self.password, self.login_button, self.recover_button):
            widget.setEnabled(not on and usable)
        self.status.setVisible(on)
        if on:
            self.setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.unsetCursor()

    def _succeeded(self, session: Session) -> None:
        self.password.clear()
        self._set_waiting(False)
        self.show_recovery_route(False)
        self.unlocked.emit(session)

    def _failed(self, exc: CimError) -> bool:
        self._settle()
        if isinstance(exc, NoUsableKeyring):  # the keyring went away after the check
            self.keyring_panel.show_problem(exc.message)
            return True
        self.show_error(exc.message)
        # Recovery is the way back from both: a keyring that lost the device secret, and a
        # vault.keys that fails its MAC (recovery re-seals it and records the finding).
        self.show_recovery_route(isinstance(exc, KeyringUnavailable | VaultTampered))
        self.password.setFocus()
        return True


RECOVERY_ROUTE = (
    "Forgotten your password? An administrator can give you a temporary one. On a new or "
    "rebuilt workstation, the vault opens with the unit's recovery code: the button for it "
    "appears here when this workstation cannot open the vault."
)


class LoginDialog(QDialog):
    """The start-up window when a vault exists."""

    logged_in = Signal(object)

    def __init__(
        self,
        root: Path,
        worker: DbWorker,
        keyring: DeviceSecretStore | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Log in — cim-desktop")
        self.session: Session | None = None
        self.recovery_dialog: QDialog | None = None
        self._worker = worker
        self._keyring = keyring
        self.form = LoginForm(root, worker, keyring)
        self.form.unlocked.connect(self._unlocked)
        self.form.recovery_requested.connect(self.open_recovery)

        body = QVBoxLayout()
        body.setContentsMargins(32, 24, 32, 28)
        body.setSpacing(10)
        body.addWidget(heading("Log in to the vault"))
        body.addWidget(
            note(
                "Logging in unlocks the encrypted vault on this workstation. "
                "Five wrong passwords lock the account until an administrator "
                "releases it."
            )
        )
        location = note(f"Vault: {root}")
        location.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        body.addWidget(location)
        body.addSpacing(8)
        body.addWidget(self.form)
        # The unit's name appears in the form once vault.keys has been read and checked.
        body.addWidget(note(RECOVERY_ROUTE))
        marked_frame(self, body, 500)
        self.form.username.setFocus()
        self.form.check_keyring()

    def _unlocked(self, session: Session) -> None:
        self.session = session
        self.logged_in.emit(session)
        self.accept()

    def open_recovery(self) -> None:
        from cim_desktop.ui.vault.recovery import RecoveryDialog

        dialog = RecoveryDialog(self.form.root, self._worker, self._keyring, self)
        dialog.recovered.connect(self._recovered)
        self.recovery_dialog = dialog
        dialog.open()

    def _recovered(self, rewrapped: int) -> None:
        self.form.show_recovery_route(False)
        self.form.show_error("")
        self.form.password.setFocus()
