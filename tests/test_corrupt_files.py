"""A wrong, foreign, truncated or damaged vault file: clear message, file untouched."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from cim_desktop.domain.audit.rows import Action, AuditEvent
from cim_desktop.errors import VaultCorrupt
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.audit import trail as audit
from cim_desktop.services.vault.lifecycle import NewVault, create_vault, unlock
from cim_desktop.store import database
from cim_desktop.store.connection import PAGE_SIZE
from tests.conftest import ADMIN, ADMIN_PASSWORD

SIDECARS = ("vault.db-wal", "vault.db-shm", "vault.db-journal")


@pytest.fixture
def locked_vault(new_vault: NewVault, vault_dir: Path) -> Path:
    # Give the file a few pages beyond the first so that "every page" means something.
    for n in range(40):
        new_vault.session.record(
            AuditEvent(Action.VIEW, "test", f"row-{n}", {"padding": "x" * 200})
        )
    new_vault.session.lock()
    return vault_dir


def _attempt(vault_dir: Path, keyring: DeviceSecretStore, match: str) -> None:
    db = vault_dir / "vault.db"
    before = db.read_bytes()
    with pytest.raises(VaultCorrupt, match=match) as info:
        unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring)
    assert "untouched" in info.value.message or "does not exist" in info.value.message
    assert db.read_bytes() == before, "the file must stay byte-identical"
    for side in SIDECARS:
        assert not (vault_dir / side).exists(), f"{side} was left beside the vault"


def _plain_sqlite(db: Path) -> None:
    db.unlink()
    with sqlite3.connect(db) as plain:
        plain.execute("CREATE TABLE t (x)")
    plain.close()


def _random_bytes(db: Path) -> None:
    db.write_bytes(os.urandom(8 * PAGE_SIZE))


def _random_odd_size(db: Path) -> None:
    db.write_bytes(os.urandom(5000))


def _zero_length(db: Path) -> None:
    db.write_bytes(b"")


def _truncated_mid_page(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2 + 100])


def _truncated_whole_pages(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) - 2 * PAGE_SIZE])


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "plain sqlite": (_plain_sqlite, "plain, unencrypted SQLite file"),
    "random bytes": (_random_bytes, "damaged, is not a cim-desktop vault"),
    "random bytes, odd size": (_random_odd_size, "truncated or damaged"),
    "zero length": (_zero_length, "empty"),
    "truncated mid-page": (_truncated_mid_page, "truncated or damaged"),
    "truncated by whole pages": (_truncated_whole_pages, "damaged"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_file_is_refused_and_untouched(
    case: str, locked_vault: Path, keyring_store: DeviceSecretStore
) -> None:
    damage, message = CASES[case]
    damage(locked_vault / "vault.db")
    _attempt(locked_vault, keyring_store, message)


def test_a_flipped_byte_in_any_page_is_caught(
    locked_vault: Path, keyring_store: DeviceSecretStore
) -> None:
    db = locked_vault / "vault.db"
    pristine = db.read_bytes()
    pages = len(pristine) // PAGE_SIZE
    assert pages >= 4
    # Every page, at its start, its middle or its last byte (the IV and HMAC area) in turn.
    offsets = (0, PAGE_SIZE // 2, PAGE_SIZE - 1)
    for page in range(pages):
        data = bytearray(pristine)
        data[page * PAGE_SIZE + offsets[page % len(offsets)]] ^= 0x01
        db.write_bytes(bytes(data))
        _attempt(locked_vault, keyring_store, "damaged")
    db.write_bytes(pristine)
    unlock(locked_vault, ADMIN, ADMIN_PASSWORD, keyring_store).close()


def test_a_foreign_vault_file_is_refused(
    locked_vault: Path, tmp_path: Path, keyring_store: DeviceSecretStore
) -> None:
    other = create_vault(
        tmp_path / "other",
        unit_name="Elsewhere",
        admin_username=ADMIN,
        admin_password=ADMIN_PASSWORD,
        keyring=keyring_store,
    )
    other.session.lock()
    shutil.copyfile(tmp_path / "other" / "vault.db", locked_vault / "vault.db")
    _attempt(locked_vault, keyring_store, "damaged, is not a cim-desktop vault")


def test_missing_database_beside_a_slot_file(
    locked_vault: Path, keyring_store: DeviceSecretStore
) -> None:
    (locked_vault / "vault.db").unlink()
    with pytest.raises(VaultCorrupt, match="does not exist"):
        unlock(locked_vault, ADMIN, ADMIN_PASSWORD, keyring_store)
    assert not (locked_vault / "vault.db").exists()


@pytest.mark.parametrize(
    "content", [b"", b"{}", b"not json", b'{"format": "cim-desktop-keyslots", "version": 1}']
)
def test_damaged_slot_file(
    locked_vault: Path, keyring_store: DeviceSecretStore, content: bytes
) -> None:
    keys = locked_vault / "vault.keys"
    keys.write_bytes(content)
    with pytest.raises(VaultCorrupt, match=r"key-slot file|vault\.keys"):
        unlock(locked_vault, ADMIN, ADMIN_PASSWORD, keyring_store)
    assert keys.read_bytes() == content


def test_a_large_vault_opens_at_once_and_verification_finds_damage(
    locked_vault: Path, keyring_store: DeviceSecretStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pretend every vault is above the size where pages are checked at login.
    monkeypatch.setattr(database, "PAGE_CHECK_AT_OPEN_MAX_BYTES", 0)
    db = locked_vault / "vault.db"
    pristine = db.read_bytes()
    caught_later = 0
    for page in range(1, len(pristine) // PAGE_SIZE):
        data = bytearray(pristine)
        data[page * PAGE_SIZE + PAGE_SIZE // 2] ^= 0x01
        db.write_bytes(bytes(data))
        try:
            session = unlock(locked_vault, ADMIN, ADMIN_PASSWORD, keyring_store)
        except VaultCorrupt:
            continue  # the login itself read the damaged page: refused with the message
        try:
            assert not session.db.pages_verified
            result = audit.verify(session)
            assert not result.ok and result.damaged_pages == 1
            assert result.summary().startswith("DAMAGED: 1 page(s)")
            caught_later += 1
        finally:
            session.close()
    assert caught_later > 0, "some damaged page must have been left for verification"
    db.write_bytes(pristine)
    session = unlock(locked_vault, ADMIN, ADMIN_PASSWORD, keyring_store)
    assert audit.verify(session).ok and session.db.pages_verified
    session.close()
