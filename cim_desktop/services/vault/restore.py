"""Restoring a backup into a vault folder, also when the current vault is broken or absent.

Everything is proved on a private copy before anything in the vault folder changes: the file's
SHA-256 and the manifest's signature, SQLCipher's page check and SQLite's structural check, the
whole audit chain, and that the chain ends exactly at the checkpoint taken with the backup
(signed by the officer who made it, with the key the backup's chain records for them). That
checkpoint is written into the restored vault's checkpoint file; kept with the backup, it is
also a checkpoint from outside the vault for ``cim audit verify --checkpoint <manifest>``.
Only then are the current files renamed aside (kept, never overwritten) and the copy moved in.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cim_desktop.domain.audit.rows import Action, AuditEvent
from cim_desktop.domain.officers.model import OfficerStatus
from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import (
    CimError,
    IntegrityFailure,
    InvalidInput,
    KeyringUnavailable,
    PermissionDenied,
    RecoveryCodeInvalid,
    VaultCorrupt,
    WrongCredentials,
)
from cim_desktop.security import recovery_code as codes
from cim_desktop.security import safe_json
from cim_desktop.security.device_secret import DeviceSecretStore, new_secret
from cim_desktop.security.kdf import KdfParams
from cim_desktop.security.keyslots import (
    open_recovery,
    reseat_device_layer,
    reseat_recovery,
    unwrap_recovery,
    unwrap_user,
)
from cim_desktop.security.slotfile import SlotFile, exclusive
from cim_desktop.services.vault import signing_keys
from cim_desktop.services.vault.backup_format import (
    BACKUP_SUFFIX,
    FORMAT,
    MANIFEST_SUFFIX,
    fsync_file,
    manifest_signature_valid,
    remove_quietly,
    sha256_file,
    storage_error,
)
from cim_desktop.services.vault.paths import VaultPaths
from cim_desktop.services.vault.restore_swap import (
    UNCHANGED,
    Prepared,
    refuse_foreign,
    replaced_tag,
    swap,
)
from cim_desktop.services.vault.slots import record_refusal
from cim_desktop.store.audit import checkpoints
from cim_desktop.store.audit.chain import SYSTEM_ACTOR, Actor
from cim_desktop.store.audit.checkpoints import Checkpoint
from cim_desktop.store.database import VaultDatabase
from cim_desktop.store.vault.backup_file import open_copy

_KEYRING_CANNOT_OPEN = (
    "The backup's key slots do not open with this workstation's keyring (it is unavailable, "
    "has no device secret for this vault, or holds one seated after the backup was taken). "
    "Restore with the recovery code instead (cim restore SRC --recovery-code-stdin). "
    "Nothing was changed."
)
_MAX_MANIFEST_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class RestoreResult:
    vault_id: str
    backup_file: Path
    replaced: list[Path]  # the previous vault's files, under their new names
    head_seq: int  # the audit chain's head after the RESTORE row
    counts: dict[str, int]  # as in the backup (and its manifest)
    by_recovery_code: bool
    slots_rewrapped: int


@dataclass(frozen=True)
class _Keys:
    vault_key: bytes
    user_id: str | None  # None when opened with the recovery code
    code_secret: bytes | None
    old_secret: bytes | None
    device_secret: bytes | None = None  # the keyring's, when opened with a password
    username: str = ""


# -- reading the backup ----------------------------------------------------------------------
def locate(source: Path) -> tuple[Path, Path]:
    """(backup file, manifest) from the name of either."""
    name = source.name
    if name.endswith(MANIFEST_SUFFIX):
        return source.with_name(name[: -len(MANIFEST_SUFFIX)] + BACKUP_SUFFIX), source
    if name.endswith(BACKUP_SUFFIX):
        return source, source.with_name(name[: -len(BACKUP_SUFFIX)] + MANIFEST_SUFFIX)
    raise InvalidInput(
        f"{name} is not a cim-desktop backup (a {BACKUP_SUFFIX} file with its "
        f"{MANIFEST_SUFFIX} beside it)."
    )


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(
            f"The manifest {path.name} is missing beside the backup; a backup "
            "cannot be restored without it."
        ) from None
    except OSError as exc:
        raise InvalidInput(f"The manifest {path.name} cannot be read ({exc.strerror}).") from None
    try:
        data = safe_json.loads(
            raw, max_bytes=_MAX_MANIFEST_BYTES, max_depth=24, what=f"The manifest {path.name}"
        )
    except VaultCorrupt as exc:
        raise IntegrityFailure(exc.message + UNCHANGED) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidInput(f"{path.name} is not a cim-desktop backup manifest.")
    return data


def _damaged(what: str) -> IntegrityFailure:
    return IntegrityFailure(f"The backup manifest is damaged ({what})." + UNCHANGED)


def _manifest_parts(manifest: dict[str, Any]) -> tuple[str, SlotFile, Checkpoint]:
    vault_id = manifest.get("vault_id")
    if not isinstance(vault_id, str) or not vault_id:
        raise _damaged("no vault id")
    try:
        # No MAC needed: the manifest's signature covers the slots (checked before use).
        slots = SlotFile.parse(
            json.dumps(manifest["keyslots"]).encode(), "the backup's key slots", require_mac=False
        )
    except (KeyError, TypeError, VaultCorrupt):
        raise _damaged("key slots") from None
    try:
        checkpoint = Checkpoint.from_json(manifest["checkpoint"])
    except (KeyError, InvalidInput):
        raise _damaged("checkpoint") from None
    if slots.vault_id != vault_id or checkpoint.vault_id != vault_id:
        raise _damaged("its parts name different vaults")
    return vault_id, slots, checkpoint


def _authenticate(
    slots: SlotFile,
    username: str | None,
    password: str | None,
    code: str | None,
    keyring: DeviceSecretStore,
    paths: VaultPaths,
) -> _Keys:
    """Open the backup's slots; a wrong code or password is refused and recorded in the
    vault being restored over, when there is one and its records can be authenticated."""
    if code is not None:
        secret = codes.secret_bytes(code)
        try:
            vault_key, old = unwrap_recovery(slots.recovery, secret, vault_id=slots.vault_id)
        except RecoveryCodeInvalid as exc:
            why_not = record_refusal(
                paths,
                keyring,
                Action.RESTORE_REFUSED,
                cause="wrong recovery code",
                method="recovery code",
            )
            raise RecoveryCodeInvalid(exc.message + why_not) from None
        return _Keys(vault_key, None, secret, old)
    if not username or password is None:
        raise InvalidInput(
            "Give the username and password of an administrator, or the "
            "recovery code, to restore a backup."
        )
    slot = slots.find_user(username)
    try:
        if slot is None:
            # Same effort as a real attempt, so the answer's timing does not reveal usernames.
            with contextlib.suppress(Exception):
                KdfParams.fresh().stretch(password.encode("utf-8", "surrogatepass"))
            raise WrongCredentials()
        try:
            device_secret = keyring.get(slots.vault_id)
            vault_key = unwrap_user(slot, device_secret, password, vault_id=slots.vault_id)
        except KeyringUnavailable:
            raise CimError(_KEYRING_CANNOT_OPEN) from None
    except WrongCredentials:
        why_not = record_refusal(
            paths,
            keyring,
            Action.RESTORE_REFUSED,
            username,
            cause="wrong password",
            method="password",
        )
        raise WrongCredentials(why_not) from None
    return _Keys(vault_key, slot.user_id, None, None, device_secret, slot.username)


# -- proving the copy --------------------------------------------------------------------------
def _public_key(db: VaultDatabase) -> tuple[Ed25519PublicKey, bytes]:
    pem = (db.meta.get("public_key") or "").encode()
    key = checkpoints.load_public_key(pem)
    if key is None:
        raise IntegrityFailure("The backup holds no valid signing key." + UNCHANGED)
    return key, pem


def _check_copy(db: VaultDatabase, manifest: dict[str, Any], cp: Checkpoint) -> bytes:
    public, pem = _public_key(db)
    if not manifest_signature_valid(manifest, public):
        raise IntegrityFailure(
            "The backup manifest's signature does not match: the manifest "
            "was altered or belongs to another vault." + UNCHANGED
        )
    problems = db.integrity_problems()
    if problems:
        raise IntegrityFailure(
            f"The backup file fails its integrity check ({len(problems)} "
            f"problem(s); first: {problems[0]})." + UNCHANGED
        )
    with db.reading():
        chain = db.audit.verify()
    if not chain.ok:
        raise IntegrityFailure(
            f"The backup's audit chain is broken at sequence "
            f"{chain.first_bad_seq}: {chain.problem}." + UNCHANGED
        )
    if chain.head_seq != cp.seq or chain.head_hash != cp.head:
        raise IntegrityFailure(
            f"The backup's audit chain ends at sequence {chain.head_seq}, but the manifest's "
            f"checkpoint is for sequence {cp.seq} with another head: the backup and its "
            "manifest do not belong together." + UNCHANGED
        )
    # A format-1 checkpoint was signed with the vault's own key, as the manifest is; a
    # format-2 one by an officer whose key the backup's own chain must record.
    if cp.old_format:
        signed = cp.signature_valid(public)
    else:
        with db.reading():
            known = signing_keys.recorded(db.conn, cp.signer_id, cp.seq)
        signed = cp.signature_valid() and known == cp.signer_key
    if not signed:
        raise IntegrityFailure(
            "The checkpoint in the backup manifest is not signed by an "
            "officer of this vault." + UNCHANGED
        )
    if db.schema_version() != manifest.get("schema_version"):
        raise IntegrityFailure("The backup's schema version differs from its manifest." + UNCHANGED)
    if db.table_counts() != manifest.get("counts"):
        raise IntegrityFailure("The backup's record counts differ from its manifest." + UNCHANGED)
    return pem


def _actor(db: VaultDatabase, keys: _Keys, paths: VaultPaths, keyring: DeviceSecretStore) -> Actor:
    if keys.user_id is None:
        return SYSTEM_ACTOR
    with db.reading():
        officer = db.officers.get(keys.user_id)
    if (
        officer is None
        or officer.status is not OfficerStatus.ACTIVE
        or not officer.has(Role.ADMINISTRATOR)
    ):
        # Recorded in the vault being restored over: this copy of the backup is discarded.
        why_not = record_refusal(
            paths,
            keyring,
            Action.RESTORE_REFUSED,
            keys.username,
            cause="not an administrator",
            method="password",
        )
        raise PermissionDenied(
            "Only an active officer with the administrator role in the "
            "backup may restore it." + UNCHANGED + why_not
        )
    return Actor(officer.id, officer.username, Role.ADMINISTRATOR.value, uuid.uuid4().hex[:16])


def _rewrapped(slots: SlotFile, keys: _Keys) -> tuple[SlotFile, bytes | None]:
    if keys.old_secret is None or keys.code_secret is None:
        assert keys.device_secret is not None  # opened with a password and the keyring
        slots.bind(keys.device_secret)
        return slots, None
    fresh = new_secret()
    slots.users = {
        uid: reseat_device_layer(s, keys.old_secret, fresh, vault_id=slots.vault_id)
        for uid, s in slots.users.items()
    }
    opened = open_recovery(slots.recovery, keys.code_secret, vault_id=slots.vault_id)
    slots.recovery = reseat_recovery(slots.recovery, opened, fresh, vault_id=slots.vault_id)
    slots.bind(fresh)
    return slots, fresh


def _prepare(
    tmp: Path,
    manifest: dict[str, Any],
    cp: Checkpoint,
    slots: SlotFile,
    keys: _Keys,
    source_name: str,
    replaced_tag: str,
    paths: VaultPaths,
    keyring: DeviceSecretStore,
) -> Prepared:
    try:
        db = open_copy(tmp, keys.vault_key, slots.vault_id)
    except VaultCorrupt:
        raise IntegrityFailure(
            "The backup file is damaged or was altered: it does not open "
            "with its own key." + UNCHANGED
        ) from None
    try:
        pem = _check_copy(db, manifest, cp)
        counts = db.table_counts()
        actor = _actor(db, keys, paths, keyring)
        slots, fresh = _rewrapped(slots, keys)
        by_code = keys.user_id is None
        event = AuditEvent(
            Action.RESTORE,
            "vault",
            slots.vault_id,
            {
                "backup": source_name,
                "backup_seq": cp.seq,
                "replaced": replaced_tag,
                "method": "recovery code" if by_code else "password",
                "slots_rewrapped": len(slots.users) if by_code else 0,
            },
            reason="recovery code" if by_code else "",
        )
        with db.transaction():
            row = db.audit.append(actor, event)
        # No checkpoint is signed over the RESTORE row here: no officer's signing key is open
        # (a recovery code opens none). The next lock signs one.
    finally:
        db.close()
    return Prepared(slots, pem, () if cp.old_format else (cp,), fresh, counts, row.seq)


# -- swapping it in ----------------------------------------------------------------------------
def restore_backup(
    vault_root: Path,
    backup_file: Path,
    *,
    username: str | None = None,
    password: str | None = None,
    recovery_code: str | None = None,
    keyring: DeviceSecretStore | None = None,
) -> RestoreResult:
    """Restore ``backup_file`` into ``vault_root``; the vault there need not open, or exist."""
    keyring = keyring or DeviceSecretStore()
    paths = VaultPaths(Path(vault_root).expanduser())
    source, manifest_path = locate(Path(backup_file).expanduser())
    if not source.is_file():
        raise InvalidInput(f"The backup file {source} does not exist.")
    manifest = read_manifest(manifest_path)
    vault_id, slots, cp = _manifest_parts(manifest)
    refuse_foreign(paths, vault_id)
    keys = _authenticate(slots, username, password, recovery_code, keyring, paths)

    created_root = not paths.root.exists()
    tmp = paths.root / f".vault.db.restore-{uuid.uuid4().hex[:12]}.tmp"
    try:
        paths.root.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(source, tmp)
            tmp.chmod(0o600)
            fsync_file(tmp)
        except OSError as exc:
            raise storage_error(
                exc, f"The backup could not be copied into {paths.root}", UNCHANGED.strip()
            ) from None
        # Hash the private copy, not the source: what is checked is exactly what moves in.
        if sha256_file(tmp)[0] != manifest.get("sha256"):
            raise IntegrityFailure(
                "The backup file does not match its manifest: it was changed "
                "or damaged after it was written." + UNCHANGED
            )
        tag = replaced_tag(paths)
        prepared = _prepare(tmp, manifest, cp, slots, keys, source.name, tag, paths, keyring)
        # No login or officer change may save an older vault.keys over the restored one.
        with exclusive(paths.keys):
            replaced = swap(paths, tmp, prepared, tag, keyring)
    except BaseException:
        remove_quietly(tmp)
        if created_root:
            with contextlib.suppress(OSError):
                paths.root.rmdir()
        raise
    by_code = keys.user_id is None
    return RestoreResult(
        vault_id,
        source,
        replaced,
        prepared.head_seq,
        prepared.counts,
        by_code,
        len(prepared.slots.users) if by_code else 0,
    )


__all__ = ["RestoreResult", "locate", "read_manifest", "restore_backup"]
