"""vault.keys edited by someone who can write the folder but cannot read the keyring.

Each test plays the attacker: it edits the JSON directly (no device secret, so no valid MAC)
and shows the edit refused, and the finding reaching the chain through recovery.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cim_desktop.domain import clock
from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import (
    AccountLocked,
    KeyringUnavailable,
    VaultCorrupt,
    VaultTampered,
    WrongCredentials,
)
from cim_desktop.security import slotfile
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.security.pending_events import MAX_PENDING_EVENTS
from cim_desktop.security.slotfile import SlotFile
from cim_desktop.services.audit import trail as audit
from cim_desktop.services.policy import settings as policy
from cim_desktop.services.vault import doctor
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from cim_desktop.services.vault.recovery import recover
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.helpers import snapshot
from tests.memory_keyring import MemoryKeyring
from tests.officer_helpers import add_officer

BOB_PASSWORD = "bobs own long password"
Doc = dict[str, Any]


def edit(vault_dir: Path, change: Callable[[Doc], None]) -> None:
    """What a folder-level attacker can do: rewrite the JSON, keeping the old MAC."""
    path = vault_dir / "vault.keys"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc, indent=1, sort_keys=True))


def user_id(vault_dir: Path, username: str) -> str:
    doc = json.loads((vault_dir / "vault.keys").read_text())
    return next(u["user_id"] for u in doc["users"] if u["username"] == username)


@pytest.fixture
def with_bob(new_vault: NewVault) -> NewVault:
    add_officer(new_vault.session, "bob", BOB_PASSWORD, [Role.HANDLER])
    new_vault.session.lock()
    return new_vault


def _lock_bob(vault_dir: Path, keyring: DeviceSecretStore) -> None:
    for _ in range(4):
        with pytest.raises(WrongCredentials):
            unlock(vault_dir, "bob", "wrong guess 1234", keyring)
    with pytest.raises(AccountLocked):
        unlock(vault_dir, "bob", "wrong guess 1234", keyring)


# -- the MAC -----------------------------------------------------------------------------
def test_every_save_carries_a_mac_and_version_2(with_bob: NewVault, vault_dir: Path) -> None:
    doc = json.loads((vault_dir / "vault.keys").read_text())
    assert doc["version"] == 2 and len(doc["mac"]) == 64


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: d["lockouts"].clear(), id="lockout-entry-deleted"),
        pytest.param(
            lambda d: d["lockout_policy"].update(max_failures=20), id="max-failures-raised"
        ),
        pytest.param(lambda d: d.update(pending_events=[]), id="pending-events-deleted"),
        pytest.param(lambda d: d.update(extra_field="anything"), id="field-added"),
        pytest.param(lambda d: d["users"][0].update(later_field=1), id="slot-field-added"),
    ],
)
def test_an_edit_without_the_keyring_locks_everyone_out(
    with_bob: NewVault,
    vault_dir: Path,
    keyring_store: DeviceSecretStore,
    change: Callable[[Doc], None],
) -> None:
    _lock_bob(vault_dir, keyring_store)
    edit(vault_dir, change)
    before = snapshot(vault_dir)
    for name, password in (
        ("bob", BOB_PASSWORD),
        (ADMIN, ADMIN_PASSWORD),
        ("nobody", "whatever password"),
    ):
        with pytest.raises(VaultTampered, match="changed outside cim-desktop") as info:
            unlock(vault_dir, name, password, keyring_store)
        assert "recovery code" in info.value.message and info.value.exit_code == 1
    assert snapshot(vault_dir) == before  # nothing counted, nothing re-sealed


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: d.pop("mac"), id="mac-stripped"),
        pytest.param(lambda d: (d.pop("mac"), d.update(version=1)), id="downgraded-to-v1"),
    ],
)
def test_stripping_the_mac_is_refused_as_tampering(
    with_bob: NewVault,
    vault_dir: Path,
    keyring_store: DeviceSecretStore,
    change: Callable[[Doc], None],
) -> None:
    edit(vault_dir, change)
    with pytest.raises(VaultTampered):
        unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)


def test_recovery_reseals_and_records_what_it_found(
    with_bob: NewVault,
    vault_dir: Path,
    keyring_store: DeviceSecretStore,
    memory_keyring: MemoryKeyring,
) -> None:
    _lock_bob(vault_dir, keyring_store)
    bob = user_id(vault_dir, "bob")
    forged = {
        "event_id": "ab" * 16,
        "action": "failed-login",
        "user_id": bob,
        "username": "bob",
        "occurred_at": "2020-01-01T00:00:00.000000Z",
        "detail": {"cause": "forged"},
    }

    def forge(doc: Doc) -> None:
        doc["pending_events"] = [forged]
        doc["lockout_policy"] = {"max_failures": 20, "window_minutes": 1}

    edit(vault_dir, forge)
    assert recover(vault_dir, with_bob.recovery_code, keyring_store) == 2

    session = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)
    rows = audit.open_view(session).page(limit=200)
    found = [r for r in rows if r.action == "tampering-found"]
    assert len(found) == 1 and found[0].outcome == "failed"
    detail = json.loads(found[0].detail)
    assert detail["finding"] == "MAC mismatch"
    assert detail["pending_events_dropped"] == 1 and detail["locked_accounts_kept"] == 1
    assert not [r for r in rows if "forged" in r.detail or r.ts.startswith("2020")]
    # The lockout settings came back from the database, and bob's lock was kept.
    slots = SlotFile.load(vault_dir / "vault.keys")
    assert (slots.lockout_policy.max_failures, slots.lockout_policy.window_minutes) == (5, 15)
    assert slots.lockouts[bob].locked_at is not None
    assert audit.verify(session).ok
    session.close()


def test_a_stale_keyring_is_not_called_tampering(
    with_bob: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    # Recovery on another workstation seats a new device secret; this one's is now stale.
    recover(vault_dir, with_bob.recovery_code, DeviceSecretStore(MemoryKeyring()))
    with pytest.raises(KeyringUnavailable, match="does not belong to this vault"):
        unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)


# -- lockout settings --------------------------------------------------------------------
def test_unlock_mirrors_the_database_policy_into_vault_keys(
    new_vault: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    session = new_vault.session
    policy.change(session, "lockout_max_failures", 3, None)
    # Simulate a file that drifted (a commit that failed after the file was written).
    slots = SlotFile.load(vault_dir / "vault.keys")
    slots.verify(keyring_store.get(session.vault_id))
    from cim_desktop.domain.officers.lockout import LockoutPolicy

    slots.lockout_policy = LockoutPolicy(7, 30)
    slots.save(vault_dir / "vault.keys")
    report = doctor.run_doctor(session)
    assert [c.name for c in report.failed()] == ["vault.keys"]
    assert "differ from the policy" in report.failed()[0].detail
    session.lock()
    unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store).close()
    mirrored = SlotFile.load(vault_dir / "vault.keys").lockout_policy
    assert (mirrored.max_failures, mirrored.window_minutes) == (3, 15)


def test_doctor_fails_on_a_bad_mac_and_a_foreign_vault_pub(
    new_vault: NewVault, vault_dir: Path, tmp_path: Path
) -> None:
    session = new_vault.session
    assert doctor.run_doctor(session).ok
    keys = vault_dir / "vault.keys"
    original = keys.read_bytes()
    edit(vault_dir, lambda d: d["lockout_policy"].update(max_failures=20))
    failed = doctor.run_doctor(session).failed()
    assert [c.name for c in failed] == ["vault.keys"]
    assert "authentication code" in failed[0].detail
    keys.write_bytes(original)

    other = tmp_path / "other"
    from cim_desktop.services.vault.lifecycle import create_vault

    foreign = create_vault(
        other,
        unit_name="Other",
        admin_username=ADMIN,
        admin_password=ADMIN_PASSWORD,
        keyring=DeviceSecretStore(MemoryKeyring()),
    )
    foreign.session.close()
    pub = vault_dir / "vault.pub"
    for damage in ((other / "vault.pub").read_bytes(), pub.read_bytes()[:-20], b""):
        pub.write_bytes(damage)
        failed = doctor.run_doctor(session).failed()
        assert [c.name for c in failed] == ["vault.pub"], damage[:30]
    pub.unlink()
    assert [c.name for c in doctor.run_doctor(session).failed()] == ["vault.pub"]


def reseal(vault_dir: Path, keyring: DeviceSecretStore, change: Callable[[Doc], None]) -> None:
    """An edit by someone who *has* the device secret: only the field checks stop it."""
    edit(vault_dir, change)
    path = vault_dir / "vault.keys"
    doc = json.loads(path.read_text())
    doc["mac"] = slotfile._mac(
        doc, slotfile._mac_key(keyring.get(doc["vault_id"]), doc["vault_id"])
    )
    path.write_text(json.dumps(doc))


# -- pending events ----------------------------------------------------------------------
def _sealed(
    vault_dir: Path, keyring: DeviceSecretStore, change: Callable[[SlotFile], None]
) -> None:
    """An edit made *with* the device secret: what only the bounds and checks can stop."""
    slots = SlotFile.load(vault_dir / "vault.keys")
    slots.verify(keyring.get(slots.vault_id))
    change(slots)
    slots.save(vault_dir / "vault.keys")


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"action": "vault-create"}, id="action-not-pending"),
        pytest.param({"action": "login"}, id="login-forged"),
        pytest.param({"occurred_at": "yesterday"}, id="time-text"),
        pytest.param({"occurred_at": "2026-1-1T1:1:1.1Z"}, id="time-not-canonical"),
        pytest.param({"user_id": "someone-else", "username": "x"}, id="unknown-officer"),
        pytest.param({"username": "admin"}, id="username-of-another"),
        pytest.param({"detail": {"cause": "x" * 81}}, id="long-cause"),
        pytest.param({"detail": {"failures": True}}, id="bool-count"),
        pytest.param({"detail": {"role": "administrator"}}, id="unknown-detail-key"),
        pytest.param({"detail": {"cause": "\ud800"}}, id="lone-surrogate"),
        pytest.param({"detail": []}, id="detail-list"),
        pytest.param({"event_id": 7}, id="event-id-int"),
    ],
)
def test_an_invalid_pending_event_makes_the_file_damaged(
    with_bob: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore, bad: Doc
) -> None:
    with pytest.raises(WrongCredentials):
        unlock(vault_dir, "bob", "wrong guess 1234", keyring_store)

    def corrupt(doc: Doc) -> None:
        doc["pending_events"][0].update(bad)

    reseal(vault_dir, keyring_store, corrupt)
    with pytest.raises(VaultCorrupt, match="damaged"):
        unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)


def test_events_beyond_the_cap_are_counted_into_the_chain(
    with_bob: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    with pytest.raises(WrongCredentials):
        unlock(vault_dir, "nobody", "some password", keyring_store)
    template = SlotFile.load(vault_dir / "vault.keys").pending_events[0]

    def flood(slots: SlotFile) -> None:
        for n in range(MAX_PENDING_EVENTS + 25):
            slots.add_pending({**template, "event_id": f"{n:032x}"})

    _sealed(vault_dir, keyring_store, flood)
    slots = SlotFile.load(vault_dir / "vault.keys")
    assert len(slots.pending_events) == MAX_PENDING_EVENTS and slots.pending_dropped == 26
    session = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)
    rows = audit.open_view(session).page(limit=2000)
    dropped = [r for r in rows if r.action == "events-dropped"]
    assert len(dropped) == 1 and json.loads(dropped[0].detail)["dropped"] == 26
    assert SlotFile.load(vault_dir / "vault.keys").pending_dropped == 0
    session.close()


def test_more_events_than_the_cap_on_disk_is_damage(
    with_bob: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    with pytest.raises(WrongCredentials):
        unlock(vault_dir, "nobody", "some password", keyring_store)
    template = SlotFile.load(vault_dir / "vault.keys").pending_events[0]
    _sealed(
        vault_dir,
        keyring_store,
        lambda s: s.pending_events.extend(
            {**template, "event_id": f"{n:032x}"} for n in range(MAX_PENDING_EVENTS)
        ),
    )
    with pytest.raises(VaultCorrupt, match="damaged"):
        unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)


# -- bounds ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "where,value",
    [
        ("m_kib", 4 * 1024 * 1024),
        ("m_kib", 32 * 1024),
        ("t", 64),
        ("t", 2),
        ("p", 17),
        ("p", 0),
        ("m_kib", 65536.0),
        ("m_kib", True),
        ("m_kib", "65536"),
        ("t", None),
    ],
)
def test_argon2id_parameters_outside_the_bounds_are_refused(
    new_vault: NewVault, vault_dir: Path, where: str, value: Any
) -> None:
    new_vault.session.lock()
    doc = json.loads((vault_dir / "vault.keys").read_text())
    doc["users"][0]["kdf"][where] = value
    with pytest.raises(VaultCorrupt):
        SlotFile.parse(json.dumps(doc).encode())


@pytest.mark.parametrize(
    "text",
    [
        b'{"lockout_policy": {"max_failures": Infinity}}',
        b"NaN",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a": 1e400}',
        b'{"a": 1, "a": 2}',
        b"9" * 5000,
        b'"' + b"x" * (5 << 20) + b'"',
    ],
)
def test_non_finite_deep_huge_or_duplicate_json_is_refused_cleanly(text: bytes) -> None:
    with pytest.raises(VaultCorrupt):
        SlotFile.parse(text)


@pytest.mark.parametrize(
    "key,value",
    [
        ("max_failures", 10**9),
        ("max_failures", 2),
        ("window_minutes", 0),
        ("window_minutes", 1441),
        ("max_failures", 5.0),
        ("window_minutes", False),
    ],
)
def test_lockout_settings_outside_the_policy_bounds_are_refused(
    new_vault: NewVault, vault_dir: Path, key: str, value: Any
) -> None:
    new_vault.session.lock()
    doc = json.loads((vault_dir / "vault.keys").read_text())
    doc["lockout_policy"][key] = value
    with pytest.raises(VaultCorrupt):
        SlotFile.parse(json.dumps(doc).encode())


def test_the_stored_time_of_a_pending_event_is_the_event_time(
    with_bob: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    clock.set_clock(lambda: datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    with pytest.raises(WrongCredentials):
        unlock(vault_dir, "bob", "wrong guess 1234", keyring_store)
    clock.set_clock(None)
    session = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)
    rows = [r for r in audit.open_view(session).page(limit=200) if r.action == "failed-login"]
    assert [r.ts for r in rows] == ["2026-11-02T09:00:00.000000Z"]
    session.close()
