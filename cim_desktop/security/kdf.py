"""Password and recovery-code stretching (Argon2id) and key derivation (HKDF-SHA256)."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cim_desktop.errors import VaultCorrupt

# The floor the issue sets: no slot is written or accepted below it.
FLOOR_MEMORY_KIB = 64 * 1024
FLOOR_ITERATIONS = 3
# Tuned to roughly 0.4 s on the reference 2-core workstation.
DEFAULT_MEMORY_KIB = 128 * 1024
DEFAULT_ITERATIONS = 3
DEFAULT_LANES = 4
SALT_BYTES = 16
# Ceilings, so that an edited vault.keys cannot make one login take minutes or gigabytes.
MAX_MEMORY_KIB = 1024 * 1024
MAX_ITERATIONS = 10
MAX_LANES = 16
MAX_SALT_BYTES = 64


@dataclass(frozen=True)
class KdfParams:
    memory_kib: int
    iterations: int
    lanes: int
    salt: bytes

    @classmethod
    def fresh(cls, memory_kib: int | None = None, iterations: int | None = None) -> KdfParams:
        profile = os.environ.get("CIM_ARGON2_PROFILE", "")
        if memory_kib is None:
            memory_kib = FLOOR_MEMORY_KIB if profile == "floor" else DEFAULT_MEMORY_KIB
        if iterations is None:
            iterations = FLOOR_ITERATIONS if profile == "floor" else DEFAULT_ITERATIONS
        params = cls(memory_kib, iterations, DEFAULT_LANES, os.urandom(SALT_BYTES))
        params.check()
        return params

    def check(self) -> None:
        if self.memory_kib < FLOOR_MEMORY_KIB or self.iterations < FLOOR_ITERATIONS:
            raise VaultCorrupt("A key slot uses Argon2id parameters below the required floor.")
        if (
            self.memory_kib > MAX_MEMORY_KIB
            or not 1 <= self.lanes <= MAX_LANES
            or self.iterations > MAX_ITERATIONS
        ):
            raise VaultCorrupt(
                "A key slot has implausible Argon2id parameters (at most 1 GiB, "
                f"{MAX_ITERATIONS} passes and {MAX_LANES} lanes)."
            )
        if not SALT_BYTES <= len(self.salt) <= MAX_SALT_BYTES:
            raise VaultCorrupt("A key slot has a salt of the wrong length.")

    def stretch(self, secret: bytes) -> bytes:
        return Argon2id(
            salt=self.salt,
            length=32,
            iterations=self.iterations,
            lanes=self.lanes,
            memory_cost=self.memory_kib,
        ).derive(secret)

    def to_json(self) -> dict[str, Any]:
        return {
            "alg": "argon2id",
            "m_kib": self.memory_kib,
            "t": self.iterations,
            "p": self.lanes,
            "salt": base64.b64encode(self.salt).decode(),
        }

    @classmethod
    def from_json(cls, data: Any) -> KdfParams:
        try:
            if data["alg"] != "argon2id":
                raise VaultCorrupt("A key slot names an unknown key-derivation function.")
            numbers = [data["m_kib"], data["t"], data["p"]]
            # Exactly int: int() would also take "65536", 65536.9, True or a huge string.
            if not all(type(n) is int and 0 < n <= MAX_MEMORY_KIB for n in numbers):
                raise ValueError("not a bounded integer")
            if not isinstance(data["salt"], str) or len(data["salt"]) > 4 * MAX_SALT_BYTES:
                raise ValueError("bad salt")
            params = cls(
                numbers[0],
                numbers[1],
                numbers[2],
                base64.b64decode(data["salt"], validate=True),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise VaultCorrupt("The key-slot file is damaged (bad KDF parameters).") from exc
        params.check()
        return params


def hkdf(ikm: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(ikm)
