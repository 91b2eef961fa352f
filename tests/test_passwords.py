"""Password rules, changing one's own password (re-wraps the slot) and an administrator's
reset (temporary password, forced change, two-person approval)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cim_desktop.domain.officers.passwords import check_new_password
from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import InvalidInput, PermissionDenied, WrongCredentials
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.security.slotfile import SlotFile
from cim_desktop.services.access import approval
from cim_desktop.services.officers import accounts
from cim_desktop.services.officers.management import (
    ADMINS,
    BOOTSTRAP_SUBJECT,
    PURPOSE_RESET,
    ApprovalRequired,
)
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.officer_helpers import add_officer

TEMP = "temporary pass 4 bob"
MINE = "bob chose this one well"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass", "at least 12"),
        ("bob.builder", "at least 12"),
        ("bob.builder!", "username"),
        ("xxBOB.BUILDERxx", "username"),
        ("            ", "only spaces"),
    ],
)
def test_password_rules(password: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_new_password(password, "bob.builder")
    check_new_password("a perfectly long one", "bob.builder")


def test_first_login_change_rewraps_the_slot_and_clears_the_flag(
    new_vault: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    bob = add_officer(new_vault.session, "bob", TEMP, [Role.RECORD_KEEPER], temporary=True)
    before = SlotFile.load(vault_dir / "vault.keys").users[bob.id]
    session = unlock(vault_dir, "bob", TEMP, keyring_store)
    assert session.officer.must_change_password
    try:
        with pytest.raises(InvalidInput, match="at least 12"):
            accounts.change_password(session, TEMP, "too short")
        with pytest.raises(InvalidInput, match="differ"):
            accounts.change_password(session, TEMP, TEMP)
        with pytest.raises(InvalidInput, match="not your current password"):
            accounts.change_password(session, "not my password at all", MINE)
        # The wrong current password counted towards bob's lockout, as at login.
        slots = SlotFile.load(vault_dir / "vault.keys")
        assert len(slots.lockouts[bob.id].failures) == 1
        assert slots.users[bob.id] == before

        accounts.change_password(session, TEMP, MINE)
        assert not session.officer.must_change_password
        after = SlotFile.load(vault_dir / "vault.keys").users[bob.id]
        assert after.kdf.salt != before.kdf.salt  # a fresh Argon2id salt
        row = session.db.audit.page(limit=1)[0]
        assert (row.action, row.entity_id, row.username) == ("update", bob.id, "bob")
        assert json.loads(row.detail) == {"change": "password", "forced": True}
        assert MINE not in row.detail and TEMP not in row.detail
    finally:
        session.close()
    with pytest.raises(WrongCredentials):
        unlock(vault_dir, "bob", TEMP, keyring_store)
    again = unlock(vault_dir, "bob", MINE, keyring_store)
    assert not again.officer.must_change_password
    again.close()


def test_a_reset_gives_a_temporary_password_with_a_forced_change(
    new_vault: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    s = new_vault.session
    bob = add_officer(s, "bob", MINE, [Role.RECORD_KEEPER])
    add_officer(s, "carol", "second admin on nights", [Role.ADMINISTRATOR])
    with pytest.raises(InvalidInput, match="own password"):
        accounts.reset_password(s, s.officer.id, TEMP, None)
    with pytest.raises(ApprovalRequired):
        accounts.reset_password(s, bob.id, TEMP, None)
    with pytest.raises(InvalidInput, match="at least 12"):
        accounts.reset_password(s, bob.id, "short", None)
    ok = approval.second_officer(s, "carol", "second admin on nights", ADMINS, PURPOSE_RESET)
    accounts.reset_password(s, bob.id, TEMP, ok)
    row = s.db.audit.page(limit=1)[0]
    assert json.loads(row.detail)["approved_by_username"] == "carol"
    assert TEMP not in row.detail
    with pytest.raises(WrongCredentials):
        unlock(vault_dir, "bob", MINE, keyring_store)
    session = unlock(vault_dir, "bob", TEMP, keyring_store)
    assert session.officer.must_change_password
    session.close()


def test_the_officer_reset_cannot_approve_it_and_a_pair_of_admins_is_not_stuck(
    new_vault: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    s = new_vault.session
    carol = add_officer(s, "carol", "second admin on nights", [Role.ADMINISTRATOR])
    # Carol approving her own reset would be no second person at all.
    own = approval.second_officer(s, "carol", "second admin on nights", ADMINS, PURPOSE_RESET)
    with pytest.raises(PermissionDenied, match="cannot approve"):
        accounts.reset_password(s, carol.id, TEMP, own)
    # Carol forgot her password: with no other administrator the reset goes ahead alone.
    accounts.reset_password(s, carol.id, "temporary for c4rol", None)
    assert json.loads(s.db.audit.page(limit=1)[0].detail)["approval"] == BOOTSTRAP_SUBJECT
    # Until she changes it, her temporary password approves nothing.
    with pytest.raises(PermissionDenied, match="temporary password"):
        approval.second_officer(s, "carol", "temporary for c4rol", ADMINS, PURPOSE_RESET)


def test_only_an_administrator_resets(
    new_vault: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    s = new_vault.session
    add_officer(s, "bob", MINE, [Role.AUDITOR])
    session = unlock(vault_dir, "bob", MINE, keyring_store)
    try:
        with pytest.raises(PermissionDenied, match="not permitted"):
            accounts.reset_password(session, s.officer.id, TEMP, None)
    finally:
        session.close()
    unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store).close()  # unchanged
