"""Login is unlock: wrong passwords, lockout after 5 failures in 15 minutes, release."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cim_desktop.domain import clock
from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import AccountLocked, InvalidInput, PermissionDenied, WrongCredentials
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.audit import trail as audit
from cim_desktop.services.officers import accounts
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.memory_keyring import MemoryKeyring
from tests.officer_helpers import add_officer

BOB_PASSWORD = "bobs own long password"
CAROL_PASSWORD = "second admin on nights"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def moving_clock() -> Clock:
    c = Clock()
    clock.set_clock(c)
    return c


@pytest.fixture
def with_bob(new_vault: NewVault) -> NewVault:
    add_officer(new_vault.session, "bob", BOB_PASSWORD, [Role.HANDLER])
    add_officer(new_vault.session, "carol", CAROL_PASSWORD, [Role.ADMINISTRATOR])
    new_vault.session.lock()
    return new_vault


def test_wrong_password_never_touches_the_database(
    with_bob: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    db = vault_dir / "vault.db"
    # Replace the database with junk: a wrong password must fail on the key slot alone.
    original = db.read_bytes()
    db.write_bytes(b"\x00" * len(original))
    with pytest.raises(WrongCredentials, match="Wrong username or password"):
        unlock(vault_dir, "bob", "not the password", keyring_store)
    assert db.read_bytes() == b"\x00" * len(original)
    assert not (vault_dir / "vault.db-wal").exists()
    db.write_bytes(original)
    unlock(vault_dir, "bob", BOB_PASSWORD, keyring_store).close()


def test_unknown_username_gets_the_same_message(
    with_bob: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    with pytest.raises(WrongCredentials, match="Wrong username or password"):
        unlock(vault_dir, "mallory", "whatever password", keyring_store)


def test_five_failures_in_fifteen_minutes_lock_until_released(
    with_bob: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore, moving_clock: Clock
) -> None:
    for _ in range(4):
        with pytest.raises(WrongCredentials):
            unlock(vault_dir, "bob", "wrong guess 123", keyring_store)
        moving_clock.now += timedelta(minutes=3)
    with pytest.raises(AccountLocked, match="locked"):
        unlock(vault_dir, "bob", "wrong guess 123", keyring_store)
    # Locked: even the right password is refused, hours later.
    moving_clock.now += timedelta(hours=5)
    with pytest.raises(AccountLocked):
        unlock(vault_dir, "bob", BOB_PASSWORD, keyring_store)

    # Bob cannot release himself; a handler cannot release; another administrator can.
    carol = unlock(vault_dir, "carol", CAROL_PASSWORD, keyring_store)
    assert accounts.locked_usernames(carol) == ["bob"]
    accounts.release(carol, "bob", reason="confirmed by phone")
    carol.lock()
    bob = unlock(vault_dir, "bob", BOB_PASSWORD, keyring_store)
    with pytest.raises(PermissionDenied):
        accounts.release(bob, "carol")
    bob.lock()

    admin = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)
    rows = audit.open_view(admin).page(limit=100)
    actions = [(r.action, r.username, r.outcome) for r in rows]
    assert actions.count(("failed-login", "bob", "failed")) == 6  # 5 wrong + 1 while locked
    assert ("account-locked", "bob", "failed") in actions
    assert ("account-released", "carol", "ok") in actions
    late = [r for r in rows if r.action == "failed-login"]
    assert all('"recorded_late":true' in r.detail for r in late)
    assert all(BOB_PASSWORD not in r.detail and "wrong guess" not in r.detail for r in rows)
    assert audit.verify(admin).ok
    admin.close()


def test_failures_outside_the_window_do_not_lock(
    with_bob: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore, moving_clock: Clock
) -> None:
    for _ in range(4):
        with pytest.raises(WrongCredentials):
            unlock(vault_dir, "bob", "wrong guess 123", keyring_store)
    moving_clock.now += timedelta(minutes=16)
    with pytest.raises(WrongCredentials):
        unlock(vault_dir, "bob", "wrong guess 123", keyring_store)
    unlock(vault_dir, "bob", BOB_PASSWORD, keyring_store).close()


def test_success_resets_the_count(
    with_bob: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    for _ in range(4):
        with pytest.raises(WrongCredentials):
            unlock(vault_dir, "bob", "wrong guess 123", keyring_store)
    unlock(vault_dir, "bob", BOB_PASSWORD, keyring_store).close()
    for _ in range(4):
        with pytest.raises(WrongCredentials):
            unlock(vault_dir, "bob", "wrong guess 123", keyring_store)
    unlock(vault_dir, "bob", BOB_PASSWORD, keyring_store).close()


def test_release_of_an_unlocked_account_is_refused(
    with_bob: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    carol = unlock(vault_dir, "carol", CAROL_PASSWORD, keyring_store)
    with pytest.raises(InvalidInput, match="not locked"):
        accounts.release(carol, "bob")
    carol.close()


class _CountingKeyring(MemoryKeyring):
    """Counts reads: each is a round trip to the OS secret store on the login path."""

    reads = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.reads += 1
        return super().get_password(service, username)


def test_a_login_reads_the_keyring_once(
    new_vault: NewVault, vault_dir: Path, memory_keyring: MemoryKeyring
) -> None:
    new_vault.session.close()
    counting = _CountingKeyring()
    counting.entries.update(memory_keyring.entries)
    unlock(vault_dir, ADMIN, ADMIN_PASSWORD, DeviceSecretStore(counting)).close()
    assert counting.reads == 1
