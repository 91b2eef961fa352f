"""The sealing primitives key slots are built from: AES-256-GCM layers with associated data,
X25519 key pairs, and ``kwrap`` issue and redemption (see ``security.keyslots`` for the design).
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cim_desktop.errors import (
    VaultCorrupt,
)
from cim_desktop.security.kdf import hkdf

KEY_BYTES = 32
NONCE_BYTES = 12
SLOT_VERSION = 2
PASSWORD_INFO = b"cim-desktop/v1/password-layer"
DEVICE_INFO = b"cim-desktop/v1/device-layer"
RECOVERY_INFO = b"cim-desktop/v1/recovery-slot"
KWRAP_INFO = b"cim-desktop/v2/kwrap"
RECOVERY_OWNER = ""  # the recovery slot's owner in associated data
SIGNER_INFO = b"cim-desktop/v2/checkpoint-signing-key"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: Any) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise VaultCorrupt("The key-slot file is damaged (bad encoding).") from None


def associated_data(vault_id: str, owner: str, layer: str) -> bytes:
    return f"cim-desktop|{vault_id}|{owner}|{layer}".encode()


def seal(key: bytes, plaintext: bytes, ad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, ad)


def open_sealed(key: bytes, blob: bytes, ad: bytes) -> bytes:
    if len(blob) < NONCE_BYTES + 16:
        raise InvalidTag()
    return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], ad)


def device_key(device_secret: bytes, vault_id: str) -> bytes:
    return hkdf(device_secret, DEVICE_INFO + b"|" + vault_id.encode())


# -- X25519 key pairs and the sealed kwrap --------------------------------------------------
def raw_public(private: X25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def new_private_key() -> bytes:
    """32 random bytes usable as an X25519 private key (a slot holder's or the issuer's)."""
    return os.urandom(KEY_BYTES)


def public_key(private: bytes) -> bytes:
    return raw_public(X25519PrivateKey.from_private_bytes(private))


def exchange(private: bytes, peer: bytes) -> bytes:
    try:
        return X25519PrivateKey.from_private_bytes(private).exchange(
            X25519PublicKey.from_public_bytes(peer)
        )
    except ValueError:  # a malformed or low-order public key
        raise InvalidTag() from None


def kwrap_key(
    ephemeral_shared: bytes, static_shared: bytes, ephemeral_public: bytes, recipient: bytes
) -> bytes:
    return hkdf(ephemeral_shared + static_shared, KWRAP_INFO + b"|" + ephemeral_public + recipient)


def issue(recipient: bytes, static_shared: bytes, plaintext: bytes, ad: bytes) -> bytes:
    ephemeral = X25519PrivateKey.generate()
    eph_public = raw_public(ephemeral)
    try:
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
    except ValueError:
        raise VaultCorrupt("A recorded slot public key is not a valid key.") from None
    return eph_public + seal(kwrap_key(shared, static_shared, eph_public, recipient), plaintext, ad)


def redeem(private: bytes, issuer_public: bytes, blob: bytes, ad: bytes) -> bytes:
    """Open a kwrap with the recipient's private key; raises ``InvalidTag``."""
    if len(blob) < KEY_BYTES + NONCE_BYTES + 16:
        raise InvalidTag()
    eph_public = blob[:KEY_BYTES]
    key = kwrap_key(
        exchange(private, eph_public),
        exchange(private, issuer_public),
        eph_public,
        public_key(private),
    )
    return open_sealed(key, blob[KEY_BYTES:], ad)


def issue_kwrap(
    recipient: bytes, issuer: bytes, secret: bytes, *, vault_id: str, owner: str
) -> bytes:
    """Seal ``secret`` (K, or K || D for recovery) to ``recipient``'s public key as the
    vault's issuer. ``recipient`` must come from the database, never from the slot file."""
    try:
        static = exchange(issuer, recipient)
    except InvalidTag:
        raise VaultCorrupt("A recorded slot public key is not a valid key.") from None
    return issue(recipient, static, secret, associated_data(vault_id, owner, "kwrap"))


# -- user slots -----------------------------------------------------------------------------
