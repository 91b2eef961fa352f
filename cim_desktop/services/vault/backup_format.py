"""The backup format: manifest signing and careful file writing shared by backup and restore.

A backup is two files with one stem: ``<stem>.cimvault`` (the SQLCipher database under the
vault key) and ``<stem>.manifest.json`` (JSON, signed with the vault's Ed25519 key).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cim_desktop.errors import CimError, InvalidInput, StorageFull

FORMAT = "cim-desktop-backup/1"
BACKUP_SUFFIX = ".cimvault"
MANIFEST_SUFFIX = ".manifest.json"
_SIGNED_CONTEXT = b"cim-desktop backup manifest/1|"
_CHUNK = 1024 * 1024


# -- manifest signing ----------------------------------------------------------------------
def canonical_manifest(manifest: dict[str, Any]) -> bytes:
    body = {k: v for k, v in manifest.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_manifest(manifest: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    signed = dict(manifest)
    signed["signature"] = key.sign(_SIGNED_CONTEXT + canonical_manifest(manifest)).hex()
    return signed


def manifest_signature_valid(manifest: dict[str, Any], public: Ed25519PublicKey) -> bool:
    try:
        signature = bytes.fromhex(str(manifest.get("signature", "")))
        public.verify(signature, _SIGNED_CONTEXT + canonical_manifest(manifest))
    except (InvalidSignature, ValueError):
        return False
    return True


# -- file helpers ----------------------------------------------------------------------------
def sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def place_new(tmp: Path, final: Path) -> None:
    """Move ``tmp`` to ``final``, refusing to replace a file that appeared meanwhile."""
    try:
        # A hard link fails if the name is taken, which a rename would silently replace.
        os.link(tmp, final)
    except FileExistsError:
        raise InvalidInput(f"{final.name} already exists; it was not overwritten.") from None
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise
        # No hard links here (FAT or exFAT media, some network shares): check, then rename.
        if final.exists():
            raise InvalidInput(f"{final.name} already exists; it was not overwritten.") from None
        tmp.rename(final)
        return
    tmp.unlink()


def write_new(path: Path, data: bytes) -> None:
    """Write a file that must not exist yet: temp name, fsync, no-replace rename."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        place_new(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def remove_quietly(*paths: Path) -> None:
    for path in paths:
        for candidate in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
            with contextlib.suppress(OSError):
                candidate.unlink()


def free_stem(dest_dir: Path, stem: str) -> str:
    candidate, number = stem, 1
    while any((dest_dir / (candidate + s)).exists() for s in (BACKUP_SUFFIX, MANIFEST_SUFFIX)):
        number += 1
        candidate = f"{stem}-{number}"
    return candidate


def storage_error(exc: OSError, what: str, outcome: str = "Nothing was kept.") -> CimError:
    """A user-facing error for a failed file operation; ``what`` says which one failed."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull()
    reason = exc.strerror or "operating system error"
    return CimError(f"{what}: {reason}. {outcome}")
