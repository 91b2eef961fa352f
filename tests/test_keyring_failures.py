"""Every keyring failure fails closed: nothing created, nothing changed, nothing in clear."""

from __future__ import annotations

import base64
from pathlib import Path

import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from cim_desktop.errors import KeyringEntryMissing, KeyringUnavailable, NoUsableKeyring
from cim_desktop.security.device_secret import SERVICE, DeviceSecretStore
from cim_desktop.services.vault.lifecycle import NewVault, create_vault, unlock
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.helpers import snapshot
from tests.memory_keyring import MemoryKeyring


class NoneKeyring(MemoryKeyring):
    """Accepts writes and answers None, as some broken backends do."""

    def get_password(self, service: str, username: str) -> str | None:
        return None


class ErrorKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringError("backend exploded")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringError("backend exploded")


class PlainTextKeyring(MemoryKeyring):
    """Stands for keyrings.alt's plain-text file backend."""


PlainTextKeyring.__module__ = "keyrings.alt.file"


def _locked() -> MemoryKeyring:
    backend = MemoryKeyring()
    backend.locked = True
    return backend


FAILING: dict[str, tuple[KeyringBackend, str]] = {
    "no backend": (fail.Keyring(), "no secure keyring"),
    "locked": (_locked(), "the keyring is locked"),
    "none answer": (NoneKeyring(), "has no device secret"),
    "backend error": (ErrorKeyring(), "the keyring (failed|refused)"),
    "plain-text backend": (PlainTextKeyring(), "no secure keyring"),
}


@pytest.mark.parametrize("case", FAILING)
def test_create_fails_closed(case: str, tmp_path: Path) -> None:
    backend, message = FAILING[case]
    root = tmp_path / "vault"
    with pytest.raises(KeyringUnavailable, match=message):
        create_vault(
            root,
            unit_name="DSU",
            admin_username=ADMIN,
            admin_password=ADMIN_PASSWORD,
            keyring=DeviceSecretStore(backend),
        )
    assert snapshot(root) == {}
    assert not any(tmp_path.rglob("vault.db"))


@pytest.mark.parametrize("case", FAILING)
def test_unlock_fails_closed(case: str, new_vault: NewVault, vault_dir: Path) -> None:
    new_vault.session.lock()
    before = snapshot(vault_dir)
    backend, message = FAILING[case]
    with pytest.raises(KeyringUnavailable, match=message) as info:
        unlock(vault_dir, ADMIN, ADMIN_PASSWORD, DeviceSecretStore(backend))
    # No keyring at all: the way out is to set one up (the recovery code could store its
    # new device secret nowhere). A keyring that fails on this vault: the recovery code.
    if isinstance(info.value, NoUsableKeyring):
        assert "To fix it:" in info.value.message
    else:
        assert "recovery code" in info.value.message
    assert snapshot(vault_dir) == before
    # A keyring problem is not a password problem: no failed attempt is counted.
    assert '"failures"' not in (vault_dir / "vault.keys").read_text()


def test_missing_entry_for_existing_vault_points_to_recovery(
    new_vault: NewVault, vault_dir: Path, memory_keyring: MemoryKeyring
) -> None:
    new_vault.session.lock()
    memory_keyring.entries.clear()
    before = snapshot(vault_dir)
    with pytest.raises(KeyringEntryMissing, match="recovery code"):
        unlock(vault_dir, ADMIN, ADMIN_PASSWORD, DeviceSecretStore(memory_keyring))
    assert snapshot(vault_dir) == before
    assert memory_keyring.entries == {}, "no new device secret may be invented"


def test_damaged_entry_fails_closed(
    new_vault: NewVault, vault_dir: Path, memory_keyring: MemoryKeyring
) -> None:
    new_vault.session.lock()
    (entry,) = memory_keyring.entries
    memory_keyring.entries[entry] = "not base64 at all!"
    with pytest.raises(KeyringUnavailable, match="damaged"):
        unlock(vault_dir, ADMIN, ADMIN_PASSWORD, DeviceSecretStore(memory_keyring))


def test_secret_lives_only_in_the_keyring(
    new_vault: NewVault, vault_dir: Path, memory_keyring: MemoryKeyring
) -> None:
    vault_key = new_vault.session.vault_key
    new_vault.session.lock()
    ((service, _), encoded) = next(iter(memory_keyring.entries.items()))
    assert service == SERVICE
    secret = base64.b64decode(encoded)
    for path in vault_dir.rglob("*"):
        data = path.read_bytes()
        assert secret not in data and encoded.encode() not in data
        assert vault_key not in data
