"""Signed checkpoints of the audit chain head, appended to ``checkpoints.jsonl``.

A checkpoint is (vault id, sequence, head hash, time) signed with the vault's Ed25519 key.
Presented later, it proves the chain still reaches that row with that hash, which is what
catches truncation and a roll-back of the whole file to an older copy.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cim_desktop.errors import InvalidInput, StorageFull, VaultCorrupt
from cim_desktop.security import safe_json
from cim_desktop.security.atomic import fsync_dir

FORMAT = "cim-desktop-checkpoint/1"


@dataclass(frozen=True)
class Checkpoint:
    vault_id: str
    seq: int
    head: bytes
    time: str
    signature: bytes = b""

    def message(self) -> bytes:
        return f"{FORMAT}|{self.vault_id}|{self.seq}|{self.head.hex()}|{self.time}".encode()

    def signed(self, key: Ed25519PrivateKey) -> Checkpoint:
        return Checkpoint(self.vault_id, self.seq, self.head, self.time, key.sign(self.message()))

    def signature_valid(self, public: Ed25519PublicKey) -> bool:
        try:
            public.verify(self.signature, self.message())
        except InvalidSignature:
            return False
        return True

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "vault_id": self.vault_id,
            "seq": self.seq,
            "head": self.head.hex(),
            "time": self.time,
            "sig": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: Any) -> Checkpoint:
        try:
            if data["format"] != FORMAT:
                raise InvalidInput("This is not a cim-desktop checkpoint.")
            return cls(
                str(data["vault_id"]),
                int(data["seq"]),
                bytes.fromhex(data["head"]),
                str(data["time"]),
                bytes.fromhex(data["sig"]),
            )
        except (KeyError, TypeError, ValueError):
            raise InvalidInput("The checkpoint is damaged or not a cim-desktop checkpoint.") \
                from None


def append(path: Path, checkpoint: Checkpoint) -> None:
    line = (json.dumps(checkpoint.to_json(), sort_keys=True) + "\n").encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_dir(path.parent)
    except OSError as exc:
        if exc.errno == 28:
            raise StorageFull() from None
        raise


MAX_LINE_BYTES = 64 * 1024
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 8


def _parse(raw: bytes, max_bytes: int, what: str) -> Checkpoint:
    """One checkpoint from JSON text, bounded in size and depth, finite integers only."""
    try:
        data = safe_json.loads(raw, max_bytes=max_bytes, max_depth=MAX_DEPTH, what=what)
    except VaultCorrupt as exc:
        raise InvalidInput(exc.message) from None
    if isinstance(data, dict) and isinstance(data.get("checkpoint"), dict):
        data = data["checkpoint"]  # a backup manifest
    # Lone surrogates and control characters would break the signed message or the output.
    if not isinstance(data, dict) or any(isinstance(v, str) and not v.isprintable()
                                         for v in data.values()):
        raise InvalidInput(f"{what} is not a checkpoint.")
    return Checkpoint.from_json(data)


def read(path: Path) -> list[Checkpoint]:
    """Read a checkpoint file (one JSON object a line) or a single JSON checkpoint."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InvalidInput(f"The checkpoint file {path} does not exist.") from None
    except OSError:
        raise InvalidInput(f"The checkpoint file {path} cannot be read.") from None
    if len(raw) > MAX_FILE_BYTES:
        raise InvalidInput(f"The checkpoint file {path} is larger than "
                           f"{MAX_FILE_BYTES // (1024 * 1024)} MiB.")
    found: list[Checkpoint] = []
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            found.append(_parse(line, MAX_LINE_BYTES, f"Line {number} of {path}"))
        except InvalidInput:
            if number == 1:  # perhaps one checkpoint spread over several lines
                found = [_parse(raw, MAX_LINE_BYTES, f"The checkpoint file {path}")]
                return found
            raise
    if not found:
        raise InvalidInput(f"{path} holds no checkpoint.")
    return found


def load_public_key(pem: bytes) -> Ed25519PublicKey | None:
    """The vault's checkpoint-verifying key from its PEM text, or None if it is not one."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm):  # a damaged vault.pub can name any algorithm
        return None
    return key if isinstance(key, Ed25519PublicKey) else None


def new_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()
