"""Where a vault's files live."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "cim-desktop"


def default_vault_dir() -> Path:
    """``CIM_HOME`` if set, else the platform's per-user data directory."""
    env = os.environ.get("CIM_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False, roaming=False))


@dataclass(frozen=True)
class VaultPaths:
    root: Path

    @property
    def db(self) -> Path:
        return self.root / "vault.db"

    @property
    def keys(self) -> Path:
        return self.root / "vault.keys"

    @property
    def public_key(self) -> Path:
        return self.root / "vault.pub"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints.jsonl"

    def exists(self) -> bool:
        return self.db.exists() or self.keys.exists()
