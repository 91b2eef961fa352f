"""Refused restores and recoveries leave a record: an authenticated pending event in the vault
being restored over, which reaches the audit chain at the next unlock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import PermissionDenied, RecoveryCodeInvalid, WrongCredentials
from cim_desktop.security import recovery_code
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.security.slotfile import SlotFile
from cim_desktop.services.audit import trail as audit
from cim_desktop.services.vault.backup import BackupResult, create_backup, restore_backup
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from cim_desktop.services.vault.recovery import recover
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.helpers import snapshot
from tests.memory_keyring import MemoryKeyring
from tests.officer_helpers import add_officer

BOB_PASSWORD = "bobs own long password"


@pytest.fixture
def backup(new_vault: NewVault, tmp_path: Path) -> BackupResult:
    add_officer(new_vault.session, "bob", BOB_PASSWORD, [Role.HANDLER])
    dest = tmp_path / "backups"
    dest.mkdir()
    result = create_backup(new_vault.session, dest)
    new_vault.session.lock()
    return result


def _recorded(vault_dir: Path, keyring: DeviceSecretStore) -> list[tuple[str, str, str]]:
    """The refusals in the chain after the next unlock: (action, username, cause)."""
    session = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring)
    try:
        rows = audit.open_view(session).page(limit=200)
        assert audit.verify(session).ok
    finally:
        session.close()
    return [
        (r.action, r.username, json.loads(r.detail)["cause"])
        for r in rows
        if r.action in ("restore-refused", "recovery-refused")
    ]


def test_restore_by_a_non_administrator_is_recorded(
    backup: BackupResult, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    with pytest.raises(PermissionDenied, match="administrator"):
        restore_backup(
            vault_dir, backup.path, username="bob", password=BOB_PASSWORD, keyring=keyring_store
        )
    assert _recorded(vault_dir, keyring_store) == [
        ("restore-refused", "bob", "not an administrator")
    ]


def test_restore_with_a_wrong_password_is_recorded(
    backup: BackupResult, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    for name in (ADMIN, "mallory"):
        with pytest.raises(WrongCredentials):
            restore_backup(
                vault_dir,
                backup.path,
                username=name,
                password="not the password",
                keyring=keyring_store,
            )
    assert sorted(_recorded(vault_dir, keyring_store)) == [
        ("restore-refused", "", "wrong password"),
        ("restore-refused", ADMIN, "wrong password"),
    ]


def test_restore_with_a_wrong_recovery_code_is_recorded(
    backup: BackupResult, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    with pytest.raises(RecoveryCodeInvalid, match="does not open"):
        restore_backup(
            vault_dir, backup.path, recovery_code=recovery_code.generate(), keyring=keyring_store
        )
    assert _recorded(vault_dir, keyring_store) == [("restore-refused", "", "wrong recovery code")]


def test_recovery_with_a_wrong_code_is_recorded(
    backup: BackupResult, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    with pytest.raises(RecoveryCodeInvalid, match="does not open"):
        recover(vault_dir, recovery_code.generate(), keyring_store)
    assert _recorded(vault_dir, keyring_store) == [("recovery-refused", "", "wrong recovery code")]


def test_without_the_device_secret_the_refusal_says_it_was_not_recorded(
    backup: BackupResult, vault_dir: Path
) -> None:
    before = snapshot(vault_dir)
    with pytest.raises(RecoveryCodeInvalid, match="could not be recorded") as info:
        recover(vault_dir, recovery_code.generate(), DeviceSecretStore(MemoryKeyring()))
    assert "keyring" in info.value.message
    assert snapshot(vault_dir) == before
    # Nothing unauthenticated waits in the file either.
    assert SlotFile.load(vault_dir / "vault.keys").pending_events == []
