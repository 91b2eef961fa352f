"""Backups and restore: round trip, a fresh workstation, tampering refused, nothing overwritten."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cim_desktop.domain import clock
from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import (
    CimError,
    IntegrityFailure,
    PermissionDenied,
    RecoveryCodeInvalid,
    StorageFull,
    WrongCredentials,
)
from cim_desktop.security import recovery_code
from cim_desktop.security.device_secret import SERVICE, DeviceSecretStore
from cim_desktop.security.slotfile import SlotFile
from cim_desktop.services.audit import trail as audit
from cim_desktop.services.vault.backup import (
    BackupResult,
    create_backup,
    last_backup,
    restore_backup,
)
from cim_desktop.services.vault.backup_format import manifest_signature_valid, sign_manifest
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from cim_desktop.services.vault.signing_keys import public_bytes
from cim_desktop.store.audit.checkpoints import Checkpoint
from cim_desktop.store.migrations import ladder as schema
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.memory_keyring import MemoryKeyring
from tests.officer_helpers import add_officer

BOB_PASSWORD = "bobs own long password"


def files(folder: Path) -> dict[str, str]:
    """Name -> sha256 of every file in ``folder``."""
    if not folder.exists():
        return {}
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


@dataclass
class Backed:
    vault: NewVault
    result: BackupResult
    hashes: list[tuple[int, bytes]]  # the original chain's (seq, hash) up to the backup


@pytest.fixture
def backed(new_vault: NewVault, tmp_path: Path) -> Backed:
    session = new_vault.session
    add_officer(session, "bob", BOB_PASSWORD, [Role.HANDLER])
    dest = tmp_path / "backups"
    dest.mkdir()
    result = create_backup(session, dest)
    seq = result.manifest["checkpoint"]["seq"]
    rows = [session.db.audit.get(s) for s in range(1, seq + 1)]
    return Backed(new_vault, result, [(r.seq, bytes(r.hash)) for r in rows if r is not None])


def rewrite_manifest(backed: Backed, change: dict[str, object], *, resign: bool) -> None:
    manifest = json.loads(backed.result.manifest_path.read_text())
    manifest.update(change)
    if resign:
        manifest = sign_manifest(manifest, backed.vault.session.signing_key())
    backed.result.manifest_path.write_text(json.dumps(manifest))


def test_manifest_holds_counts_schema_checkpoint_and_a_valid_signature(backed: Backed) -> None:
    session = backed.vault.session
    manifest = backed.result.manifest
    assert backed.result.path.name.startswith(f"cim-backup-{session.vault_id[:8]}-")
    assert backed.result.path.name.endswith(".cimvault")
    assert backed.result.manifest_path.name == (
        backed.result.path.name.removesuffix(".cimvault") + ".manifest.json"
    )
    assert json.loads(backed.result.manifest_path.read_text()) == manifest
    assert manifest["schema_version"] == schema.LATEST
    cp = manifest["checkpoint"]
    assert manifest["counts"] == {"officers": 2, "officer_roles": 2, "audit": cp["seq"]}
    # The checkpoint signs the BACKUP row, the last row inside the copy.
    backup_row = session.db.audit.get(cp["seq"])
    assert backup_row is not None and backup_row.action == "backup"
    assert bytes(backup_row.hash).hex() == cp["head"]
    assert cp in [c.to_json() for c in audit.read_checkpoints(session.paths.checkpoints)]
    data = backed.result.path.read_bytes()
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["size"] == len(data)
    assert manifest["keyslots"]["vault_id"] == session.vault_id
    assert manifest_signature_valid(manifest, audit.public_key(session))
    assert not manifest_signature_valid({**manifest, "counts": {}}, audit.public_key(session))
    last = last_backup(session)
    assert last is not None and last["file"] == backed.result.path.name
    completed = session.db.audit.page(limit=1)[0]
    assert (completed.action, json.loads(completed.detail)["stage"]) == ("backup", "completed")


def test_round_trip_restores_counts_chain_and_slots(
    backed: Backed, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    session = backed.vault.session
    add_officer(session, "carol", "another long password", [Role.HANDLER])
    session.lock()
    before = files(vault_dir)

    result = restore_backup(
        vault_dir,
        backed.result.path,
        username=ADMIN,
        password=ADMIN_PASSWORD,
        keyring=keyring_store,
    )

    assert result.counts == backed.result.manifest["counts"]
    assert not result.by_recovery_code
    # The replaced vault is kept byte for byte under new names.
    kept = {p.name.split(".replaced-")[0]: p for p in result.replaced}
    assert set(kept) == {"vault.db", "vault.keys", "checkpoints.jsonl", "vault.pub"}
    for name, path in kept.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before[name]

    restored = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)
    try:
        assert [o.username for o in restored.db.officers.all()] == [ADMIN, "bob"]
        for seq, digest in backed.hashes:
            row = restored.db.audit.get(seq)
            assert row is not None and bytes(row.hash) == digest
        restore_row = restored.db.audit.get(len(backed.hashes) + 1)
        assert restore_row is not None and restore_row.action == "restore"
        assert restore_row.username == ADMIN
        assert result.head_seq == restore_row.seq
        check = audit.verify(restored, [Checkpoint.from_json(backed.result.manifest["checkpoint"])])
        # The backup's checkpoint is in the restored file, and counts as one from outside.
        assert check.ok and len(check.own) == 1 and len(check.checkpoints) == 1
        assert check.checkpoints[0].signer == ADMIN
    finally:
        restored.lock()
    unlock(vault_dir, "bob", BOB_PASSWORD, keyring_store).lock()
    # Carol was added after the backup: her key slot went with the replaced vault.
    with pytest.raises(WrongCredentials):
        unlock(vault_dir, "carol", "another long password", keyring_store)


def test_restores_on_a_fresh_workstation_with_the_recovery_code(
    backed: Backed, tmp_path: Path
) -> None:
    backed.vault.session.lock()
    fresh = MemoryKeyring()
    store = DeviceSecretStore(fresh)
    target = tmp_path / "new-workstation" / "vault"

    # A password alone cannot open the backup here: the device secret is not in this keyring.
    with pytest.raises(CimError, match="recovery code"):
        restore_backup(
            target, backed.result.path, username=ADMIN, password=ADMIN_PASSWORD, keyring=store
        )
    with pytest.raises(RecoveryCodeInvalid):
        restore_backup(
            target, backed.result.path, recovery_code=recovery_code.generate(), keyring=store
        )
    assert not target.parent.exists() or not target.exists()
    assert fresh.entries == {}

    result = restore_backup(
        target, backed.result.path, recovery_code=backed.vault.recovery_code, keyring=store
    )
    assert result.by_recovery_code and result.slots_rewrapped == 2
    assert result.replaced == []
    assert list(fresh.entries) == [(SERVICE, f"vault:{backed.vault.session.vault_id}")]

    session = unlock(target, ADMIN, ADMIN_PASSWORD, store)
    try:
        row = session.db.audit.get(result.head_seq)
        assert row is not None
        assert (row.action, row.user_id, row.reason) == ("restore", "system", "recovery code")
        assert audit.verify(session).ok
    finally:
        session.lock()
    unlock(target, "bob", BOB_PASSWORD, store).lock()


def test_restore_works_when_the_current_vault_is_broken_or_gone(
    backed: Backed, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    backed.vault.session.lock()
    db = vault_dir / "vault.db"
    junk = bytes(range(256)) * (db.stat().st_size // 256)
    db.write_bytes(junk)
    result = restore_backup(
        vault_dir,
        backed.result.path,
        username=ADMIN,
        password=ADMIN_PASSWORD,
        keyring=keyring_store,
    )
    kept_db = next(p for p in result.replaced if p.name.startswith("vault.db."))
    assert kept_db.read_bytes() == junk
    unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store).lock()

    for path in vault_dir.iterdir():
        path.unlink()
    vault_dir.rmdir()
    restore_backup(
        vault_dir,
        backed.result.path,
        username=ADMIN,
        password=ADMIN_PASSWORD,
        keyring=keyring_store,
    )
    unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store).lock()


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _refused(backed: Backed, vault_dir: Path, keyring_store: DeviceSecretStore, match: str) -> None:
    backed.vault.session.close()
    before = files(vault_dir)
    with pytest.raises(IntegrityFailure, match=match):
        restore_backup(
            vault_dir,
            backed.result.path,
            username=ADMIN,
            password=ADMIN_PASSWORD,
            keyring=keyring_store,
        )
    assert files(vault_dir) == before  # byte-identical, and no temporary file left behind


def test_refuses_a_backup_file_changed_after_it_was_written(
    backed: Backed, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    _flip(backed.result.path, backed.result.path.stat().st_size // 2)
    _refused(backed, vault_dir, keyring_store, "does not match its manifest")


def test_refuses_a_damaged_page_even_when_the_manifest_was_rewritten_to_match(
    backed: Backed, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    path = backed.result.path
    _flip(path, path.stat().st_size - 2000)  # inside the last page, away from page 1
    rewrite_manifest(backed, {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()}, resign=True)
    _refused(backed, vault_dir, keyring_store, "does not open with its own key|fails its integrity")


def test_refuses_a_manifest_whose_checkpoint_does_not_match_the_chain(
    backed: Backed, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    session = backed.vault.session
    first = session.db.audit.get(1)
    assert first is not None
    # Properly signed by the officer's key, but for an earlier head than the backup's.
    assert session.signer is not None
    older = Checkpoint(
        session.vault_id,
        1,
        bytes(first.hash),
        "2026-01-01T00:00:00.000000Z",
        session.officer.id,
        public_bytes(session.signer),
    )
    rewrite_manifest(backed, {"checkpoint": older.signed(session.signer).to_json()}, resign=True)
    _refused(backed, vault_dir, keyring_store, "checkpoint is for sequence 1 ")


def test_refuses_a_manifest_edited_without_the_vault_key(
    backed: Backed, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    rewrite_manifest(
        backed, {"counts": {"officers": 1, "officer_roles": 1, "audit": 3}}, resign=False
    )
    _refused(backed, vault_dir, keyring_store, "signature")


def test_backups_and_restores_never_overwrite(
    backed: Backed, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    session = backed.vault.session
    clock.set_clock(lambda: datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    first = create_backup(session, backed.result.path.parent)
    first_bytes = (first.path.read_bytes(), first.manifest_path.read_bytes())
    second = create_backup(session, backed.result.path.parent)  # the same second
    assert second.path != first.path and second.path.name.endswith("Z-2.cimvault")
    assert (first.path.read_bytes(), first.manifest_path.read_bytes()) == first_bytes
    session.lock()

    one = restore_backup(
        vault_dir, first.path, username=ADMIN, password=ADMIN_PASSWORD, keyring=keyring_store
    )
    kept = {p: p.read_bytes() for p in one.replaced}
    two = restore_backup(
        vault_dir, second.path, username=ADMIN, password=ADMIN_PASSWORD, keyring=keyring_store
    )
    assert not set(one.replaced) & set(two.replaced)
    assert {p: p.read_bytes() for p in one.replaced} == kept


def test_only_an_administrator_backs_up_or_restores(
    backed: Backed, vault_dir: Path, keyring_store: DeviceSecretStore, tmp_path: Path
) -> None:
    backed.vault.session.lock()
    bob = unlock(vault_dir, "bob", BOB_PASSWORD, keyring_store)
    other = tmp_path / "bobs-backups"
    other.mkdir()
    with pytest.raises(PermissionDenied):
        create_backup(bob, other)
    bob.lock()
    assert list(other.iterdir()) == []
    before = files(vault_dir)
    with pytest.raises(PermissionDenied):
        restore_backup(
            vault_dir,
            backed.result.path,
            username="bob",
            password=BOB_PASSWORD,
            keyring=keyring_store,
        )
    # Only vault.keys changed: it holds the refusal until the next unlock records it.
    assert {k: v for k, v in files(vault_dir).items() if k != "vault.keys"} == {
        k: v for k, v in before.items() if k != "vault.keys"
    }
    waiting = SlotFile.load(vault_dir / "vault.keys").pending_events
    assert [(e["action"], e["username"]) for e in waiting] == [("restore-refused", "bob")]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real, nearly full file system: a 64 KiB tmpfs (needs root, as on the CI machine)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_gives_storage_full_and_leaves_nothing_behind(
    new_vault: NewVault, small_disk: Path
) -> None:
    session = new_vault.session
    with pytest.raises(StorageFull):
        create_backup(session, small_disk)
    assert list(small_disk.iterdir()) == []
    last = session.db.audit.page(limit=1)[0]
    assert (last.action, last.outcome) == ("backup", "failed")
    assert last_backup(session) is None
