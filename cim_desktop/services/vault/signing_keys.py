"""Each officer's own checkpoint-signing key: made, opened, re-sealed and recorded.

The private half lives in the officer's slot in ``vault.keys``, sealed under a key derived
from their password and the device secret (``security.keyslots``), never under the vault key
K; the public half is recorded in the audit chain by a ``checkpoint-key`` row when the key is
made. So holding K (or logging in as someone else) is not enough to sign a checkpoint that
verification accepts: a forger must also use some officer's password, and the checkpoint then
names that officer.

When a key is made: at vault creation, officer creation, and at a login whose slot holds none
(a slot reset by an administrator, re-seated by recovery, or from before this scheme). It is
replaced when an officer sets their own password after a temporary one (an administrator knew
the temporary password, and so could have opened the key sealed under it), and re-sealed
unchanged when they change a password only they knew.
"""

from __future__ import annotations

from dataclasses import replace

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cim_desktop.domain.audit.rows import Action, AuditEvent, Outcome
from cim_desktop.security.keyslots import UserSlot, open_signing_key, seal_signing_key
from cim_desktop.store.audit import checkpoint_keys
from cim_desktop.store.connection import Connection

# Why a key was made; goes into the recording audit row.
MADE_AT_CREATION = "vault created"
MADE_FOR_NEW_OFFICER = "officer created"
MADE_AT_LOGIN = "login: the key slot held no signing key"
MADE_AFTER_TEMPORARY = "own password set after a temporary one"
MADE_AT_PASSWORD_CHANGE = "password change: the key slot held no signing key"  # noqa: S105
RE_RECORDED = "login: the chain did not record this officer's current key"


def new_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _private_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def seal_into(slot: UserSlot, signer_key: bytes, key: Ed25519PrivateKey, vault_id: str) -> UserSlot:
    sealed = seal_signing_key(
        signer_key, _private_bytes(key), vault_id=vault_id, user_id=slot.user_id
    )
    return replace(slot, signing_key=sealed)


def open_from(slot: UserSlot, signer_key: bytes, vault_id: str) -> Ed25519PrivateKey | None:
    """The officer's key, or None if their slot holds none that opens with this password."""
    if slot.signing_key is None:
        return None
    raw = open_signing_key(signer_key, slot.signing_key, vault_id=vault_id, user_id=slot.user_id)
    return Ed25519PrivateKey.from_private_bytes(raw) if raw is not None else None


def record_event(
    officer_id: str, key: Ed25519PrivateKey, occasion: str, outcome: Outcome = Outcome.OK
) -> AuditEvent:
    """The audit row that puts ``key``'s public half in the chain for ``officer_id``."""
    return AuditEvent(
        Action.CHECKPOINT_KEY,
        "officer",
        officer_id,
        {"public_key": public_bytes(key).hex(), "occasion": occasion},
        outcome=outcome,
    )


def recorded(conn: Connection, officer_id: str, upto_seq: int | None = None) -> bytes | None:
    """The public key the chain last recorded for ``officer_id`` at or before ``upto_seq``."""
    found = checkpoint_keys.latest(conn, officer_id, upto_seq)
    return found[1] if found else None


def standing(conn: Connection, officer_id: str, public: bytes, seq: int) -> tuple[bool, int | None]:
    """Whether ``public`` may sign for ``officer_id`` at ``seq``: (recorded, contested at).

    It must be the key last recorded for that officer at or before ``seq`` (recorded), and
    no later login of that officer may have found the chain naming a key that was not
    theirs (contested at: that login's sequence, or None).
    """
    found = checkpoint_keys.latest(conn, officer_id, seq)
    if found is None or found[1] != public:
        return False, None
    return True, checkpoint_keys.contested_after(conn, officer_id, found[0])
