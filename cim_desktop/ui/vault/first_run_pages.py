"""The first-run wizard's four pages: the fields each step shows, and nothing of the flow.

``FirstRunWizard`` (first_run.py) builds on this class and adds the navigation, the checks,
the creation of the vault and the recovery code's handling.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from cim_desktop.domain.officers.passwords import MIN_LENGTH
from cim_desktop.ui.kit.icons import icon
from cim_desktop.ui.kit.password_hint import StrengthHint, add_show_toggle
from cim_desktop.ui.kit.widgets import FieldError, form_field, mono_font, note, page
from cim_desktop.ui.vault.keyring_panel import KeyringPanel

MAX_UNIT_NAME = 120


class WizardPages(QDialog):
    UNIT, ADMIN, CODE, CONFIRM = range(4)
    _STEPS = (
        (
            "Name the unit",
            "No vault was found on this workstation. This wizard creates the unit's encrypted "
            "vault and its first administrator.",
        ),
        (
            "Create the first administrator",
            "This officer manages accounts and can release locked accounts. Logging in with this "
            "username and password unlocks the vault.",
        ),
        (
            "Record the recovery code",
            "The recovery code opens the vault if this workstation's keyring is lost or the "
            "workstation is replaced. It is shown here once and never again.",
        ),
        (
            "Confirm the recovery code",
            "Type the recovery code back from your written copy to prove it was recorded "
            "correctly.",
        ),
    )

    root: Path
    keyring_panel: KeyringPanel

    # Provided by the wizard: what the pages' buttons do.
    def copy_code(self) -> None:
        raise NotImplementedError

    def print_code(self) -> None:
        raise NotImplementedError

    def next(self) -> None:
        raise NotImplementedError

    def _update_buttons(self) -> None:
        raise NotImplementedError

    # -- pages ----------------------------------------------------------------------------
    def _unit_page(self) -> QWidget:
        self.unit_name = QLineEdit()
        self.unit_name.setObjectName("unitName")
        self.unit_name.setMaxLength(MAX_UNIT_NAME)
        self.unit_name.setPlaceholderText("for example: Dedicated Source Unit, North Division")
        self.unit_error = FieldError()
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(
            "&Unit name",
            form_field(
                self.unit_name, self.unit_error, "Shown in the window title and on reports."
            ),
        )
        holder = QWidget()
        holder.setLayout(form)
        location = note(f"The vault will be created in: {self.root}")
        location.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        steps = QLabel(
            "<p style='margin-bottom:6px'><b>What happens next</b></p>"
            "<ol style='margin-left:-20px'>"
            "<li>You create the first administrator account.</li>"
            "<li>The vault is created, encrypted with a key that only officers' passwords "
            "and this workstation's keyring can open.</li>"
            "<li>You are shown the vault's <b>recovery code</b> once. Have the unit's "
            "recovery sheet and a second officer ready to witness it.</li>"
            "<li>You type the code back, and the vault opens.</li></ol>"
        )
        steps.setObjectName("steps")
        steps.setWordWrap(True)
        return page(self.keyring_panel, holder, location, steps)

    def _admin_page(self) -> QWidget:
        self.admin_username = QLineEdit()
        self.admin_username.setObjectName("adminUsername")
        self.admin_username.setMaxLength(64)
        self.admin_display = QLineEdit()
        self.admin_display.setObjectName("adminDisplayName")
        self.admin_display.setMaxLength(120)
        self.admin_password = QLineEdit()
        self.admin_password.setObjectName("adminPassword")
        self.admin_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.admin_confirm = QLineEdit()
        self.admin_confirm.setObjectName("adminConfirm")
        self.admin_confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.username_error = FieldError()
        self.display_error = FieldError()
        self.password_error = FieldError()
        self.confirm_error = FieldError()
        self.admin_error = QLabel()
        self.admin_error.setObjectName("formError")
        self.admin_error.setWordWrap(True)
        self.admin_error.hide()
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(8)
        form.addRow(
            "&Username",
            form_field(
                self.admin_username,
                self.username_error,
                "Letters, digits, dots, hyphens or underscores.",
            ),
        )
        form.addRow(
            "&Display name",
            form_field(
                self.admin_display,
                self.display_error,
                "Optional: how colleagues recognise the account.",
            ),
        )
        form.addRow(
            "&Password",
            form_field(
                self.admin_password,
                self.password_error,
                f"At least {MIN_LENGTH} characters; a passphrase of several words is best.",
            ),
        )
        # The hint sits under the password it rates, before the repeat.
        self.strength_hint = StrengthHint(self.admin_password)
        form.addRow("", self.strength_hint)
        form.addRow("Password &again", form_field(self.admin_confirm, self.confirm_error))
        self.show_password = add_show_toggle(self.admin_password, self.admin_confirm)
        holder = QWidget()
        holder.setLayout(form)
        return page(holder, self.admin_error)

    def _code_page(self) -> QWidget:
        self.code_label = QLabel()
        self.code_label.setObjectName("recoveryCode")
        self.code_label.setFont(mono_font(22))
        self.code_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # Copying is allowed only through the button below.
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.code_label.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self.code_label.setAccessibleName("Recovery code")
        instruction = QLabel(
            "<b>Write this code down now</b> on the unit's recovery sheet, or print it. "
            "Seal the sheet and keep it under <b>two-person custody</b> (for example in the "
            "unit safe, signed for by two officers). Anyone holding this code and the vault "
            "files can open the vault. It will <b>not be shown again</b>."
        )
        instruction.setObjectName("instruction")
        instruction.setWordWrap(True)
        self.copy_button = QPushButton("Copy to clipboard")
        self.copy_button.clicked.connect(self.copy_code)
        self.copy_note = note("")
        self.recorded = QCheckBox("I have recorded the recovery code and it is in safe custody")
        self.recorded.toggled.connect(self._update_buttons)
        self.print_button = QPushButton(icon("printer"), "Print…")
        self.print_button.clicked.connect(self.print_code)
        copy_row = QHBoxLayout()
        copy_row.addWidget(self.print_button)
        copy_row.addWidget(self.copy_button)
        copy_row.addWidget(self.copy_note, 1)
        copy_holder = QWidget()
        copy_holder.setLayout(copy_row)
        copy_row.setContentsMargins(0, 0, 0, 0)
        return page(self.code_label, instruction, copy_holder, self.recorded)

    def _confirm_page(self) -> QWidget:
        self.typed_code = QLineEdit()
        self.typed_code.setObjectName("typedCode")
        self.typed_code.setFont(mono_font(14))
        self.typed_code.setPlaceholderText(
            "XXXXXX-XXXXXX-XXXXXX-XXXXXX-XXXXXX-XXXXXX-XXXXXX-XXXXXX"
        )
        self.typed_code.returnPressed.connect(self.next)
        self.typed_error = FieldError()
        self.typed_code.textEdited.connect(lambda _t: self.typed_error.clear_error())
        label = QLabel("Recovery code, from your written copy (dashes and spaces are optional):")
        label.setWordWrap(True)
        return page(
            label,
            self.typed_code,
            self.typed_error,
            note("The code is checked group by group, so a mistyped group is named."),
        )
