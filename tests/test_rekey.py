"""Re-keying: a new vault key, the database re-encrypted, every remaining slot re-issued.

The attack it answers: an officer who has left kept a copy of ``vault.keys`` (or K itself)
from before; with their password and the workstation's keyring that still opens vault.db.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cim_desktop.domain.officers.model import Officer, OfficerStatus
from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import PermissionDenied, SlotDisabled
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.access import approval
from cim_desktop.services.officers import management as officers
from cim_desktop.services.officers.management import ADMINS, ApprovalRequired
from cim_desktop.services.vault import doctor, rekey
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from cim_desktop.services.vault.recovery import recover
from cim_desktop.store.vault.slot_keys import SlotKeyRepository
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.memory_keyring import MemoryKeyring
from tests.officer_helpers import add_officer
from tests.slot_attacker import key_from_slots, opens_directly, reads_vault

LEAVER_PW = "gone for good now 1"
STAYER_PW = "still here and well 2"
ABSENT_PW = "away for a while 3"


@pytest.fixture
def unit(new_vault: NewVault) -> dict[str, Officer]:
    s = new_vault.session
    return {
        name: add_officer(s, name, pw, {Role.RECORD_KEEPER})
        for name, pw in (("leaver", LEAVER_PW), ("stayer", STAYER_PW), ("absent", ABSENT_PW))
    }


def test_after_re_keying_an_old_slot_file_and_a_leavers_password_open_nothing(
    new_vault: NewVault,
    unit: dict[str, Officer],
    vault_dir: Path,
    keyring_store: DeviceSecretStore,
) -> None:
    s = new_vault.session
    db_path, keys_path = vault_dir / "vault.db", vault_dir / "vault.keys"
    d = keyring_store.get(s.vault_id)
    old_keys = keys_path.read_bytes()  # what the leaver copied while in post
    old_key = key_from_slots(old_keys, "leaver", LEAVER_PW, d)
    assert old_key is not None
    officers.set_status(s, unit["absent"].id, OfficerStatus.SUSPENDED, None)
    officers.set_status(s, unit["leaver"].id, OfficerStatus.LEFT, None)
    assert reads_vault(db_path, old_keys, "leaver", LEAVER_PW, d)  # until the re-keying

    steps: list[tuple[int, int, str]] = []
    result = rekey.rekey_vault(s, None, lambda *step: steps.append(step))

    assert [i for i, _, _ in steps] == [0, 1, 2, 3, 4, 5] and steps[-1][2] == "Done"
    assert (result.slots_issued, result.slots_disabled, result.slots_removed) == (2, 1, 0)
    assert not reads_vault(db_path, old_keys, "leaver", LEAVER_PW, d)
    assert not opens_directly(db_path, old_key)
    # The copy taken first is encrypted, and under the old key.
    assert not result.copy.read_bytes().startswith(b"SQLite format 3")
    assert opens_directly(result.copy, old_key)
    assert not (vault_dir / "vault.keys.rekey").exists()

    # The session carries on under the new key; the change is in the chain.
    row = s.db.conn.execute("SELECT detail, user_id FROM audit WHERE action = 'rekey'").fetchone()
    assert json.loads(row[0])["slots_issued"] == 2 and row[1] == s.officer.id
    assert (
        next(c for c in doctor.run_doctor(s).checks if c.name == "re-keying").status
        is doctor.Status.OK
    )
    s.lock()

    for name, pw in ((ADMIN, ADMIN_PASSWORD), ("stayer", STAYER_PW)):
        session = unlock(vault_dir, name, pw, keyring_store)
        assert session.db.audit.verify().ok
        session.close()
    with pytest.raises(SlotDisabled):  # still suspended, under the new key too
        unlock(vault_dir, "absent", ABSENT_PW, keyring_store)
    admin = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)
    officers.set_status(admin, unit["absent"].id, OfficerStatus.ACTIVE, None)
    admin.close()
    unlock(vault_dir, "absent", ABSENT_PW, keyring_store).close()


def test_recovery_still_works_after_re_keying_without_the_code_being_entered(
    new_vault: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    s = new_vault.session
    rekey.rekey_vault(s, None)
    rekey.rekey_vault(s, None)  # twice: each re-issues the recovery wrapping
    s.lock()
    fresh = DeviceSecretStore(MemoryKeyring())  # a new workstation
    assert recover(vault_dir, new_vault.recovery_code, fresh) == 1
    session = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, fresh)
    assert session.db.audit.verify().ok
    session.close()


def test_re_keying_is_for_administrators_with_a_second_ones_approval(
    new_vault: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    s = new_vault.session
    add_officer(s, "carol", "second admin secret 4", ADMINS)
    add_officer(
        s,
        "rita",
        "records person secret 5",
        {Role.RECORD_KEEPER},
        ("carol", "second admin secret 4"),
    )
    key_before = s.vault_key
    with pytest.raises(ApprovalRequired):
        rekey.rekey_vault(s, None)
    ok = approval.second_officer(
        s, "carol", "second admin secret 4", ADMINS, officers.PURPOSE_ROLES
    )
    with pytest.raises(PermissionDenied, match="something else"):
        rekey.rekey_vault(s, ok)
    rita = unlock(vault_dir, "rita", "records person secret 5", keyring_store)
    with pytest.raises(PermissionDenied, match="needs the role: Administrator"):
        rekey.rekey_vault(rita, None)
    rita.close()
    assert opens_directly(vault_dir / "vault.db", key_before)  # refused: key unchanged
    assert not list(vault_dir.glob("*.pre-rekey-*"))

    ok = approval.second_officer(s, "carol", "second admin secret 4", ADMINS, rekey.PURPOSE_REKEY)
    rekey.rekey_vault(s, ok)
    detail = json.loads(
        s.db.conn.execute("SELECT detail FROM audit WHERE action = 'rekey'").fetchone()[0]
    )
    assert detail["approved_by_username"] == "carol"
    assert SlotKeyRepository(s.db.conn).last_rekey()
