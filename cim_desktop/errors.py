"""Errors the user or the environment caused.

Each carries a message fit to show a person as it is. None may ever contain a secret
or a source identity: messages are built from fixed text and safe identifiers only.
Bugs are not modelled here; they surface as ordinary exceptions and reach the crash
dialog or the command line's internal-error path.
"""

from __future__ import annotations


class CimError(Exception):
    """Base class: a problem with a clear, safe message for the user."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WrongCredentials(CimError):
    def __init__(self, note: str = "") -> None:
        super().__init__("Wrong username or password." + note)


class AccountLocked(CimError):
    def __init__(self, username: str) -> None:
        super().__init__(
            f"The account '{username}' is locked after repeated failed logins. "
            "Another officer with the administrator role must release it."
        )


class KeyringUnavailable(CimError):
    """The OS secret store could not give the device secret. Never fall back."""

    def __init__(self, cause: str) -> None:
        super().__init__(
            f"The vault cannot be opened on this workstation: {cause}. Nothing was created or "
            "changed. If this workstation's keyring was lost or replaced, open the vault with "
            "the recovery code (cim recover, or 'Recover with recovery code' at login)."
        )


class KeyringEntryMissing(KeyringUnavailable):
    """The keyring works but holds no device secret for this vault."""

    def __init__(self) -> None:
        super().__init__("the keyring has no device secret for this vault")


class NoUsableKeyring(KeyringUnavailable):
    """No secure keyring, or a locked or broken one: the message says how to fix it here.

    Not a lost device secret, so the recovery code is no answer and is not suggested."""

    def __init__(self, message: str) -> None:
        CimError.__init__(self, message)


class VaultNotFound(CimError):
    pass


class VaultExists(CimError):
    pass


class VaultCorrupt(CimError):
    """The file is not a cim-desktop vault, is damaged, or belongs to another key."""


class VaultTooNew(CimError):
    pass


class VaultBusy(CimError):
    pass


class InvalidInput(CimError):
    """Form, argument or file content the user supplied is not acceptable."""


class PermissionDenied(CimError):
    pass


class RecoveryCodeInvalid(CimError):
    pass


class StorageFull(CimError):
    def __init__(self) -> None:
        super().__init__("The disk is full. Nothing was saved; free some space and try again.")


class IntegrityFailure(CimError):
    """A verification found damage or tampering (exit status 1 on the command line)."""

    exit_code = 1


class SlotDisabled(CimError):
    """The officer's password is right but their slot holds no vault key (suspended)."""

    def __init__(self) -> None:
        super().__init__(
            "This account is suspended: its key slot no longer opens the vault. Only an "
            "administrator's reinstatement restores it."
        )


class VaultTampered(VaultCorrupt):
    """``vault.keys`` fails its authentication code: someone edited it without the keyring,
    or it has none. Exit status 1, as for any integrity finding."""

    exit_code = 1

    def __init__(self, name: str = "vault.keys", *, unsealed: bool = False) -> None:
        what = (
            "has no authentication code (it was written by an older cim-desktop, or the "
            "code was removed)"
            if unsealed
            else "was changed outside cim-desktop (its authentication code does not match)"
        )
        super().__init__(
            f"{name} {what}, so nobody can log in until it is repaired. Open the vault with "
            "the recovery code (cim recover, or 'Recover with recovery code' at login), which "
            "re-seals it and records what was found in the audit trail, or restore the vault "
            "from a backup."
        )
