"""The recovery slot: K (and D) reached with the recovery code alone (see ``security.keyslots``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from cryptography.exceptions import InvalidTag

from cim_desktop.errors import (
    RecoveryCodeInvalid,
    VaultCorrupt,
)
from cim_desktop.security.kdf import KdfParams, hkdf
from cim_desktop.security.sealing import (
    KEY_BYTES,
    RECOVERY_INFO,
    RECOVERY_OWNER,
    SLOT_VERSION,
    associated_data,
    b64,
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


@dataclass(frozen=True)
class RecoverySlot:
    kdf: KdfParams
    wrapped: bytes  # nonce || AES-GCM(code key, recovery private key || issuer public key)
    kwrap: bytes  # K || D sealed to the recovery public key

    def to_json(self) -> dict[str, Any]:
        return {
            "v": SLOT_VERSION,
            "kdf": self.kdf.to_json(),
            "wrapped": b64(self.wrapped),
            "kwrap": b64(self.kwrap),
        }

    @classmethod
    def from_json(cls, data: Any) -> RecoverySlot:
        try:
            if data["v"] != SLOT_VERSION:
                raise VaultCorrupt("The key-slot file holds a slot of an unsupported version.")
            return cls(
                KdfParams.from_json(data["kdf"]), unb64(data["wrapped"]), unb64(data["kwrap"])
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
    return hkdf(kdf.stretch(code_secret), RECOVERY_INFO)


def _recovery_kwrap(
    private: bytes, issuer_public: bytes, vault_key: bytes, device_secret: bytes, vault_id: str
) -> bytes:
    static = exchange(private, issuer_public)
    return issue(
        public_key(private),
        static,
        vault_key + device_secret,
        associated_data(vault_id, RECOVERY_OWNER, "kwrap"),
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
    wrapped = seal(
        _recovery_key(kdf, code_secret),
        private + issuer_public,
        associated_data(vault_id, RECOVERY_OWNER, "recovery"),
    )
    kwrap = _recovery_kwrap(private, issuer_public, vault_key, device_secret, vault_id)
    return RecoverySlot(kdf, wrapped, kwrap)


def open_recovery(slot: RecoverySlot, code_secret: bytes, *, vault_id: str) -> RecoveryKeys:
    """Everything the recovery code opens, or ``RecoveryCodeInvalid``."""
    try:
        plain = open_sealed(
            _recovery_key(slot.kdf, code_secret),
            slot.wrapped,
            associated_data(vault_id, RECOVERY_OWNER, "recovery"),
        )
    except InvalidTag:
        raise RecoveryCodeInvalid("That recovery code does not open this vault.") from None
    if len(plain) != 2 * KEY_BYTES:
        raise VaultCorrupt("The key-slot file is damaged (bad recovery slot length).")
    private, issuer_public = plain[:KEY_BYTES], plain[KEY_BYTES:]
    try:
        secrets = redeem(
            private, issuer_public, slot.kwrap, associated_data(vault_id, RECOVERY_OWNER, "kwrap")
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
            owner=RECOVERY_OWNER,
        ),
    )
