"""Reading ``vault.keys`` with its MAC checked, and recording refusals in it.

Every writer of the file holds the device secret D, because the file's MAC is keyed from D:
anyone who can write the vault folder but cannot read this workstation's keyring can no
longer reset a lockout, raise the lockout threshold or slip forged events into the chain.
"""

from __future__ import annotations

from typing import Any

from cim_desktop.domain.audit.rows import Action
from cim_desktop.errors import (
    CimError,
    KeyringUnavailable,
    VaultCorrupt,
    VaultNotFound,
    VaultTampered,
)
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.security.keyslots import reseat_device_layer
from cim_desktop.security.pending_events import new_event
from cim_desktop.security.slotfile import SlotFile, exclusive
from cim_desktop.services.vault.paths import VaultPaths


def read_slots(paths: VaultPaths, *, require_mac: bool = True) -> SlotFile:
    """The slot file with every field checked but its MAC not yet (that needs D)."""
    if not paths.keys.exists():
        if paths.db.exists():
            raise VaultCorrupt(
                "The key-slot file vault.keys is missing beside the vault. Restore it from a "
                "backup, or restore the whole vault with the recovery code."
            )
        raise VaultNotFound(f"There is no vault in {paths.root}.")
    return SlotFile.load(paths.keys, require_mac=require_mac)


def load_slots(paths: VaultPaths, keyring: DeviceSecretStore) -> SlotFile:
    """The slot file, its MAC checked with this workstation's device secret (which is read
    first, so keyring trouble fails closed before anything is written)."""
    slots = read_slots(paths)
    verify(slots, keyring.get(slots.vault_id), paths.keys.name)
    return slots


def unit_name(paths: VaultPaths, keyring: DeviceSecretStore) -> str:
    """The unit's name as ``vault.keys`` mirrors it, for the login window; "" unless the file
    reads and its MAC checks with this workstation's device secret (an edited file's name is
    never shown)."""
    try:
        return load_slots(paths, keyring).unit_name
    except CimError:
        return ""


def verify(slots: SlotFile, device_secret: bytes, name: str = "vault.keys") -> None:
    """Check the MAC; tell a stale keyring (recovery was run on another workstation since)
    apart from an edited file, because the remedies differ."""
    if not slots.mac_matches(device_secret) and slots.users:
        # Raises KeyringUnavailable when this secret opens no slot's device layer.
        reseat_device_layer(
            next(iter(slots.users.values())), device_secret, device_secret, vault_id=slots.vault_id
        )
    slots.verify(device_secret, name)


def record_refusal_locked(
    paths: VaultPaths, keyring: DeviceSecretStore, action: Action, username: str = "", **detail: Any
) -> str:
    """Add an authenticated pending event for a refusal; the caller holds the file's lock.

    Returns "" when recorded, else a sentence for the user's message saying why it could
    not be: without the device secret an event cannot be authenticated, and an event that
    is not authenticated would be dropped at the next unlock anyway.
    """
    try:
        slots = load_slots(paths, keyring)
    except VaultNotFound:
        return " There is no vault in that folder in which to record this refusal."
    except KeyringUnavailable:
        return (
            " This refusal could not be recorded: this workstation's keyring holds no "
            "device secret for the vault, so no record of it can be authenticated."
        )
    except VaultTampered:
        return " This refusal could not be recorded: vault.keys fails its integrity check."
    except CimError:
        return " This refusal could not be recorded: vault.keys cannot be read."
    slot = slots.find_user(username) if username else None
    event = new_event(action, slot.user_id if slot else "", slot.username if slot else "", **detail)
    slots.add_pending(event)
    try:
        slots.save(paths.keys)
    except (CimError, OSError):
        return " This refusal could not be recorded: vault.keys could not be written."
    return ""


def record_refusal(
    paths: VaultPaths, keyring: DeviceSecretStore, action: Action, username: str = "", **detail: Any
) -> str:
    """As ``record_refusal_locked``, taking the slot file's lock."""
    if not paths.keys.exists():
        return record_refusal_locked(paths, keyring, action, username, **detail)
    try:
        with exclusive(paths.keys):
            return record_refusal_locked(paths, keyring, action, username, **detail)
    except CimError:  # busy: the refusal itself still stands
        return " This refusal could not be recorded: vault.keys is in use."
