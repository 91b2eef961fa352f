"""Suspended and departed officers: their password plus the workstation's keyring no longer
open the vault, even outside the application (issue 6, "Officers who should no longer open
the vault still can")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cim_desktop.domain.officers.model import Officer, OfficerStatus
from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import SlotDisabled, WrongCredentials
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.security.keyslots import open_officer_keys, unwrap_user
from cim_desktop.security.slotfile import SlotFile
from cim_desktop.services.officers import accounts
from cim_desktop.services.officers import management as officers
from cim_desktop.services.session import Session
from cim_desktop.services.vault import doctor
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from cim_desktop.store.vault.slot_keys import SlotKeyRepository
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.officer_helpers import add_officer
from tests.slot_attacker import reads_vault

HANK_PW = "his own long passphrase"


@pytest.fixture
def hank(new_vault: NewVault) -> Officer:
    return add_officer(new_vault.session, "hank", HANK_PW, {Role.RECORD_KEEPER})


def _keys(vault_dir: Path) -> bytes:
    return (vault_dir / "vault.keys").read_bytes()


def _device_secret(session: Session) -> bytes:
    return session.keyring.get(session.vault_id)


def test_suspension_takes_the_vault_key_out_of_the_slot(
    new_vault: NewVault, hank: Officer, vault_dir: Path
) -> None:
    s = new_vault.session
    d = _device_secret(s)
    db = vault_dir / "vault.db"
    assert reads_vault(db, _keys(vault_dir), "hank", HANK_PW, d)  # the attack, while active

    officers.set_status(s, hank.id, OfficerStatus.SUSPENDED, None, "inquiry")

    assert not reads_vault(db, _keys(vault_dir), "hank", HANK_PW, d)
    slots = SlotFile.parse(_keys(vault_dir))
    slot = slots.users[hank.id]
    # The password still opens the officer's own key pair (so reinstatement needs no reset),
    # but the slot no longer holds anything that reaches K.
    open_officer_keys(slot, d, HANK_PW, vault_id=slots.vault_id)
    assert slot.kwrap is None and json.loads(_keys(vault_dir))["users"][1]["kwrap"] is None
    with pytest.raises(SlotDisabled):
        unwrap_user(slot, d, HANK_PW, vault_id=slots.vault_id)


def test_a_suspended_officers_login_fails_clearly_and_reaches_the_chain(
    new_vault: NewVault, hank: Officer, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    officers.set_status(new_vault.session, hank.id, OfficerStatus.SUSPENDED, None)
    new_vault.session.lock()
    with pytest.raises(SlotDisabled, match="This account is suspended"):
        unlock(vault_dir, "hank", HANK_PW, keyring_store)
    pending = SlotFile.parse(_keys(vault_dir)).pending_events
    assert [(e["action"], e["user_id"], e["detail"]["cause"]) for e in pending] == [
        ("failed-login", hank.id, "slot disabled (account suspended)")
    ]
    # Right password, so no step towards a lockout.
    assert not SlotFile.parse(_keys(vault_dir)).lockout(hank.id).failures

    admin = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)
    rows = admin.db.conn.execute(
        "SELECT user_id, detail, outcome FROM audit WHERE action = 'failed-login'"
    ).fetchall()
    admin.close()
    assert len(rows) == 1 and rows[0][0] == hank.id and rows[0][2] == "failed"
    assert json.loads(rows[0][1])["cause"] == "slot disabled (account suspended)"


def test_only_reinstatement_restores_access(
    new_vault: NewVault, hank: Officer, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    s = new_vault.session
    officers.set_status(s, hank.id, OfficerStatus.SUSPENDED, None)
    # A password reset while suspended does not re-enable the slot either.
    accounts.reset_password(s, hank.id, "a temporary long password", None)
    with pytest.raises(SlotDisabled):
        unlock(vault_dir, "hank", "a temporary long password", keyring_store)

    officers.set_status(s, hank.id, OfficerStatus.ACTIVE, None, "cleared")
    rows = s.db.conn.execute(
        "SELECT detail FROM audit WHERE entity_id = ? AND action = "
        "'update' AND detail NOT LIKE '%test shortcut%' ORDER BY seq",
        (hank.id,),
    ).fetchall()
    slot_changes = [json.loads(r[0]).get("key_slot") for r in rows]
    assert slot_changes == ["disabled", None, "enabled"]
    back = unlock(vault_dir, "hank", "a temporary long password", keyring_store)
    assert back.officer.status is OfficerStatus.ACTIVE
    back.close()
    assert reads_vault(
        vault_dir / "vault.db",
        _keys(vault_dir),
        "hank",
        "a temporary long password",
        _device_secret(s),
    )


def test_leaving_destroys_the_slot_and_recommends_re_keying(
    new_vault: NewVault, hank: Officer, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    s = new_vault.session
    before = _keys(vault_dir)
    assert (
        next(c for c in doctor.run_doctor(s).checks if c.name == "re-keying").status
        is doctor.Status.OK
    )

    officers.set_status(s, hank.id, OfficerStatus.LEFT, None, "retired")

    slots = SlotFile.parse(_keys(vault_dir))
    assert hank.id not in slots.users and slots.find_user("hank") is None
    assert hank.id.encode() not in _keys(vault_dir)
    assert SlotKeyRepository(s.db.conn).get(hank.id) is None
    assert not reads_vault(
        vault_dir / "vault.db", _keys(vault_dir), "hank", HANK_PW, _device_secret(s)
    )
    with pytest.raises(WrongCredentials):
        unlock(vault_dir, "hank", HANK_PW, keyring_store)
    # An old copy of vault.keys still opens the vault (K has not changed): that is what the
    # doctor's warning and re-keying are for (tests/test_rekey.py).
    assert reads_vault(vault_dir / "vault.db", before, "hank", HANK_PW, _device_secret(s))
    check = next(c for c in doctor.run_doctor(s).checks if c.name == "re-keying")
    assert check.status is doctor.Status.WARN and "re-key" in check.detail
