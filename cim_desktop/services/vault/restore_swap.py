"""The last step of a restore: the current vault files set aside (kept, never overwritten) and
the proved copy moved in, or the foreign vault in the way refused."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from cim_desktop.domain.clock import utc_now
from cim_desktop.errors import (
    CimError,
    InvalidInput,
    KeyringUnavailable,
)
from cim_desktop.security.atomic import atomic_write, fsync_dir
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.security.slotfile import SlotFile
from cim_desktop.services.vault.backup_format import (
    place_new,
    remove_quietly,
    storage_error,
)
from cim_desktop.services.vault.paths import VaultPaths
from cim_desktop.store.audit import checkpoints
from cim_desktop.store.audit.checkpoints import Checkpoint

UNCHANGED = " Nothing was changed."


@dataclass(frozen=True)
class Prepared:
    slots: SlotFile
    public_pem: bytes
    checkpoints: tuple[Checkpoint, ...]  # the backup's (format 2 only)
    new_secret: bytes | None
    counts: dict[str, int]
    head_seq: int  # the RESTORE row


def vault_files(paths: VaultPaths) -> list[Path]:
    db = paths.db
    return [
        db,
        db.with_name(db.name + "-wal"),
        db.with_name(db.name + "-shm"),
        db.with_name(db.name + "-journal"),
        paths.keys,
        paths.checkpoints,
        paths.public_key,
    ]


def set_aside(path: Path, tag: str) -> Path:
    # SQLite finds a WAL by appending "-wal" to the database's name; keep that pairing.
    for side in ("-wal", "-shm", "-journal"):
        if path.name.endswith(".db" + side):
            return path.with_name(f"{path.name[: -len(side)]}.{tag}{side}")
    return path.with_name(f"{path.name}.{tag}")


def replaced_tag(paths: VaultPaths) -> str:
    base = f"replaced-{utc_now():%Y%m%dT%H%M%SZ}"
    tag, number = base, 1
    while any(set_aside(p, tag).exists() for p in vault_files(paths)):
        number += 1
        tag = f"{base}-{number}"
    return tag


def swap(
    paths: VaultPaths, tmp: Path, prepared: Prepared, tag: str, keyring: DeviceSecretStore
) -> list[Path]:
    vault_id = prepared.slots.vault_id
    moved: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    previous: bytes | None = None
    seated = False
    try:
        if prepared.new_secret is not None:
            with contextlib.suppress(KeyringUnavailable):
                previous = keyring.get(vault_id)
            keyring.put(vault_id, prepared.new_secret)
            seated = True
        for current in vault_files(paths):
            if current.exists():
                place_new(current, set_aside(current, tag))
                moved.append((current, set_aside(current, tag)))
        placed.append(paths.db)
        tmp.rename(paths.db)
        placed.append(paths.keys)
        prepared.slots.save(paths.keys)
        placed.append(paths.public_key)
        atomic_write(paths.public_key, prepared.public_pem, mode=0o644)
        placed.append(paths.checkpoints)
        for cp in prepared.checkpoints:
            checkpoints.append(paths.checkpoints, cp)
        fsync_dir(paths.root)
    except BaseException as exc:
        remove_quietly(*placed)
        for current, aside in reversed(moved):
            with contextlib.suppress(OSError):
                aside.rename(current)
        if seated:
            with contextlib.suppress(CimError):
                if previous is not None:
                    keyring.put(vault_id, previous)
                else:
                    keyring.delete(vault_id)
        if isinstance(exc, OSError):
            raise storage_error(
                exc,
                "The restored vault could not be moved into place",
                "The vault was put back as it was.",
            ) from None
        raise
    return [aside for _, aside in moved]


def refuse_foreign(paths: VaultPaths, vault_id: str) -> None:
    current: str | None = None
    with contextlib.suppress(CimError, OSError):
        current = (
            SlotFile.load(paths.keys, require_mac=False).vault_id if paths.keys.exists() else None
        )
    if current is not None and current != vault_id:
        raise InvalidInput(
            f"The backup is of another vault than the one in {paths.root}. "
            "Restore it into an empty folder instead." + UNCHANGED
        )
