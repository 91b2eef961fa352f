"""Recovery: opening the vault with the recovery code on a new workstation or after the
keyring lost its entry, seating a new device secret and re-sealing ``vault.keys``.

Recovery is also the way back from a ``vault.keys`` that fails its MAC: it reads the file
without that check, reports what it found to the chain, and re-seals it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cim_desktop.domain.audit.rows import Action, AuditEvent, Outcome
from cim_desktop.errors import KeyringUnavailable, RecoveryCodeInvalid
from cim_desktop.security import recovery_code
from cim_desktop.security.device_secret import DeviceSecretStore, new_secret
from cim_desktop.security.keyslots import open_recovery, reseat_device_layer, reseat_recovery
from cim_desktop.security.slotfile import SlotFile, exclusive
from cim_desktop.services.vault import memory_security, rekey_resume
from cim_desktop.services.vault.lifecycle import flush_pending, mirror_lockout_policy
from cim_desktop.services.vault.paths import VaultPaths
from cim_desktop.services.vault.slots import read_slots, record_refusal_locked
from cim_desktop.store.audit.chain import SYSTEM_ACTOR


def recover(root: Path, code: str, keyring: DeviceSecretStore | None = None) -> int:
    """Open with the recovery code, seat a new device secret, re-wrap every slot.

    Returns the number of officer slots re-wrapped.
    """
    keyring = keyring or DeviceSecretStore()
    paths = VaultPaths(root)
    read_slots(paths, require_mac=False)
    secret = recovery_code.secret_bytes(code)
    with exclusive(paths.keys):
        return _recover(paths, secret, keyring)


def _recover(paths: VaultPaths, secret: bytes, keyring: DeviceSecretStore) -> int:
    # Read without requiring the MAC: recovery is the way back from a file that fails it.
    slots = read_slots(paths, require_mac=False)
    try:
        keys = open_recovery(slots.recovery, secret, vault_id=slots.vault_id)
    except RecoveryCodeInvalid as exc:
        why_not = record_refusal_locked(
            paths,
            keyring,
            Action.RECOVERY_REFUSED,
            cause="wrong recovery code",
            method="recovery code",
        )
        raise RecoveryCodeInvalid(exc.message + why_not) from None
    memory_security.start(slots)
    db, _, completed = rekey_resume.open_database(
        paths,
        keys.vault_key,
        slots.vault_id,
        rekey_resume.pending(paths, keys.device_secret),
        lambda nxt: open_recovery(nxt.recovery, secret, vault_id=slots.vault_id).vault_key,
    )
    try:
        if completed:
            slots = read_slots(paths, require_mac=False)
            keys = open_recovery(slots.recovery, secret, vault_id=slots.vault_id)
        old_secret = keys.device_secret
        keyring.backend  # noqa: B018
        # The recovery slot holds the device secret the file was sealed with.
        genuine = slots.mac_matches(old_secret)
        finding = None if genuine else _distrust(slots)
        new = new_secret()
        slots.users = {
            uid: reseat_device_layer(s, old_secret, new, vault_id=slots.vault_id)
            for uid, s in slots.users.items()
        }
        slots.recovery = reseat_recovery(slots.recovery, keys, new, vault_id=slots.vault_id)
        slots.bind(new)
        mirror_lockout_policy(db, slots)
        rekey_resume.record_if_completed(db, SYSTEM_ACTOR, completed)
        flush_pending(db, slots)
        memory_security.reconcile(db, slots)  # the copy is saved with the new slots below
        with db.transaction():
            if finding is not None:
                db.audit.append(
                    SYSTEM_ACTOR,
                    AuditEvent(
                        Action.TAMPERING_FOUND,
                        "vault",
                        slots.vault_id,
                        finding,
                        outcome=Outcome.FAILED,
                        reason="found by recovery, which re-sealed it",
                    ),
                )
            db.audit.append(
                SYSTEM_ACTOR,
                AuditEvent(
                    Action.RECOVERY,
                    "vault",
                    slots.vault_id,
                    {"slots_rewrapped": len(slots.users), "device_secret": "replaced"},
                    reason="opened with the recovery code",
                ),
            )
            keyring.put(slots.vault_id, new)
            slots.save(paths.keys)
    except KeyringUnavailable:
        raise
    finally:
        db.close()
    return len(slots.users)


def _distrust(slots: SlotFile) -> dict[str, Any]:
    """What a file that fails its MAC said, for the audit row; its unauthenticated parts are
    set aside. Pending events are dropped, not replayed: anyone could have written them.
    Lockouts are kept as found: a lock only keeps an officer out until an administrator
    releases it (an audited act), whereas lifting locks could help a password guesser."""
    finding: dict[str, Any] = {
        "file": "vault.keys",
        "finding": "MAC mismatch" if slots.stored_mac is not None else "no MAC",
        "pending_events_dropped": len(slots.pending_events),
        "dropped_count_claimed": slots.pending_dropped,
        "locked_accounts_kept": sum(
            1 for lock in slots.lockouts.values() if lock.locked_at is not None
        ),
    }
    slots.pending_events = []
    slots.pending_dropped = 0
    return finding
