"""Encrypted backups: a consistent copy of the vault database plus a signed manifest.

The backup file is the SQLCipher database under the same vault key, so it is as safe to carry
as the vault itself. The manifest holds what restoring needs besides the file: the key-slot
file (wrapped keys only), the audit checkpoint taken with the backup, counts, the schema
version and the file's SHA-256, all signed with the vault's Ed25519 key.
Restoring lives in ``services.restore``; it is re-exported here.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cim_desktop import __version__
from cim_desktop.domain.audit.rows import Action, AuditEvent, Outcome
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import CimError, InvalidInput, StorageFull
from cim_desktop.security.atomic import fsync_dir
from cim_desktop.services.session import Session
from cim_desktop.services.vault.backup_format import (
    BACKUP_SUFFIX,
    FORMAT,
    MANIFEST_SUFFIX,
    free_stem,
    fsync_file,
    place_new,
    remove_quietly,
    sha256_file,
    sign_manifest,
    storage_error,
    write_new,
)
from cim_desktop.services.vault.lifecycle import load_slots
from cim_desktop.services.vault.restore import RestoreResult, restore_backup

ADMINS = frozenset({Role.ADMINISTRATOR})
_MANIFEST_ROOM = 256 * 1024


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest_path: Path
    manifest: dict[str, Any]


def _check_space(session: Session, dest_dir: Path) -> None:
    """Refuse before writing when the copy cannot fit.

    The copy is written through a WAL, so it may briefly need twice the database's size.
    """
    db = session.paths.db
    size = sum(p.stat().st_size for p in (db, db.with_name(db.name + "-wal")) if p.exists())
    if shutil.disk_usage(dest_dir).free < 2 * size + _MANIFEST_ROOM:
        raise StorageFull()


# -- taking a backup -------------------------------------------------------------------------
def create_backup(session: Session, dest_dir: Path) -> BackupResult:
    """Write ``cim-backup-<vault>-<time>.cimvault`` and its signed manifest into ``dest_dir``."""
    role = session.require(ADMINS, "make a backup", "vault", session.vault_id)
    dest_dir = Path(dest_dir).expanduser()
    if not dest_dir.is_dir():
        raise InvalidInput(f"The backup folder {dest_dir} does not exist or is not a folder.")
    vault_id = session.vault_id
    now = utc_now()
    stem = free_stem(dest_dir, f"cim-backup-{vault_id[:8]}-{now:%Y%m%dT%H%M%SZ}")
    target = dest_dir / (stem + BACKUP_SUFFIX)
    manifest_path = dest_dir / (stem + MANIFEST_SUFFIX)
    tmp = dest_dir / f".{target.name}.tmp-{os.getpid()}"
    remove_quietly(tmp)

    # The BACKUP row goes in first so that the copy holds it and the checkpoint signs it.
    session.record(
        AuditEvent(Action.BACKUP, "vault", vault_id, {"file": target.name, "stage": "started"}),
        role,
    )
    checkpoint = session.checkpoint()
    manifest_written = placed = False
    try:
        _check_space(session, dest_dir)
        slots = load_slots(session.paths, session.keyring)
        session.db.copy_to(tmp, session.vault_key)
        tmp.chmod(0o600)
        fsync_file(tmp)
        digest, size = sha256_file(tmp)
        manifest = sign_manifest(
            {
                "format": FORMAT,
                "vault_id": vault_id,
                "created_at": iso_utc(now),
                "app_version": __version__,
                "schema_version": session.db.schema_version(),
                "counts": session.db.table_counts(),
                "checkpoint": checkpoint.to_json(),
                "backup_file": target.name,
                "size": size,
                "sha256": digest,
                "keyslots": slots.to_json(),
            },
            session.signing_key(),
        )
        text = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        write_new(manifest_path, text.encode("utf-8"))
        manifest_written = True
        place_new(tmp, target)
        placed = True
        fsync_dir(dest_dir)
    except BaseException as exc:
        remove_quietly(tmp)
        if manifest_written:
            remove_quietly(manifest_path)
        if placed:
            remove_quietly(target)
        with contextlib.suppress(Exception):
            session.record(
                AuditEvent(
                    Action.BACKUP,
                    "vault",
                    vault_id,
                    {"file": target.name, "stage": "failed"},
                    outcome=Outcome.FAILED,
                ),
                role,
            )
        if isinstance(exc, OSError):
            raise storage_error(exc, f"The backup could not be written to {dest_dir}") from None
        if type(exc) is CimError:
            # SQLite's backup API reports a full disk without its result code; look instead.
            _check_space(session, dest_dir)
        raise

    done = AuditEvent(
        Action.BACKUP,
        "vault",
        vault_id,
        {
            "file": target.name,
            "stage": "completed",
            "sha256": digest,
            "checkpoint_seq": checkpoint.seq,
        },
    )
    with session.change(done, role):
        session.db.meta.set("last_backup", json.dumps({"time": iso_utc(now), "file": target.name}))
    return BackupResult(target, manifest_path, manifest)


def last_backup(session: Session) -> dict[str, str] | None:
    """``{"time": ..., "file": ...}`` of the last completed backup, or ``None``."""
    raw = session.db.meta.get("last_backup")
    if not raw:
        return None
    with contextlib.suppress(ValueError, TypeError):
        data = json.loads(raw)
        if isinstance(data, dict):
            return {"time": str(data.get("time", "")), "file": str(data.get("file", ""))}
    return None


__all__ = ["BackupResult", "RestoreResult", "create_backup", "last_backup", "restore_backup"]
