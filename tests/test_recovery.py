"""Recovery with the recovery code on a workstation whose keyring has no entry."""

from __future__ import annotations

from pathlib import Path

import pytest
from keyring.backends import fail

from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import KeyringEntryMissing, KeyringUnavailable, RecoveryCodeInvalid
from cim_desktop.security import recovery_code
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.audit import trail as audit
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from cim_desktop.services.vault.recovery import recover
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.helpers import snapshot
from tests.memory_keyring import MemoryKeyring
from tests.officer_helpers import add_officer


def test_recovery_on_an_empty_keyring_reseats_and_rewraps_every_slot(
    new_vault: NewVault, vault_dir: Path, memory_keyring: MemoryKeyring
) -> None:
    add_officer(new_vault.session, "bob", "bobs own long password", [Role.HANDLER])
    new_vault.session.lock()
    old_secret = dict(memory_keyring.entries)
    before_keys = (vault_dir / "vault.keys").read_bytes()

    fresh = MemoryKeyring()  # a new workstation, or a wiped keyring
    store = DeviceSecretStore(fresh)
    with pytest.raises(KeyringEntryMissing):
        unlock(vault_dir, ADMIN, ADMIN_PASSWORD, store)

    assert recover(vault_dir, new_vault.recovery_code.lower(), store) == 2
    assert fresh.entries and fresh.entries != old_secret
    assert (vault_dir / "vault.keys").read_bytes() != before_keys

    # Every officer's slot now opens with the new device secret and their own password.
    unlock(vault_dir, "bob", "bobs own long password", store).close()
    session = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, store)
    rows = audit.open_view(session).page()
    recovery_rows = [r for r in rows if r.action == "recovery"]
    assert len(recovery_rows) == 1
    assert '"slots_rewrapped":2' in recovery_rows[0].detail
    assert audit.verify(session).ok
    session.lock()

    # The old workstation's secret no longer opens anything.
    with pytest.raises(KeyringUnavailable, match="does not belong to this vault"):
        unlock(vault_dir, ADMIN, ADMIN_PASSWORD, DeviceSecretStore(memory_keyring))
    # And the recovery code still works a second time (the recovery slot was re-wrapped).
    assert recover(vault_dir, new_vault.recovery_code, DeviceSecretStore(MemoryKeyring())) == 2


def test_a_wrong_recovery_code_changes_nothing(new_vault: NewVault, vault_dir: Path) -> None:
    new_vault.session.lock()
    before = snapshot(vault_dir)
    fresh = MemoryKeyring()
    with pytest.raises(RecoveryCodeInvalid, match="does not open this vault"):
        recover(vault_dir, recovery_code.generate(), DeviceSecretStore(fresh))
    with pytest.raises(RecoveryCodeInvalid, match="mistyped"):
        typo = new_vault.recovery_code.replace("-", "")
        typo = ("1" if typo[0] != "1" else "2") + typo[1:]
        recover(vault_dir, typo, DeviceSecretStore(fresh))
    assert snapshot(vault_dir) == before
    assert fresh.entries == {}


def test_recovery_without_a_usable_keyring_fails_closed(
    new_vault: NewVault, vault_dir: Path
) -> None:
    new_vault.session.lock()
    before = snapshot(vault_dir)
    with pytest.raises(KeyringUnavailable, match="no secure keyring"):
        recover(vault_dir, new_vault.recovery_code, DeviceSecretStore(fail.Keyring()))
    assert snapshot(vault_dir) == before
