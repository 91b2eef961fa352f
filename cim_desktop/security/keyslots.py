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

from dataclasses import dataclass, replace
from typing import Any

from cryptography.exceptions import InvalidTag

from cim_desktop.errors import (
    KeyringUnavailable,
    SlotDisabled,
    VaultCorrupt,
    WrongCredentials,
)
from cim_desktop.security.kdf import KdfParams, hkdf
from cim_desktop.security.recovery_slot import RecoveryKeys as RecoveryKeys
from cim_desktop.security.recovery_slot import RecoverySlot as RecoverySlot
from cim_desktop.security.recovery_slot import open_recovery as open_recovery
from cim_desktop.security.recovery_slot import reissue_recovery as reissue_recovery
from cim_desktop.security.recovery_slot import reseat_recovery as reseat_recovery
from cim_desktop.security.recovery_slot import unwrap_recovery as unwrap_recovery
from cim_desktop.security.recovery_slot import wrap_recovery as wrap_recovery
from cim_desktop.security.sealing import (
    KEY_BYTES,
    NONCE_BYTES,
    PASSWORD_INFO,
    SIGNER_INFO,
    SLOT_VERSION,
    associated_data,
    b64,
    device_key,
    exchange,
    issue,
    issue_kwrap,
    new_private_key,
    open_sealed,
    public_key,
    redeem,
    seal,
    unb64,
)

# The sealing primitives and the recovery slot live beside this module; callers that
# know key slots by this module's name keep finding them here.
__all__ = [
    "KEY_BYTES",
    "NONCE_BYTES",
    "SLOT_VERSION",
    "OfficerKeys",
    "RecoveryKeys",
    "RecoverySlot",
    "UserSlot",
    "issue_kwrap",
    "new_private_key",
    "open_officer_keys",
    "open_recovery",
    "open_signing_key",
    "public_key",
    "redeem_user",
    "reissue_recovery",
    "reseat_device_layer",
    "reseat_recovery",
    "seal_signing_key",
    "seal_user",
    "signer_key_for",
    "unwrap_recovery",
    "unwrap_user",
    "unwrap_user_with_signer",
    "wrap_for_user",
    "wrap_recovery",
]


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
            "wrapped": b64(self.wrapped),
            "kwrap": b64(self.kwrap) if self.kwrap is not None else None,
        }
        if self.signing_key is not None:
            data["signing_key"] = b64(self.signing_key)
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
                unb64(data["wrapped"]),
                None if kwrap is None else unb64(kwrap),
                unb64(data["signing_key"]) if data.get("signing_key") is not None else None,
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
    return hkdf(kdf.stretch(_password_bytes(password)), PASSWORD_INFO)


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
    inner = seal(
        _password_key(kdf, password),
        keys.private + keys.issuer_public,
        associated_data(vault_id, user_id, "password"),
    )
    outer = seal(
        device_key(device_secret, vault_id), inner, associated_data(vault_id, user_id, "device")
    )
    kwrap = None
    if vault_key is not None:
        static = exchange(keys.private, keys.issuer_public)
        kwrap = issue(keys.public, static, vault_key, associated_data(vault_id, user_id, "kwrap"))
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
        key = device_key(device_secret, vault_id)
        return open_sealed(key, slot.wrapped, associated_data(vault_id, slot.user_id, "device"))
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
        plain = open_sealed(
            _password_key(slot.kdf, password),
            inner,
            associated_data(vault_id, slot.user_id, "password"),
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
        key = redeem(
            keys.private,
            keys.issuer_public,
            slot.kwrap,
            associated_data(vault_id, slot.user_id, "kwrap"),
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
    return hkdf(keys.private, SIGNER_INFO + b"|" + vault_id.encode())


def seal_signing_key(signer_key: bytes, private: bytes, *, vault_id: str, user_id: str) -> bytes:
    """Seal an officer's raw Ed25519 private key for the ``signing_key`` field of their slot."""
    return seal(signer_key, private, associated_data(vault_id, user_id, "checkpoint-signing-key"))


def open_signing_key(
    signer_key: bytes, sealed: bytes, *, vault_id: str, user_id: str
) -> bytes | None:
    """The raw private key, or None when it does not open (another key pair)."""
    try:
        private = open_sealed(
            signer_key, sealed, associated_data(vault_id, user_id, "checkpoint-signing-key")
        )
    except InvalidTag:
        return None
    return private if len(private) == KEY_BYTES else None


def reseat_device_layer(
    slot: UserSlot, old_secret: bytes, new_secret: bytes, *, vault_id: str
) -> UserSlot:
    """Move a slot to a new device secret; the password layer and kwrap are untouched."""
    inner = _peel_device_layer(slot, old_secret, vault_id)
    outer = seal(
        device_key(new_secret, vault_id), inner, associated_data(vault_id, slot.user_id, "device")
    )
    return replace(slot, wrapped=outer)


# -- the recovery slot ----------------------------------------------------------------------
