"""Re-keying the vault: a new vault key K, the database re-encrypted, every slot re-issued.

Why: an officer who has left knew K, and so could open any copy of ``vault.db`` taken
before or after they left. After re-keying, the database is under a new K that is sealed only
to the remaining officers' public keys (recorded in the database) and to the recovery key, so
nothing a departed officer held (old K, old ``vault.keys``, their password, the device secret)
opens the current ``vault.db``.

Order, chosen so that a crash at any point loses nothing:

1. an encrypted copy of the database (old K) and of ``vault.keys`` beside the vault;
2. the slots for the new K written in full to ``vault.keys.rekey``;
3. SQLCipher's ``PRAGMA rekey`` (one transaction: it commits whole or not at all);
4. the database proven to open with the new K, the change recorded in the chain;
5. ``vault.keys.rekey`` renamed over ``vault.keys``.

A crash before 3 commits leaves the old K in force and a stale ``vault.keys.rekey``, which the
next unlock discards; a crash after 3 leaves the new K in force and the new slots waiting,
which the next unlock or recovery puts in place (see ``services.rekey_resume``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import replace as dc_replace
from pathlib import Path

from cim_desktop.domain.audit.rows import Action, AuditEvent
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.domain.officers.model import OfficerStatus
from cim_desktop.errors import CimError, IntegrityFailure, VaultCorrupt
from cim_desktop.security.atomic import atomic_write
from cim_desktop.security.keyslots import reissue_recovery
from cim_desktop.security.sealing import KEY_BYTES, issue_kwrap
from cim_desktop.security.slotfile import SlotFile, exclusive
from cim_desktop.services.access.approval import Approval
from cim_desktop.services.officers.management import ADMINS, approval_detail
from cim_desktop.services.session import Session
from cim_desktop.services.vault import keying, rekey_resume
from cim_desktop.services.vault.lifecycle import load_slots
from cim_desktop.store.vault.slot_keys import RECOVERY_HOLDER, opens_with, rekey

PURPOSE_REKEY = "re-key the vault"
STEPS = (
    "Taking an encrypted copy of the vault",
    "Issuing key slots for the new key",
    "Re-encrypting the database",
    "Checking the re-encrypted database",
    "Putting the new key slots in place",
)

# progress(step index, number of steps, what is happening)
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class RekeyResult:
    copy: Path
    keys_copy: Path
    slots_issued: int
    slots_disabled: int
    slots_removed: int
    seconds: float


def _no_progress(step: int, total: int, text: str) -> None:
    del step, total, text


def rekey_vault(
    session: Session, approval: Approval | None, progress: Progress | None = None
) -> RekeyResult:
    """Re-key the open vault. Administrator only; a second administrator approves when the
    vault has one. The session carries on with the new key."""
    report = progress or _no_progress
    acting = session.require(ADMINS, PURPOSE_REKEY, "vault", session.vault_id)
    detail = approval_detail(session, approval, PURPOSE_REKEY, session.vault_id)
    started = time.monotonic()
    paths = session.paths
    with exclusive(paths.keys):
        slots = load_slots(paths, session.keyring)
        report(0, len(STEPS), STEPS[0])
        stamp = f"{utc_now():%Y%m%dT%H%M%S%fZ}"
        copy = paths.db.with_name(f"{paths.db.name}.pre-rekey-{stamp}")
        keys_copy = paths.keys.with_name(f"{paths.keys.name}.pre-rekey-{stamp}")
        session.db.copy_to(copy, session.vault_key)
        atomic_write(keys_copy, paths.keys.read_bytes())

        report(1, len(STEPS), STEPS[1])
        new_key = os.urandom(KEY_BYTES)
        with session.db.reading():
            fresh, counts = _reissued(session, slots, new_key)
        rekey_resume.discard(paths)
        fresh.save(rekey_resume.next_path(paths))

        report(2, len(STEPS), STEPS[2])
        try:
            with session.db.reading():
                rekey(session.db.conn, new_key)
        except BaseException:
            # SQLCipher's rekey is one transaction: find out whether it committed.
            if not opens_with(paths.db, new_key):
                rekey_resume.discard(paths)
                raise
        report(3, len(STEPS), STEPS[3])
        if not opens_with(paths.db, new_key):
            raise IntegrityFailure(
                "The re-encrypted database does not open with its new key. "
                f"The copy taken first is {copy.name}; the new key slots "
                f"are in {rekey_resume.NEXT_NAME}."
            )
        session.vault_key = new_key
        now = iso_utc(utc_now())
        detail |= {
            "copy": copy.name,
            "slots_issued": counts[0],
            "slots_disabled": counts[1],
            "slots_removed": counts[2],
            "recovery": "re-issued",
        }
        with session.change(AuditEvent(Action.REKEY, "vault", session.vault_id, detail), acting):
            keying.slot_keys(session.db).record_rekey(now)

        report(4, len(STEPS), STEPS[4])
        rekey_resume.promote(paths)
    report(len(STEPS), len(STEPS), "Done")
    return RekeyResult(copy, keys_copy, *counts, seconds=time.monotonic() - started)


def _reissued(
    session: Session, slots: SlotFile, new_key: bytes
) -> tuple[SlotFile, tuple[int, int, int]]:
    """The slot file for ``new_key``: (slots, (issued, disabled, removed)).

    Only active officers get K; a suspended officer's slot stays (their password still opens
    their key pair, so reinstatement works) but without K; a slot with no officer or a departed
    one is dropped. Public keys come from the database, never from ``vault.keys``.
    """
    db = session.db
    issuer = keying.issuer(db)
    keys = keying.slot_keys(db)
    users = {}
    issued = disabled = removed = 0
    for uid, slot in slots.users.items():
        officer = db.officers.get(uid)
        recipient = keys.get(uid)
        if officer is None or officer.status is OfficerStatus.LEFT or recipient is None:
            removed += 1
            continue
        if officer.status is OfficerStatus.ACTIVE and slot.enabled:
            users[uid] = dc_replace(
                slot, kwrap=issue_kwrap(recipient, issuer, new_key, vault_id=db.vault_id, owner=uid)
            )
            issued += 1
        else:
            users[uid] = slot.disabled()
            disabled += 1
    recovery_public = keys.get(RECOVERY_HOLDER)
    if recovery_public is None:
        raise VaultCorrupt(
            "The vault has no recovery public key recorded; it cannot be "
            "re-keyed without losing the recovery route."
        )
    recovery = reissue_recovery(
        slots.recovery,
        recovery_public,
        issuer,
        new_key,
        session.keyring.get(session.vault_id),
        vault_id=db.vault_id,
    )
    fresh = dc_replace(
        slots,
        users=users,
        recovery=recovery,
        lockouts={u: lock for u, lock in slots.lockouts.items() if u in users},
    )
    return fresh, (issued, disabled, removed)


def copies(session: Session) -> list[Path]:
    """Copies taken before earlier re-keyings (they are under an old key)."""
    folder = session.paths.db.parent
    try:
        return sorted(folder.glob(f"{session.paths.db.name}.pre-rekey-*"))
    except OSError as exc:
        raise CimError(f"The vault folder cannot be listed ({exc.strerror}).") from None
