"""Key-slot lifecycle: issuing, disabling and destroying officers' slots.

Every function here runs inside the caller's transaction and with the caller holding the
key-slot file's lock: the slot file is saved inside the transaction, so a slot and the
database rows that describe it change together or not at all.
"""

from __future__ import annotations

from dataclasses import replace

from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.domain.officers.model import OfficerStatus
from cim_desktop.errors import VaultCorrupt
from cim_desktop.security.keyslots import UserSlot, wrap_for_user
from cim_desktop.security.sealing import issue_kwrap, new_private_key, public_key
from cim_desktop.security.slotfile import SlotFile
from cim_desktop.store.database import VaultDatabase
from cim_desktop.store.vault.slot_keys import SlotKeyRepository


def slot_keys(db: VaultDatabase) -> SlotKeyRepository:
    return SlotKeyRepository(db.conn)


def issuer(db: VaultDatabase) -> bytes:
    key = slot_keys(db).issuer()
    if key is None or len(key) != 32:
        raise VaultCorrupt("The vault has no key-slot issuer key; it cannot issue key slots.")
    return key


def new_officer_slot(
    db: VaultDatabase,
    vault_key: bytes,
    device_secret: bytes,
    password: str,
    *,
    officer_id: str,
    username: str,
    enabled: bool = True,
    private: bytes | None = None,
) -> UserSlot:
    """A slot with a fresh key pair (``private``, or a new one), its public key recorded;
    disabled unless ``enabled``."""
    private = private or new_private_key()
    slot = wrap_for_user(
        vault_key,
        device_secret,
        password,
        vault_id=db.vault_id,
        user_id=officer_id,
        username=username,
        issuer_public=public_key(issuer(db)),
        private=private,
    )
    slot_keys(db).set(officer_id, public_key(private), iso_utc(utc_now()))
    return slot if enabled else slot.disabled()


def enable_slot(db: VaultDatabase, slot: UserSlot, vault_key: bytes) -> UserSlot:
    """``slot`` with K sealed to the officer's public key as the database records it."""
    recipient = slot_keys(db).get(slot.user_id)
    if recipient is None:
        raise VaultCorrupt(
            "The vault has no public key recorded for this officer's key slot; "
            "reset their password to issue a new slot."
        )
    return replace(
        slot,
        kwrap=issue_kwrap(
            recipient, issuer(db), vault_key, vault_id=db.vault_id, owner=slot.user_id
        ),
    )


def apply_status_to_slot(
    db: VaultDatabase,
    slots: SlotFile,
    officer_id: str,
    status: OfficerStatus,
    vault_key: bytes,
    now: str,
) -> str:
    """Make the officer's key slot match their new status; say what was done (for audit).

    Suspension takes K out of the slot (the password then opens nothing); reinstatement
    seals K to the officer's recorded public key again; leaving destroys the slot and the
    public key, and records that re-keying is now due (the departed officer knew K).
    """
    slot = slots.users.get(officer_id)
    if status is OfficerStatus.LEFT:
        slots.users.pop(officer_id, None)
        slots.lockouts.pop(officer_id, None)
        slot_keys(db).delete(officer_id)
        slot_keys(db).mark_rekey_due(now)
        return "destroyed" if slot is not None else "none"
    if slot is None:
        return "none"
    if status is OfficerStatus.SUSPENDED:
        slots.users[officer_id] = slot.disabled()
        return "disabled"
    slots.users[officer_id] = enable_slot(db, slot, vault_key)
    return "enabled"
