"""Key slots: the vault key K wrapped for each officer and for the recovery code.

A user slot has two AES-256-GCM layers around K. The inner layer's key comes from the
officer's password (Argon2id, then HKDF); the outer layer's key comes from the device secret D
held in the OS keyring. Opening needs both, as with KEK = HKDF(D || Argon2id(password)), but
the outer layer can be re-wrapped under a new device secret without anyone's password, which is
what recovery on a new workstation has to do. The recovery slot wraps K together with D under
the stretched recovery code alone.

A user slot may also hold the officer's own checkpoint-signing key (Ed25519), sealed under
HKDF(D || Argon2id(password)) with its own info string: not under K, so holding the vault key
is not enough to sign a checkpoint in an officer's name. See ``services.signing_keys``.

Associated data binds every layer to the vault id, the slot owner and the layer's purpose, so a
slot copied between vaults or officers does not open.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cim_desktop.errors import (
    KeyringUnavailable,
    RecoveryCodeInvalid,
    VaultCorrupt,
    WrongCredentials,
)
from cim_desktop.security.kdf import KdfParams, hkdf

KEY_BYTES = 32
NONCE_BYTES = 12
_PASSWORD_INFO = b"cim-desktop/v1/password-layer"
_DEVICE_INFO = b"cim-desktop/v1/device-layer"
_RECOVERY_INFO = b"cim-desktop/v1/recovery-slot"
_SIGNER_INFO = b"cim-desktop/v1/checkpoint-signing-key"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise VaultCorrupt("The key-slot file is damaged (bad encoding).") from None


def _ad(vault_id: str, owner: str, layer: str) -> bytes:
    return f"cim-desktop|{vault_id}|{owner}|{layer}".encode()


def _seal(key: bytes, plaintext: bytes, ad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, ad)


def _open(key: bytes, blob: bytes, ad: bytes) -> bytes:
    if len(blob) < NONCE_BYTES + 16:
        raise InvalidTag()
    return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], ad)


def _device_key(device_secret: bytes, vault_id: str) -> bytes:
    return hkdf(device_secret, _DEVICE_INFO + b"|" + vault_id.encode())


@dataclass(frozen=True)
class UserSlot:
    user_id: str
    username: str
    kdf: KdfParams
    wrapped: bytes  # outer layer: nonce || AES-GCM(device key, inner)
    # nonce || AES-GCM(signer key, Ed25519 private bytes); absent until first made
    signing_key: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        data = {
            "user_id": self.user_id,
            "username": self.username,
            "kdf": self.kdf.to_json(),
            "wrapped": _b64(self.wrapped),
        }
        if self.signing_key is not None:
            data["signing_key"] = _b64(self.signing_key)
        return data

    @classmethod
    def from_json(cls, data: Any) -> UserSlot:
        try:
            return cls(
                str(data["user_id"]),
                str(data["username"]),
                KdfParams.from_json(data["kdf"]),
                _unb64(data["wrapped"]),
                _unb64(data["signing_key"]) if data.get("signing_key") is not None else None,
            )
        except (KeyError, TypeError, AttributeError):
            raise VaultCorrupt("The key-slot file is damaged (bad user slot).") from None


@dataclass(frozen=True)
class RecoverySlot:
    kdf: KdfParams
    wrapped: bytes  # nonce || AES-GCM(recovery key, K || D)

    def to_json(self) -> dict[str, Any]:
        return {"kdf": self.kdf.to_json(), "wrapped": _b64(self.wrapped)}

    @classmethod
    def from_json(cls, data: Any) -> RecoverySlot:
        try:
            return cls(KdfParams.from_json(data["kdf"]), _unb64(data["wrapped"]))
        except (KeyError, TypeError):
            raise VaultCorrupt("The key-slot file is damaged (bad recovery slot).") from None


def _signer_key(device_secret: bytes, stretched: bytes, vault_id: str) -> bytes:
    # D is mixed in so that vault.keys alone gives no offline test of the password.
    return hkdf(device_secret + stretched, _SIGNER_INFO + b"|" + vault_id.encode())


def wrap_for_user(
    vault_key: bytes,
    device_secret: bytes,
    password: str,
    *,
    vault_id: str,
    user_id: str,
    username: str,
    kdf: KdfParams | None = None,
) -> UserSlot:
    return wrap_for_user_with_signer(vault_key, device_secret, password, vault_id=vault_id,
                                     user_id=user_id, username=username, kdf=kdf)[0]


def wrap_for_user_with_signer(
    vault_key: bytes,
    device_secret: bytes,
    password: str,
    *,
    vault_id: str,
    user_id: str,
    username: str,
    kdf: KdfParams | None = None,
) -> tuple[UserSlot, bytes]:
    """The slot (without a signing key) and the key that seals this officer's signing key."""
    kdf = kdf or KdfParams.fresh()
    stretched = kdf.stretch(_password_bytes(password))
    password_key = hkdf(stretched, _PASSWORD_INFO)
    inner = _seal(password_key, vault_key, _ad(vault_id, user_id, "password"))
    outer = _seal(_device_key(device_secret, vault_id), inner, _ad(vault_id, user_id, "device"))
    return UserSlot(user_id, username, kdf, outer), _signer_key(device_secret, stretched, vault_id)


def _password_bytes(password: str) -> bytes:
    # A lone surrogate (pasted, or bytes decoded with surrogateescape) has no UTF-8 form and
    # must fail as a wrong password, not as an error; every other string encodes as before.
    return password.encode("utf-8", "surrogatepass")


def _peel_device_layer(slot: UserSlot, device_secret: bytes, vault_id: str) -> bytes:
    try:
        key = _device_key(device_secret, vault_id)
        return _open(key, slot.wrapped, _ad(vault_id, slot.user_id, "device"))
    except InvalidTag:
        raise KeyringUnavailable(
            "the device secret in this workstation's keyring does not belong to this vault"
        ) from None


def unwrap_user(slot: UserSlot, device_secret: bytes, password: str, *, vault_id: str) -> bytes:
    return unwrap_user_with_signer(slot, device_secret, password, vault_id=vault_id)[0]


def unwrap_user_with_signer(slot: UserSlot, device_secret: bytes, password: str, *,
                            vault_id: str) -> tuple[bytes, bytes]:
    """(vault key, key sealing this officer's signing key); one Argon2id run for both."""
    inner = _peel_device_layer(slot, device_secret, vault_id)
    stretched = slot.kdf.stretch(_password_bytes(password))
    password_key = hkdf(stretched, _PASSWORD_INFO)
    try:
        key = _open(password_key, inner, _ad(vault_id, slot.user_id, "password"))
    except InvalidTag:
        raise WrongCredentials() from None
    if len(key) != KEY_BYTES:
        raise VaultCorrupt("The key-slot file is damaged (bad key length).")
    return key, _signer_key(device_secret, stretched, vault_id)


def seal_signing_key(signer_key: bytes, private: bytes, *, vault_id: str, user_id: str) -> bytes:
    """Seal an officer's raw Ed25519 private key for the ``signing_key`` field of their slot."""
    return _seal(signer_key, private, _ad(vault_id, user_id, "checkpoint-signing-key"))


def open_signing_key(signer_key: bytes, sealed: bytes, *, vault_id: str,
                     user_id: str) -> bytes | None:
    """The raw private key, or None when it does not open (another password or device)."""
    try:
        private = _open(signer_key, sealed, _ad(vault_id, user_id, "checkpoint-signing-key"))
    except InvalidTag:
        return None
    return private if len(private) == KEY_BYTES else None


def reseat_device_layer(
    slot: UserSlot, old_secret: bytes, new_secret: bytes, *, vault_id: str
) -> UserSlot:
    """Move a slot to a new device secret; the password layer is untouched."""
    inner = _peel_device_layer(slot, old_secret, vault_id)
    outer = _seal(_device_key(new_secret, vault_id), inner, _ad(vault_id, slot.user_id, "device"))
    return UserSlot(slot.user_id, slot.username, slot.kdf, outer)


def _recovery_key(kdf: KdfParams, code_secret: bytes) -> bytes:
    return hkdf(kdf.stretch(code_secret), _RECOVERY_INFO)


def wrap_recovery(
    vault_key: bytes,
    device_secret: bytes,
    code_secret: bytes,
    *,
    vault_id: str,
    kdf: KdfParams | None = None,
) -> RecoverySlot:
    kdf = kdf or KdfParams.fresh()
    wrapped = _seal(
        _recovery_key(kdf, code_secret), vault_key + device_secret, _ad(vault_id, "", "recovery")
    )
    return RecoverySlot(kdf, wrapped)


def unwrap_recovery(
    slot: RecoverySlot, code_secret: bytes, *, vault_id: str
) -> tuple[bytes, bytes]:
    """Return (vault key, device secret) or raise ``RecoveryCodeInvalid``."""
    try:
        plain = _open(_recovery_key(slot.kdf, code_secret), slot.wrapped,
                      _ad(vault_id, "", "recovery"))
    except InvalidTag:
        raise RecoveryCodeInvalid("That recovery code does not open this vault.") from None
    if len(plain) != 2 * KEY_BYTES:
        raise VaultCorrupt("The key-slot file is damaged (bad recovery slot length).")
    return plain[:KEY_BYTES], plain[KEY_BYTES:]
