"""Finishing a re-keying that was interrupted between SQLCipher's rekey and ``vault.keys``.

Re-keying writes the slots for the new key to ``vault.keys.rekey`` *before* it re-encrypts
the database, and renames that file over ``vault.keys`` only after the database is proven to
open with the new key. A crash therefore leaves one of two states, both recoverable:

- the rekey never committed: the database still opens with the key from ``vault.keys``, and
  the stale ``vault.keys.rekey`` is discarded;
- the rekey committed: the key from ``vault.keys`` no longer opens the database, the same
  officer's (or the recovery code's) slot in ``vault.keys.rekey`` gives the new key, which is
  tried, and on success the new slot file is put in place and the chain records it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from cim_desktop.domain.audit.rows import Action, AuditEvent
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.errors import CimError, VaultCorrupt
from cim_desktop.security.atomic import fsync_dir
from cim_desktop.security.slotfile import SlotFile
from cim_desktop.services.vault.paths import VaultPaths
from cim_desktop.store.audit.chain import Actor
from cim_desktop.store.database import VaultDatabase
from cim_desktop.store.vault.slot_keys import SlotKeyRepository

NEXT_NAME = "vault.keys.rekey"


def next_path(paths: VaultPaths) -> Path:
    return paths.keys.with_name(NEXT_NAME)


def pending(paths: VaultPaths, device_secret: bytes) -> SlotFile | None:
    """The slot file an interrupted re-keying left, if any; one that is unreadable or fails
    its MAC (not written by this application with this device secret) counts as none."""
    path = next_path(paths)
    if not path.exists():
        return None
    try:
        found = SlotFile.load(path)
        found.verify(device_secret, NEXT_NAME)
    except CimError:
        return None
    return found


def promote(paths: VaultPaths) -> None:
    """Put the new slots in place: one rename, then the folder is synced."""
    next_path(paths).replace(paths.keys)
    fsync_dir(paths.keys.parent)


def _promote_merged(paths: VaultPaths, nxt: SlotFile) -> None:
    """Put the new slots in place, keeping what happened since the crash: failed logins and
    lockouts counted in ``vault.keys`` meanwhile must still reach the chain."""
    current = SlotFile.load(paths.keys)
    for event in current.pending_events:
        if event not in nxt.pending_events:
            nxt.add_pending(event)
    nxt.lockouts = {uid: lock for uid, lock in current.lockouts.items() if uid in nxt.users}
    nxt.save(paths.keys)
    discard(paths)


def discard(paths: VaultPaths) -> None:
    with contextlib.suppress(FileNotFoundError):
        next_path(paths).unlink()


def open_database(
    paths: VaultPaths,
    vault_key: bytes,
    vault_id: str,
    nxt: SlotFile | None,
    next_key: Callable[[SlotFile], bytes],
) -> tuple[VaultDatabase, bytes, bool]:
    """Open the database; finish or discard an interrupted re-keying on the way.

    Returns (database, the key that opened it, whether the new slots were put in place).
    The caller holds the slot file's lock, so no re-keying is running at the same time.
    """
    try:
        db = VaultDatabase.open(paths.db, vault_key, vault_id)
    except VaultCorrupt:
        if nxt is None or nxt.vault_id != vault_id:
            raise
        try:
            new_key = next_key(nxt)
        except (CimError, KeyError):
            raise VaultCorrupt(
                "The vault database does not open with this key slot, and the slots left by "
                "an interrupted re-keying do not open it either. Restore the copy taken "
                "before re-keying (vault.db.pre-rekey-*, with vault.keys.pre-rekey-*)."
            ) from None
        db = VaultDatabase.open(paths.db, new_key, vault_id)
        _promote_merged(paths, nxt)
        return db, new_key, True
    if nxt is not None:
        discard(paths)
    return db, vault_key, False


def record_if_completed(db: VaultDatabase, actor: Actor, completed: bool) -> None:
    """Chain and record a re-keying that an unlock has just finished."""
    if not completed:
        return
    now = iso_utc(utc_now())
    with db.transaction():
        SlotKeyRepository(db.conn).record_rekey(now)
        db.audit.append(
            actor,
            AuditEvent(
                Action.REKEY,
                "vault",
                db.vault_id,
                {"stage": "slots put in place at unlock after an interrupted re-keying"},
            ),
        )
