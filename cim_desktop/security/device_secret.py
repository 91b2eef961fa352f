"""The device secret D, held in the operating system's keyring.

Every failure here fails closed: no backend, a locked keyring, a missing entry or a
non-answer raises ``KeyringUnavailable``. Nothing here ever creates a replacement secret on
its own or writes a secret anywhere but the keyring.
"""

from __future__ import annotations

import base64
import binascii
import os

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from cim_desktop.errors import KeyringEntryMissing, KeyringUnavailable, NoUsableKeyring
from cim_desktop.security import keyring_check
from cim_desktop.security.keyring_check import Problem

SERVICE = "cim-desktop"
SECRET_BYTES = 32
# A read of an entry that is never written: None on a working keyring, an error on a locked
# or absent one, and nothing left behind.
_PROBE_ENTRY = "availability-check"
# Backends that would store the secret in plain text or nowhere.
_REFUSED_MODULE_PREFIXES = ("keyrings.alt", "keyring.backends.null", "keyring.backends.fail")


def _entry(vault_id: str) -> str:
    return f"vault:{vault_id}"


_PLAIN_NAMES = (
    ("keyring.backends.SecretService", "the Secret Service (GNOME Keyring or KWallet)"),
    ("keyring.backends.libsecret", "the Secret Service (GNOME Keyring or KWallet)"),
    ("keyring.backends.kwallet", "KWallet"),
    ("keyring.backends.Windows", "Windows Credential Manager"),
    ("keyring.backends.macOS", "the macOS Keychain"),
)


class DeviceSecretStore:
    """Reads and writes the device secret for a vault through one keyring backend."""

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend

    @property
    def backend(self) -> KeyringBackend:
        backend = self._backend if self._backend is not None else keyring.get_keyring()
        self._refuse_unsafe(backend)
        return backend

    def backend_name(self) -> str:
        backend = self._backend if self._backend is not None else keyring.get_keyring()
        return f"{type(backend).__module__}.{type(backend).__qualname__}"

    def plain_name(self) -> str:
        """The password store in words a user knows (messages say this, not a class name)."""
        backend = self._backend if self._backend is not None else keyring.get_keyring()
        module = type(backend).__module__
        for prefix, name in _PLAIN_NAMES:
            if module.startswith(prefix):
                return name
        return "the workstation's password store"

    @staticmethod
    def _refuse_unsafe(backend: KeyringBackend) -> None:
        # The user is told what is missing and how to fix it, not which class was found.
        module = type(backend).__module__
        chained = getattr(backend, "backends", None)
        if module.startswith(_REFUSED_MODULE_PREFIXES) or (
            chained is not None and not list(chained)
        ):
            raise NoUsableKeyring(keyring_check.message(Problem.MISSING))

    def problem(self) -> Problem | None:
        """None when the keyring can hold the device secret; otherwise what is wrong with it.
        Reads one entry that never exists, so it writes nothing and needs no vault."""
        try:
            backend = self.backend
        except NoUsableKeyring:
            return Problem.MISSING
        try:
            backend.get_password(SERVICE, _PROBE_ENTRY)
        except keyring.errors.KeyringLocked:
            return Problem.LOCKED
        except keyring.errors.NoKeyringError:
            return Problem.MISSING
        except keyring.errors.KeyringError:
            return Problem.FAILED
        return None

    def require_usable(self) -> None:
        """Raise ``NoUsableKeyring`` with the plain message for this platform when the keyring
        cannot be used: asked before anyone is asked for a password."""
        problem = self.problem()
        if problem is not None:
            raise NoUsableKeyring(keyring_check.message(problem))

    def get(self, vault_id: str) -> bytes:
        try:
            value = self.backend.get_password(SERVICE, _entry(vault_id))
        except keyring.errors.KeyringLocked:
            raise KeyringUnavailable("the keyring is locked") from None
        except keyring.errors.NoKeyringError:
            raise KeyringUnavailable("no keyring backend is available") from None
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(f"the keyring failed ({type(exc).__name__})") from None
        if value is None:
            raise KeyringEntryMissing()
        try:
            secret = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise KeyringUnavailable("the keyring entry for this vault is damaged") from None
        if len(secret) != SECRET_BYTES:
            raise KeyringUnavailable("the keyring entry for this vault is damaged")
        return secret

    def exists(self, vault_id: str) -> bool:
        """True only when a well-formed entry is present; keyring trouble propagates."""
        try:
            self.get(vault_id)
        except KeyringEntryMissing:
            return False
        return True

    def put(self, vault_id: str, secret: bytes) -> None:
        if len(secret) != SECRET_BYTES:
            raise ValueError("device secret must be 32 bytes")
        encoded = base64.b64encode(secret).decode("ascii")
        try:
            self.backend.set_password(SERVICE, _entry(vault_id), encoded)
        except keyring.errors.KeyringLocked:
            raise KeyringUnavailable("the keyring is locked") from None
        except keyring.errors.NoKeyringError:
            raise KeyringUnavailable("no keyring backend is available") from None
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(
                f"the keyring refused to store the secret ({type(exc).__name__})"
            ) from None
        # Read it back: a backend that accepts and drops writes must not leave a vault that
        # nobody can open.
        if self.get(vault_id) != secret:
            raise KeyringUnavailable("the keyring did not keep the device secret")

    def delete(self, vault_id: str) -> None:
        try:
            self.backend.delete_password(SERVICE, _entry(vault_id))
        except keyring.errors.PasswordDeleteError:
            return
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(f"the keyring failed ({type(exc).__name__})") from None


def new_secret() -> bytes:
    return os.urandom(SECRET_BYTES)
