"""Creating, unlocking and recovering a vault. Logging in *is* unlocking."""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from cim_desktop.domain.audit.rows import Action, AuditEvent, Outcome
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.domain.officers.lockout import LockoutPolicy, recent_failures, should_lock
from cim_desktop.domain.officers.model import Officer, OfficerStatus
from cim_desktop.domain.officers.passwords import check_new_password
from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.policy.settings import Policy
from cim_desktop.domain.text import check_storable
from cim_desktop.errors import (
    AccountLocked,
    CimError,
    InvalidInput,
    SlotDisabled,
    StorageFull,
    VaultExists,
    WrongCredentials,
)
from cim_desktop.security import recovery_code
from cim_desktop.security.atomic import atomic_write
from cim_desktop.security.device_secret import DeviceSecretStore, new_secret
from cim_desktop.security.kdf import KdfParams
from cim_desktop.security.keyslots import (
    OfficerKeys,
    signer_key_for,
    unwrap_user,
    unwrap_user_with_signer,
    wrap_for_user,
    wrap_recovery,
)
from cim_desktop.security.pending_events import new_event
from cim_desktop.security.sealing import KEY_BYTES, new_private_key, public_key
from cim_desktop.security.slotfile import SlotFile, check_username, exclusive
from cim_desktop.services.session import Session
from cim_desktop.services.vault import memory_security, rekey_resume, signing_keys, state_check
from cim_desktop.services.vault.paths import VaultPaths
from cim_desktop.services.vault.slots import load_slots, read_slots, verify
from cim_desktop.store.audit import checkpoints
from cim_desktop.store.audit.chain import SYSTEM_ACTOR, Actor
from cim_desktop.store.database import VaultDatabase
from cim_desktop.store.policy.values import PolicyRepository
from cim_desktop.store.vault.slot_keys import RECOVERY_HOLDER, SlotKeyRepository

__all__ = [
    "NewVault",
    "authenticate",
    "confirm_password",
    "create_vault",
    "flush_pending",
    "load_slots",
    "unlock",
]


@dataclass(frozen=True)
class NewVault:
    session: Session
    recovery_code: str


def create_vault(
    root: Path,
    *,
    unit_name: str,
    admin_username: str,
    admin_password: str,
    admin_display_name: str = "",
    keyring: DeviceSecretStore | None = None,
) -> NewVault:
    """Create a vault with its first administrator; return the session and recovery code."""
    keyring = keyring or DeviceSecretStore()
    paths = VaultPaths(root)
    unit_name = check_storable(unit_name.strip(), "Unit name")
    if not 1 <= len(unit_name) <= 120:
        raise InvalidInput("The unit name must be 1 to 120 characters.")
    username = check_username(admin_username)
    check_new_password(admin_password, username)
    if paths.exists():
        raise VaultExists(f"A vault already exists in {root}; it was left untouched.")
    keyring.backend  # noqa: B018  (fail closed before anything is created)
    made_root = not root.exists()

    vault_id = str(uuid.uuid4())
    vault_key = os.urandom(KEY_BYTES)
    device_secret = new_secret()
    code = recovery_code.generate()
    admin_id = str(uuid.uuid4())
    now = iso_utc(utc_now())
    admin = Officer(
        admin_id,
        username,
        admin_display_name.strip() or username,
        OfficerStatus.ACTIVE,
        frozenset({Role.ADMINISTRATOR}),
        now,
    )
    # Slow work first, so a failure leaves nothing behind.
    issuer, recovery_private, admin_private = (new_private_key() for _ in range(3))
    slot_file = SlotFile(
        vault_id=vault_id,
        unit_name=unit_name,
        recovery=wrap_recovery(
            vault_key,
            device_secret,
            recovery_code.secret_bytes(code),
            vault_id=vault_id,
            issuer_public=public_key(issuer),
            private=recovery_private,
        ),
    )
    slot_file.bind(device_secret)
    admin_slot = wrap_for_user(
        vault_key,
        device_secret,
        admin_password,
        vault_id=vault_id,
        user_id=admin_id,
        username=username,
        issuer_public=public_key(issuer),
        private=admin_private,
    )
    signer_key = signer_key_for(OfficerKeys(admin_private, public_key(issuer)), vault_id)
    officer_signer = signing_keys.new_key()
    slot_file.users[admin_id] = signing_keys.seal_into(
        admin_slot, signer_key, officer_signer, vault_id
    )
    keyring.put(vault_id, device_secret)
    db: VaultDatabase | None = None
    try:
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            if exc.errno == 28:
                raise StorageFull() from None
            raise InvalidInput(
                f"The vault folder {root} cannot be created ({exc.strerror})."
            ) from None
        db = VaultDatabase.create(paths.db, vault_key, vault_id)
        signing = checkpoints.new_signing_key()
        public_pem = signing.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        raw_private = signing.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        session = Session(paths, db, admin, keyring, vault_key, officer_signer)
        with db.transaction():
            db.meta.set("unit_name", unit_name)
            db.meta.set("created_at", now)
            db.meta.set("signing_key", raw_private.hex())
            db.meta.set("public_key", public_pem.decode())
            db.officers.add(admin, granted_by="vault-create")
            slot_keys = SlotKeyRepository(db.conn)
            slot_keys.set_issuer(issuer)
            slot_keys.set(RECOVERY_HOLDER, public_key(recovery_private), now)
            slot_keys.set(admin_id, public_key(admin_private), now)
            actor = session.actor_as(Role.ADMINISTRATOR)
            db.audit.append(
                actor,
                AuditEvent(Action.VAULT_CREATE, "vault", vault_id, {"schema": db.schema_version()}),
            )
            db.audit.append(
                actor,
                AuditEvent(
                    Action.CREATE, "officer", admin_id, {"roles": [Role.ADMINISTRATOR.value]}
                ),
            )
            db.audit.append(
                actor,
                signing_keys.record_event(admin_id, officer_signer, signing_keys.MADE_AT_CREATION),
            )
            db.audit.append(actor, AuditEvent(Action.LOGIN, "session", session.session_id))
        with exclusive(paths.keys):
            slot_file.save(paths.keys)
        atomic_write(paths.public_key, public_pem, mode=0o644)
    except BaseException:
        if db is not None:
            db.close()
        lock_file = paths.keys.with_name(paths.keys.name + ".lock")
        for leftover in (paths.db, paths.keys, paths.public_key, lock_file):
            with contextlib.suppress(OSError):
                leftover.unlink()
        if made_root:
            with contextlib.suppress(OSError):
                root.rmdir()
        with contextlib.suppress(CimError):
            keyring.delete(vault_id)
        raise
    return NewVault(session, code)


def _pending(action: Action, user_id: str, username: str, **detail: Any) -> dict[str, Any]:
    return new_event(action, user_id, username, **detail)


def unlock(
    root: Path, username: str, password: str, keyring: DeviceSecretStore | None = None
) -> Session:
    """Open the vault as ``username``; wrong credentials never touch the database."""
    keyring = keyring or DeviceSecretStore()
    paths = VaultPaths(root)
    read_slots(paths)  # a clear message when there is no vault, before any lock file
    with exclusive(paths.keys):
        return _unlock(paths, username, password, keyring)


def _unlock(paths: VaultPaths, username: str, password: str, keyring: DeviceSecretStore) -> Session:
    # One keyring read serves the MAC check, the unwrap and an interrupted re-keying: each is
    # a round trip to the OS secret store on the login path.
    slots = read_slots(paths)
    device_secret = keyring.get(slots.vault_id)
    verify(slots, device_secret)
    user_id, vault_key, signer_key = authenticate_with_signer(
        paths, slots, username, password, keyring, device_secret=device_secret
    )
    memory_security.start(slots)
    db, vault_key, completed = rekey_resume.open_database(
        paths,
        vault_key,
        slots.vault_id,
        rekey_resume.pending(paths, device_secret),
        lambda nxt: unwrap_user(
            nxt.users[user_id], device_secret, password, vault_id=slots.vault_id
        ),
    )
    if completed:
        slots = load_slots(paths, keyring)
    session = _start_session(paths, db, slots, user_id, keyring, vault_key, signer_key)
    rekey_resume.record_if_completed(session.db, session.actor, completed)
    return session


def authenticate(
    paths: VaultPaths, slots: SlotFile, username: str, password: str, keyring: DeviceSecretStore
) -> tuple[str, bytes]:
    """Unwrap ``username``'s slot: (officer id, vault key). Counts failures; the caller
    holds the slot file's lock."""
    user_id, vault_key, _ = authenticate_with_signer(paths, slots, username, password, keyring)
    return user_id, vault_key


def authenticate_with_signer(
    paths: VaultPaths,
    slots: SlotFile,
    username: str,
    password: str,
    keyring: DeviceSecretStore,
    *,
    device_secret: bytes | None = None,
) -> tuple[str, bytes, bytes]:
    """As ``authenticate``, plus the key that seals this officer's checkpoint-signing key.

    ``device_secret``: given by a caller that has just read it and checked ``slots``' MAC
    with it; otherwise both are done here.
    """
    # The device secret first: every record written below must carry the file's MAC, and
    # a file that fails it is refused before anything is counted or saved.
    if device_secret is None:
        device_secret = keyring.get(slots.vault_id)
        verify(slots, device_secret)
    slot = slots.find_user(username)
    if slot is None:
        # Spend the same effort as a real attempt so timing does not reveal usernames.
        with contextlib.suppress(Exception):
            KdfParams.fresh().stretch(password.encode("utf-8", "surrogatepass"))
        slots.add_pending(_pending(Action.FAILED_LOGIN, "", "", cause="unknown username"))
        slots.save(paths.keys)
        raise WrongCredentials()
    lock = slots.lockout(slot.user_id)
    if lock.locked_at is not None:
        slots.add_pending(
            _pending(Action.FAILED_LOGIN, slot.user_id, slot.username, cause="account locked")
        )
        slots.save(paths.keys)
        raise AccountLocked(slot.username)
    try:
        vault_key, signer_key = unwrap_user_with_signer(
            slot, device_secret, password, vault_id=slots.vault_id
        )
    except SlotDisabled:
        # The password was right, but suspension took K out of the slot: the database
        # cannot be opened, so the attempt waits here for the next unlock.
        slots.add_pending(
            _pending(
                Action.FAILED_LOGIN,
                slot.user_id,
                slot.username,
                cause="slot disabled (account suspended)",
            )
        )
        if lock.failures:
            lock.failures = []
        slots.save(paths.keys)
        raise
    except WrongCredentials:
        now = utc_now()
        lock.failures = [*recent_failures(lock.failures, now, slots.lockout_policy), now]
        slots.add_pending(
            _pending(Action.FAILED_LOGIN, slot.user_id, slot.username, cause="wrong password")
        )
        if should_lock(lock.failures, now, slots.lockout_policy):
            lock.locked_at = now
            slots.add_pending(
                _pending(
                    Action.ACCOUNT_LOCKED, slot.user_id, slot.username, failures=len(lock.failures)
                )
            )
            slots.save(paths.keys)
            raise AccountLocked(slot.username) from None
        slots.save(paths.keys)
        raise
    if lock.failures:
        lock.failures = []
        slots.save(paths.keys)
    return slot.user_id, vault_key, signer_key


def confirm_password(
    paths: VaultPaths, username: str, password: str, keyring: DeviceSecretStore
) -> str:
    """Prove that ``username`` knows their password (their slot unwraps); return their id.

    Used for re-entering a password (break-glass) and for a second officer's approval. A
    wrong password counts towards that officer's lockout, as at login.
    """
    with exclusive(paths.keys):
        slots = load_slots(paths, keyring)
        user_id, _ = authenticate(paths, slots, username, password, keyring)
    return user_id


def _start_session(
    paths: VaultPaths,
    db: VaultDatabase,
    slots: SlotFile,
    user_id: str,
    keyring: DeviceSecretStore,
    vault_key: bytes,
    signer_key: bytes,
) -> Session:
    try:
        # Before anything else is written: a granting row put back from an older copy of a
        # page must not let its officer in, and the first row appended must not bless it.
        slot = slots.users.get(user_id)
        state_check.check_at_unlock(db, user_id, slot.username if slot else "")
        with db.reading():
            officer = db.officers.get(user_id)
        if officer is None or officer.status is not OfficerStatus.ACTIVE:
            with db.transaction():
                db.audit.append(
                    Actor(user_id, officer.username if officer else "", "none", ""),
                    AuditEvent(
                        Action.LOGIN,
                        "session",
                        "",
                        {"cause": "account not active"},
                        outcome=Outcome.DENIED,
                    ),
                )
            raise CimError("This account is not active. Ask an administrator.")
        session = Session(paths, db, officer, keyring, vault_key)
        flushed = flush_pending(db, slots)
        mirrored = mirror_lockout_policy(db, slots)
        mirrored = mirror_unit_name(db, slots) or mirrored
        if db.migrated is not None:
            old, new, copy = db.migrated
            session.record(
                AuditEvent(
                    Action.MIGRATE,
                    "vault",
                    db.vault_id,
                    {"from": old, "to": new, "copy": copy.name},
                )
            )
        made_key = _seat_signer(session, slots, signer_key)
        memory = memory_security.reconcile(db, slots)
        session.record(
            AuditEvent(Action.LOGIN, "session", session.session_id, memory.login_detail())
        )
        # ``authenticate`` already cleared this officer's failure count.
        if flushed or mirrored or made_key or memory.mirror_repaired:
            slots.save(paths.keys)
        return session
    except BaseException:
        db.close()
        raise


def _seat_signer(session: Session, slots: SlotFile, signer_key: bytes) -> bool:
    """Open (or make and record) the officer's checkpoint-signing key; True if the slot changed.

    A key that opens but is not the one the chain last recorded for this officer means the
    chain was rolled back or rewritten (or a key record forged): the key is recorded again
    with a failed outcome, so the finding reaches the chain and this officer's checkpoints
    verify from here on.
    """
    officer_id = session.officer.id
    slot = slots.users[officer_id]
    key = signing_keys.open_from(slot, signer_key, session.vault_id)
    if key is None:
        key = signing_keys.new_key()
        slots.users[officer_id] = signing_keys.seal_into(slot, signer_key, key, session.vault_id)
        session.record(signing_keys.record_event(officer_id, key, signing_keys.MADE_AT_LOGIN))
        session.signer = key
        return True
    with session.db.reading():
        known = signing_keys.recorded(session.db.conn, officer_id)
    if known != signing_keys.public_bytes(key):
        session.record(
            signing_keys.record_event(officer_id, key, signing_keys.RE_RECORDED, Outcome.FAILED)
        )
    session.signer = key
    return False


def mirror_lockout_policy(db: VaultDatabase, slots: SlotFile) -> bool:
    """Copy the database's lockout settings into the slot file; True if they differed.

    The database is authoritative: the copy in vault.keys exists only because failed logins
    are counted while the database is closed.
    """
    with db.reading():
        policy = Policy.overlay(PolicyRepository(db.conn).values())
    wanted = LockoutPolicy(
        policy.number("lockout_max_failures"), policy.number("lockout_window_minutes")
    )
    if slots.lockout_policy == wanted:
        return False
    slots.lockout_policy = wanted
    return True


def mirror_unit_name(db: VaultDatabase, slots: SlotFile) -> bool:
    """Copy the unit's name into the slot file for the login window; True if it differed.

    The database is authoritative; vaults made before the copy existed get it here."""
    with db.reading():
        name = db.meta.get("unit_name", "") or ""
    if slots.unit_name == name:
        return False
    slots.unit_name = name
    return True


def flush_pending(db: VaultDatabase, slots: SlotFile) -> bool:
    """Carry failed logins, lockouts and refusals recorded while closed into the chain.

    The events were checked field by field when the file was read, and its MAC with the
    device secret, so each is what this application wrote.
    """
    events = list(slots.pending_events)
    dropped = slots.pending_dropped
    if not events and not dropped:
        return False
    with db.transaction():
        by_action: dict[str, list[str]] = {}
        for ev in events:
            by_action.setdefault(ev["action"], []).append(ev["event_id"])
        seen: set[str] = set()
        for action_name, ids in by_action.items():
            seen |= db.audit.recorded_event_ids(action_name, ids)
        for ev in events:
            if ev["event_id"] in seen:
                continue
            detail = {**ev["detail"], "event_id": ev["event_id"], "recorded_late": True}
            actor = Actor(ev["user_id"] or "unknown", ev["username"], "none", "")
            action = Action(ev["action"])
            if action in (Action.RESTORE_REFUSED, Action.RECOVERY_REFUSED):
                event = AuditEvent(action, "vault", slots.vault_id, detail, outcome=Outcome.DENIED)
            else:
                event = AuditEvent(action, "officer", ev["user_id"], detail, outcome=Outcome.FAILED)
            db.audit.append(actor, event, ts=ev["occurred_at"])
        if dropped:
            db.audit.append(
                SYSTEM_ACTOR,
                AuditEvent(
                    Action.EVENTS_DROPPED,
                    "vault",
                    slots.vault_id,
                    {"dropped": dropped},
                    reason="more events waited in vault.keys than it keeps",
                ),
            )
    flushed = {ev["event_id"] for ev in events}
    slots.pending_events = [e for e in slots.pending_events if e["event_id"] not in flushed]
    slots.pending_dropped -= dropped
    return True
