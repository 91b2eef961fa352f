"""Key slots: how each officer and the recovery code reach the vault key K.

Each slot holder (an officer, or the recovery code) has an X25519 key pair of their own. The
private key is wrapped under their secret, and K reaches it through a separate ``kwrap``:

- user slot ``wrapped``: two AES-256-GCM layers around (officer private key || issuer public
  key). The inner layer's key comes from the password (Argon2id, then HKDF); the outer layer's
  from the device secret D in the OS keyring, so opening needs both, and the outer layer can be
  moved to a new D without anyone's password (recovery on a new workstation).
- recovery slot ``wrapped``: one AES-256-GCM layer around (recovery private key || issuer
  public key) under the stretched recovery code alone.
- ``kwrap``: K (for the recovery slot K || D) sealed to the holder's public key: an ephemeral
  X25519 exchange plus a static one with the vault's *issuer* key, hashed together (HKDF) into
  an AES-256-GCM key. A slot whose ``kwrap`` is absent opens to the private key and nothing more.

Why public keys rather than a per-officer secret escrowed in the database: re-keying and
reinstatement must give K to officers whose passwords nobody present knows. With escrowed
secrets, every officer who ever held K (a departed one included, who could have read the escrow
table while still in post) could open every re-issued wrapping and re-keying would protect
nothing. Issuing to a public key needs no secret of the recipient's, so what an old K reveals
does not open a new one. The static issuer exchange authenticates a ``kwrap``: forging one
needs the issuer private key (inside the database) or the recipient's own private key, so
someone who can only write the vault folder cannot plant a ``kwrap`` that opens a database of
their making.

A user slot may also hold the officer's own checkpoint-signing key (Ed25519), sealed under a
key derived from the officer's private key (so from their password and D): not under K, so
holding the vault key is not enough to sign a checkpoint in an officer's name. See
``services.signing_keys``.

Associated data binds every layer to the vault id, the slot owner and the layer's purpose, so
a slot copied between vaults or officers does not open.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass, replace
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cim_desktop.errors import (
    KeyringUnavailable,
    RecoveryCodeInvalid,
    SlotDisabled,
    VaultCorrupt,
    WrongCredentials,
)
from cim_desktop.security.kdf import KdfParams, hkdf

KEY_BYTES = 32
NONCE_BYTES = 12
SLOT_VERSION = 2
_PASSWORD_INFO = b"cim-desktop/v1/password-layer"
_DEVICE_INFO = b"cim-desktop/v1/device-layer"
_RECOVERY_INFO = b"cim-desktop/v1/recovery-slot"
_KWRAP_INFO = b"cim-desktop/v2/kwrap"
_RECOVERY_OWNER = ""  # the recovery slot's owner in associated data
_SIGNER_INFO = b"cim-desktop/v2/checkpoint-signing-key"


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


# -- X25519 key pairs and the sealed kwrap --------------------------------------------------
def _raw_public(private: X25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def new_private_key() -> bytes:
    """32 random bytes usable as an X25519 private key (a slot holder's or the issuer's)."""
    return os.urandom(KEY_BYTES)


def public_key(private: bytes) -> bytes:
    return _raw_public(X25519PrivateKey.from_private_bytes(private))


def _exchange(private: bytes, peer: bytes) -> bytes:
    try:
        return X25519PrivateKey.from_private_bytes(private).exchange(
            X25519PublicKey.from_public_bytes(peer)
        )
    except ValueError:  # a malformed or low-order public key
        raise InvalidTag() from None


def _kwrap_key(
    ephemeral_shared: bytes, static_shared: bytes, ephemeral_public: bytes, recipient: bytes
) -> bytes:
    return hkdf(ephemeral_shared + static_shared, _KWRAP_INFO + b"|" + ephemeral_public + recipient)


def _issue(recipient: bytes, static_shared: bytes, plaintext: bytes, ad: bytes) -> bytes:
    ephemeral = X25519PrivateKey.generate()
    eph_public = _raw_public(ephemeral)
    try:
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
    except ValueError:
        raise VaultCorrupt("A recorded slot public key is not a valid key.") from None
    return eph_public + _seal(
        _kwrap_key(shared, static_shared, eph_public, recipient), plaintext, ad
    )


def _redeem(private: bytes, issuer_public: bytes, blob: bytes, ad: bytes) -> bytes:
    """Open a kwrap with the recipient's private key; raises ``InvalidTag``."""
    if len(blob) < KEY_BYTES + NONCE_BYTES + 16:
        raise InvalidTag()
    eph_public = blob[:KEY_BYTES]
    key = _kwrap_key(
        _exchange(private, eph_public),
        _exchange(private, issuer_public),
        eph_public,
        public_key(private),
    )
    return _open(key, blob[KEY_BYTES:], ad)


def issue_kwrap(
    recipient: bytes, issuer: bytes, secret: bytes, *, vault_id: str, owner: str
) -> bytes:
    """Seal ``secret`` (K, or K || D for recovery) to ``recipient``'s public key as the
    vault's issuer. ``recipient`` must come from the database, never from the slot file."""
    try:
        static = _exchange(issuer, recipient)
    except InvalidTag:
        raise VaultCorrupt("A recorded slot public key is not a valid key.") from None
    return _issue(recipient, static, secret, _ad(vault_id, owner, "kwrap"))


# -- user slots -----------------------------------------------------------------------------
@dataclass(frozen=True)
class UserSlot:
    user_id: str
    username: str
    kdf: KdfParams
    wrapped: bytes  # outer layer: nonce || AES-GCM(device key, inner)
    kwrap: bytes | None = None  # K sealed to the officer's public key; None: slot disabled
    # nonce || AES-GCM(signer key, Ed25519 private bytes); absent until first made
    signing_key: bytes | None = None

    @property
    def enabled(self) -> bool:
        return self.kwrap is not None

    def disabled(self) -> UserSlot:
        """The slot with K taken out: the password still opens it, but to nothing."""
        return replace(self, kwrap=None)

    def to_json(self) -> dict[str, Any]:
        data = {
            "v": SLOT_VERSION,
            "user_id": self.user_id,
            "username": self.username,
            "kdf": self.kdf.to_json(),
            "wrapped": _b64(self.wrapped),
            "kwrap": _b64(self.kwrap) if self.kwrap is not None else None,
        }
        if self.signing_key is not None:
            data["signing_key"] = _b64(self.signing_key)
        return data

    @classmethod
    def from_json(cls, data: Any) -> UserSlot:
        try:
            if data["v"] != SLOT_VERSION:
                raise VaultCorrupt("The key-slot file holds a slot of an unsupported version.")
            kwrap = data["kwrap"]
            return cls(
                str(data["user_id"]),
                str(data["username"]),
                KdfParams.from_json(data["kdf"]),
                _unb64(data["wrapped"]),
                None if kwrap is None else _unb64(kwrap),
                _unb64(data["signing_key"]) if data.get("signing_key") is not None else None,
            )
        except (KeyError, TypeError, AttributeError):
            raise VaultCorrupt("The key-slot file is damaged (bad user slot).") from None


@dataclass(frozen=True)
class OfficerKeys:
    """What an officer's password and the device secret open: their own key pair."""

    private: bytes
    issuer_public: bytes

    @property
    def public(self) -> bytes:
        return public_key(self.private)


def _password_key(kdf: KdfParams, password: str) -> bytes:
    return hkdf(kdf.stretch(_password_bytes(password)), _PASSWORD_INFO)


def _password_bytes(password: str) -> bytes:
    # A lone surrogate (pasted, or bytes decoded with surrogateescape) has no UTF-8 form and
    # must fail as a wrong password, not as an error; every other string encodes as before.
    return password.encode("utf-8", "surrogatepass")


def seal_user(
    keys: OfficerKeys,
    vault_key: bytes | None,
    device_secret: bytes,
    password: str,
    *,
    vault_id: str,
    user_id: str,
    username: str,
    kdf: KdfParams | None = None,
) -> UserSlot:
    """A slot for ``keys`` under ``password``; with ``vault_key`` also its kwrap."""
    kdf = kdf or KdfParams.fresh()
    inner = _seal(
        _password_key(kdf, password),
        keys.private + keys.issuer_public,
        _ad(vault_id, user_id, "password"),
    )
    outer = _seal(_device_key(device_secret, vault_id), inner, _ad(vault_id, user_id, "device"))
    kwrap = None
    if vault_key is not None:
        static = _exchange(keys.private, keys.issuer_public)
        kwrap = _issue(keys.public, static, vault_key, _ad(vault_id, user_id, "kwrap"))
    return UserSlot(user_id, username, kdf, outer, kwrap)


def wrap_for_user(
    vault_key: bytes,
    device_secret: bytes,
    password: str,
    *,
    vault_id: str,
    user_id: str,
    username: str,
    issuer_public: bytes,
    private: bytes | None = None,
    kdf: KdfParams | None = None,
) -> UserSlot:
    """A new slot for the key pair ``private`` (fresh when None): a new officer, a reset.

    The caller records ``public_key(private)`` in the database, where re-keying reads it."""
    keys = OfficerKeys(private or new_private_key(), issuer_public)
    return seal_user(
        keys,
        vault_key,
        device_secret,
        password,
        vault_id=vault_id,
        user_id=user_id,
        username=username,
        kdf=kdf,
    )


def _peel_device_layer(slot: UserSlot, device_secret: bytes, vault_id: str) -> bytes:
    try:
        key = _device_key(device_secret, vault_id)
        return _open(key, slot.wrapped, _ad(vault_id, slot.user_id, "device"))
    except InvalidTag:
        raise KeyringUnavailable(
            "the device secret in this workstation's keyring does not belong to this vault"
        ) from None


def open_officer_keys(
    slot: UserSlot, device_secret: bytes, password: str, *, vault_id: str
) -> OfficerKeys:
    """The officer's key pair: proves the password, whether or not the slot is enabled."""
    inner = _peel_device_layer(slot, device_secret, vault_id)
    try:
        plain = _open(
            _password_key(slot.kdf, password), inner, _ad(vault_id, slot.user_id, "password")
        )
    except InvalidTag:
        raise WrongCredentials() from None
    if len(plain) != 2 * KEY_BYTES:
        raise VaultCorrupt("The key-slot file is damaged (bad key length).")
    return OfficerKeys(plain[:KEY_BYTES], plain[KEY_BYTES:])


def redeem_user(slot: UserSlot, keys: OfficerKeys, *, vault_id: str) -> bytes:
    """K from an opened slot; ``SlotDisabled`` when the slot holds no kwrap."""
    if slot.kwrap is None:
        raise SlotDisabled()
    try:
        key = _redeem(
            keys.private, keys.issuer_public, slot.kwrap, _ad(vault_id, slot.user_id, "kwrap")
        )
    except InvalidTag:
        raise VaultCorrupt("The key-slot file is damaged (a key slot does not open).") from None
    if len(key) != KEY_BYTES:
        raise VaultCorrupt("The key-slot file is damaged (bad key length).")
    return key


def unwrap_user(slot: UserSlot, device_secret: bytes, password: str, *, vault_id: str) -> bytes:
    keys = open_officer_keys(slot, device_secret, password, vault_id=vault_id)
    return redeem_user(slot, keys, vault_id=vault_id)


def unwrap_user_with_signer(
    slot: UserSlot, device_secret: bytes, password: str, *, vault_id: str
) -> tuple[bytes, bytes]:
    """(vault key, key sealing this officer's signing key); one Argon2id run for both."""
    keys = open_officer_keys(slot, device_secret, password, vault_id=vault_id)
    return redeem_user(slot, keys, vault_id=vault_id), signer_key_for(keys, vault_id)


def signer_key_for(keys: OfficerKeys, vault_id: str) -> bytes:
    """The key sealing this officer's checkpoint-signing key: from their private key, which
    only their password and the device secret open (never K, never anything escrowed)."""
    return hkdf(keys.private, _SIGNER_INFO + b"|" + vault_id.encode())


def seal_signing_key(signer_key: bytes, private: bytes, *, vault_id: str, user_id: str) -> bytes:
    """Seal an officer's raw Ed25519 private key for the ``signing_key`` field of their slot."""
    return _seal(signer_key, private, _ad(vault_id, user_id, "checkpoint-signing-key"))


def open_signing_key(
    signer_key: bytes, sealed: bytes, *, vault_id: str, user_id: str
) -> bytes | None:
    """The raw private key, or None when it does not open (another key pair)."""
    try:
        private = _open(signer_key, sealed, _ad(vault_id, user_id, "checkpoint-signing-key"))
    except InvalidTag:
        return None
    return private if len(private) == KEY_BYTES else None


def reseat_device_layer(
    slot: UserSlot, old_secret: bytes, new_secret: bytes, *, vault_id: str
) -> UserSlot:
    """Move a slot to a new device secret; the password layer and kwrap are untouched."""
    inner = _peel_device_layer(slot, old_secret, vault_id)
    outer = _seal(_device_key(new_secret, vault_id), inner, _ad(vault_id, slot.user_id, "device"))
    return replace(slot, wrapped=outer)


# -- the recovery slot ----------------------------------------------------------------------
@dataclass(frozen=True)
class RecoverySlot:
    kdf: KdfParams
    wrapped: bytes  # nonce || AES-GCM(code key, recovery private key || issuer public key)
    kwrap: bytes  # K || D sealed to the recovery public key

    def to_json(self) -> dict[str, Any]:
        return {
            "v": SLOT_VERSION,
            "kdf": self.kdf.to_json(),
            "wrapped": _b64(self.wrapped),
            "kwrap": _b64(self.kwrap),
        }

    @classmethod
    def from_json(cls, data: Any) -> RecoverySlot:
        try:
            if data["v"] != SLOT_VERSION:
                raise VaultCorrupt("The key-slot file holds a slot of an unsupported version.")
            return cls(
                KdfParams.from_json(data["kdf"]), _unb64(data["wrapped"]), _unb64(data["kwrap"])
            )
        except (KeyError, TypeError):
            raise VaultCorrupt("The key-slot file is damaged (bad recovery slot).") from None


@dataclass(frozen=True)
class RecoveryKeys:
    vault_key: bytes
    device_secret: bytes
    private: bytes
    issuer_public: bytes

    @property
    def public(self) -> bytes:
        return public_key(self.private)


def _recovery_key(kdf: KdfParams, code_secret: bytes) -> bytes:
    return hkdf(kdf.stretch(code_secret), _RECOVERY_INFO)


def _recovery_kwrap(
    private: bytes, issuer_public: bytes, vault_key: bytes, device_secret: bytes, vault_id: str
) -> bytes:
    static = _exchange(private, issuer_public)
    return _issue(
        public_key(private),
        static,
        vault_key + device_secret,
        _ad(vault_id, _RECOVERY_OWNER, "kwrap"),
    )


def wrap_recovery(
    vault_key: bytes,
    device_secret: bytes,
    code_secret: bytes,
    *,
    vault_id: str,
    issuer_public: bytes,
    private: bytes | None = None,
    kdf: KdfParams | None = None,
) -> RecoverySlot:
    """A recovery slot for the key pair ``private`` (fresh when None): vault creation.

    The caller records ``public_key(private)`` in the database, where re-keying reads it."""
    kdf = kdf or KdfParams.fresh()
    private = private or new_private_key()
    wrapped = _seal(
        _recovery_key(kdf, code_secret),
        private + issuer_public,
        _ad(vault_id, _RECOVERY_OWNER, "recovery"),
    )
    kwrap = _recovery_kwrap(private, issuer_public, vault_key, device_secret, vault_id)
    return RecoverySlot(kdf, wrapped, kwrap)


def open_recovery(slot: RecoverySlot, code_secret: bytes, *, vault_id: str) -> RecoveryKeys:
    """Everything the recovery code opens, or ``RecoveryCodeInvalid``."""
    try:
        plain = _open(
            _recovery_key(slot.kdf, code_secret),
            slot.wrapped,
            _ad(vault_id, _RECOVERY_OWNER, "recovery"),
        )
    except InvalidTag:
        raise RecoveryCodeInvalid("That recovery code does not open this vault.") from None
    if len(plain) != 2 * KEY_BYTES:
        raise VaultCorrupt("The key-slot file is damaged (bad recovery slot length).")
    private, issuer_public = plain[:KEY_BYTES], plain[KEY_BYTES:]
    try:
        secrets = _redeem(
            private, issuer_public, slot.kwrap, _ad(vault_id, _RECOVERY_OWNER, "kwrap")
        )
    except InvalidTag:
        raise VaultCorrupt(
            "The key-slot file is damaged (the recovery slot does not open)."
        ) from None
    if len(secrets) != 2 * KEY_BYTES:
        raise VaultCorrupt("The key-slot file is damaged (bad recovery slot length).")
    return RecoveryKeys(secrets[:KEY_BYTES], secrets[KEY_BYTES:], private, issuer_public)


def unwrap_recovery(
    slot: RecoverySlot, code_secret: bytes, *, vault_id: str
) -> tuple[bytes, bytes]:
    """Return (vault key, device secret) or raise ``RecoveryCodeInvalid``."""
    keys = open_recovery(slot, code_secret, vault_id=vault_id)
    return keys.vault_key, keys.device_secret


def reseat_recovery(
    slot: RecoverySlot, keys: RecoveryKeys, device_secret: bytes, *, vault_id: str
) -> RecoverySlot:
    """The recovery slot after recovery seated a new device secret (code holder's side)."""
    return replace(
        slot,
        kwrap=_recovery_kwrap(
            keys.private, keys.issuer_public, keys.vault_key, device_secret, vault_id
        ),
    )


def reissue_recovery(
    slot: RecoverySlot,
    recovery_public: bytes,
    issuer: bytes,
    vault_key: bytes,
    device_secret: bytes,
    *,
    vault_id: str,
) -> RecoverySlot:
    """The recovery slot for a new K (re-keying), without the recovery code."""
    return replace(
        slot,
        kwrap=issue_kwrap(
            recovery_public,
            issuer,
            vault_key + device_secret,
            vault_id=vault_id,
            owner=_RECOVERY_OWNER,
        ),
    )
