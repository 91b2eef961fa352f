"""Shared fixtures: a real encrypted vault per test, an in-memory keyring, offscreen Qt."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# Set before anything imports Qt or derives a key.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The Argon2id floor (64 MiB, 3 passes) is still what every slot in the suite uses; only the
# product default above the floor is skipped, to keep the suite fast.
os.environ["CIM_ARGON2_PROFILE"] = "floor"

import pytest

from cim_desktop.domain import clock
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.vault.lifecycle import NewVault, create_vault
from tests.memory_keyring import MemoryKeyring

ADMIN = "admin"
ADMIN_PASSWORD = "correct horse battery staple"
UNIT = "DSU North"


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def keyring_store(memory_keyring: MemoryKeyring) -> DeviceSecretStore:
    return DeviceSecretStore(memory_keyring)


@pytest.fixture
def vault_dir(tmp_path: Path) -> Path:
    return tmp_path / "vault"


@pytest.fixture
def new_vault(vault_dir: Path, keyring_store: DeviceSecretStore) -> Iterator[NewVault]:
    created = create_vault(
        vault_dir,
        unit_name=UNIT,
        admin_username=ADMIN,
        admin_password=ADMIN_PASSWORD,
        keyring=keyring_store,
    )
    yield created
    created.session.close()


@pytest.fixture(autouse=True)
def _restore_clock() -> Iterator[None]:
    yield
    clock.set_clock(None)
