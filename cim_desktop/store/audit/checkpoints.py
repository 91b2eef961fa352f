"""Signed checkpoints of the audit chain head, appended to ``checkpoints.jsonl``.

A checkpoint is (vault id, sequence, head hash, time, signer) signed with the signing officer's
own Ed25519 key, whose private half is sealed under that officer's password (see
``security.keyslots``), never under the vault key. Presented later, it proves the chain still
reaches that row with that hash, which is what catches truncation and a roll-back of the whole
file to an older copy; and a checkpoint forged by someone holding the vault key names the
officer whose password was used, or is refused (``services.audit.check_checkpoint``).

Format 1 checkpoints were signed with the vault's own key, which anyone holding the vault key
can use; they are read only so that they can be named and refused (and so that a backup made
before format 2, whose manifest is signed with that same key anyway, can still be restored).
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

FORMAT = "cim-desktop-checkpoint/2"
OLD_FORMAT = "cim-desktop-checkpoint/1"
OLD_FORMAT_REFUSED = (
    "it is an old-format checkpoint signed with the vault's own key, which "
    "anyone holding the vault key can use, so it proves nothing"
)
# A line is one small JSON object; anything far larger is not a checkpoint.


@dataclass(frozen=True)
class Checkpoint:
    vault_id: str
    seq: int
    head: bytes
    time: str
    signer_id: str = ""  # the officer who signed it
    signer_key: bytes = b""  # their raw Ed25519 public key
    signature: bytes = b""
    format: str = FORMAT

    @property
    def old_format(self) -> bool:
        return self.format == OLD_FORMAT

    def message(self) -> bytes:
        if self.old_format:
            return f"{OLD_FORMAT}|{self.vault_id}|{self.seq}|{self.head.hex()}|{self.time}".encode()
        return (
            f"{FORMAT}|{self.vault_id}|{self.seq}|{self.head.hex()}|{self.time}|"
            f"{self.signer_id}|{self.signer_key.hex()}"
        ).encode()

    def signed(self, key: Ed25519PrivateKey) -> Checkpoint:
        return Checkpoint(
            self.vault_id,
            self.seq,
            self.head,
            self.time,
            self.signer_id,
            self.signer_key,
            key.sign(self.message()),
            self.format,
        )

    def signature_valid(self, public: Ed25519PublicKey | None = None) -> bool:
        """Check against ``public`` or, by default, the signer key the checkpoint names.

        A valid signature alone proves only that the holder of that key signed; whether the
        key is an officer's is for the chain to say.
        """
        try:
            key = public or Ed25519PublicKey.from_public_bytes(self.signer_key)
            key.verify(self.signature, self.message())
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": self.format,
            "vault_id": self.vault_id,
            "seq": self.seq,
            "head": self.head.hex(),
            "time": self.time,
            "sig": self.signature.hex(),
        }
        if not self.old_format:
            data["signer"] = self.signer_id
            data["signer_key"] = self.signer_key.hex()
        return data

    @classmethod
    def from_json(cls, data: Any) -> Checkpoint:
        try:
            fmt = data["format"]
            if fmt not in (FORMAT, OLD_FORMAT):
                raise InvalidInput("This is not a cim-desktop checkpoint.")
            seq = data["seq"]
            if type(seq) is not int or not 0 <= seq < 2**63:
                raise ValueError
            head = bytes.fromhex(data["head"])
            old = fmt == OLD_FORMAT
            return cls(
                str(data["vault_id"]),
                seq,
                head,
                str(data["time"]),
                "" if old else str(data["signer"]),
                b"" if old else bytes.fromhex(data["signer_key"]),
                bytes.fromhex(data["sig"]),
                fmt,
            )
        except (KeyError, TypeError, ValueError):
            raise InvalidInput(
                "The checkpoint is damaged or not a cim-desktop checkpoint."
            ) from None


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
    if not isinstance(data, dict) or any(
        isinstance(v, str) and not v.isprintable() for v in data.values()
    ):
        raise InvalidInput(f"{what} is not a checkpoint.")
    return Checkpoint.from_json(data)


def read(path: Path, *, missing_ok: bool = False) -> list[Checkpoint]:
    """Read a checkpoint file (one JSON object a line), a single JSON checkpoint, or a backup
    manifest (its checkpoint). ``missing_ok``: a missing file holds no checkpoint."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        if missing_ok:
            return []
        raise InvalidInput(f"The checkpoint file {path} does not exist.") from None
    except OSError:
        raise InvalidInput(f"The checkpoint file {path} cannot be read.") from None
    if len(raw) > MAX_FILE_BYTES:
        raise InvalidInput(
            f"The checkpoint file {path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB."
        )
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
    if not found and not missing_ok:
        raise InvalidInput(f"{path} holds no checkpoint.")
    return found


def load_public_key(pem: bytes) -> Ed25519PublicKey | None:
    """The vault's own public key (``vault.pub``, backup manifests) from its PEM text, or None."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm):  # a damaged vault.pub can name any algorithm
        return None
    return key if isinstance(key, Ed25519PublicKey) else None


def new_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()
