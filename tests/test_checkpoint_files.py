"""The officer's sealed signing key in ``vault.keys``, recovery and old backups, and damaged
checkpoint files."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cim_desktop.errors import InvalidInput
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.security.keyslots import (
    OfficerKeys,
    UserSlot,
    new_private_key,
    open_signing_key,
    public_key,
    signer_key_for,
    unwrap_user_with_signer,
    wrap_for_user,
)
from cim_desktop.security.slotfile import SlotFile
from cim_desktop.services.audit import trail as audit
from cim_desktop.services.session import Session
from cim_desktop.services.vault import backup, signing_keys
from cim_desktop.services.vault.backup_format import sign_manifest
from cim_desktop.services.vault.lifecycle import NewVault, create_vault, unlock
from cim_desktop.services.vault.recovery import recover
from cim_desktop.store.audit import checkpoints
from cim_desktop.store.audit.checkpoints import OLD_FORMAT, Checkpoint
from tests.conftest import ADMIN, ADMIN_PASSWORD, UNIT
from tests.memory_keyring import MemoryKeyring

VAULT_ID = "00000000-0000-4000-8000-000000000001"


def _slot(k: bytes, d: bytes) -> tuple[UserSlot, bytes]:
    """A slot for a fresh key pair, and the key that seals its signing key."""
    issuer, private = new_private_key(), new_private_key()
    slot = wrap_for_user(
        k,
        d,
        "a long password here",
        vault_id=VAULT_ID,
        user_id="u1",
        username="bob",
        issuer_public=public_key(issuer),
        private=private,
    )
    return slot, signer_key_for(OfficerKeys(private, public_key(issuer)), VAULT_ID)


# -- the sealed key in a slot ----------------------------------------------------------------
def test_the_signing_key_opens_only_with_the_password_and_the_device_secret() -> None:
    k, d = os.urandom(32), os.urandom(32)
    slot, sealer = _slot(k, d)
    key = signing_keys.new_key()
    slot = signing_keys.seal_into(slot, sealer, key, VAULT_ID)
    again = UserSlot.from_json(json.loads(json.dumps(slot.to_json())))
    assert again == slot and again.signing_key is not None

    vault_key, opened_with = unwrap_user_with_signer(
        again, d, "a long password here", vault_id=VAULT_ID
    )
    assert vault_key == k
    opened = signing_keys.open_from(again, opened_with, VAULT_ID)
    assert opened is not None
    assert signing_keys.public_bytes(opened) == signing_keys.public_bytes(key)
    # Not under K, not under D alone, and bound to its officer.
    assert open_signing_key(k, again.signing_key, vault_id=VAULT_ID, user_id="u1") is None
    assert open_signing_key(d, again.signing_key, vault_id=VAULT_ID, user_id="u1") is None
    assert open_signing_key(opened_with, again.signing_key, vault_id=VAULT_ID, user_id="u2") is None


def test_a_slot_without_a_signing_key_still_reads() -> None:
    slot, _ = _slot(os.urandom(32), os.urandom(32))
    data = slot.to_json()
    assert "signing_key" not in data
    assert UserSlot.from_json(data).signing_key is None


def test_recovery_keeps_each_officers_signing_key(new_vault: NewVault, vault_dir: Path) -> None:
    new_vault.session.lock()
    fresh = DeviceSecretStore(MemoryKeyring())
    recover(vault_dir, new_vault.recovery_code, fresh)
    # The seal comes from the officer's own key pair, which recovery moves to the new device
    # secret unchanged: the key still opens and no new one is made.
    slots = SlotFile.load(vault_dir / "vault.keys").users.values()
    assert all(s.signing_key is not None for s in slots)
    session = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, fresh)
    try:
        made = [r for r in session.db.audit.page(limit=50) if r.action == "checkpoint-key"]
        assert len(made) == 1  # the one made with the vault
        session.lock()
        result = verify(vault_dir, fresh)
        assert result.ok and [f.signer for f in result.own][-1] == ADMIN
    finally:
        session.close()


def verify(vault_dir: Path, keyring: DeviceSecretStore) -> audit.VerifyResult:
    session = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring)
    try:
        return audit.verify(session)
    finally:
        session.close()


# -- a backup from before officers signed ------------------------------------------------------
def test_a_backup_with_an_old_format_checkpoint_still_restores_but_proves_nothing(
    new_vault: NewVault, keyring_store: DeviceSecretStore, tmp_path: Path
) -> None:
    session = new_vault.session
    made = backup.create_backup(session, tmp_path)
    manifest = json.loads(made.manifest_path.read_text())
    cp = Checkpoint.from_json(manifest["checkpoint"])
    # What version 1 wrote: the head signed with the vault's own key, as the manifest is.
    old = Checkpoint(cp.vault_id, cp.seq, cp.head, cp.time, format=OLD_FORMAT).signed(
        session.signing_key()
    )
    manifest["checkpoint"] = old.to_json()
    made.manifest_path.write_text(json.dumps(sign_manifest(manifest, session.signing_key())))
    session.lock()

    target = tmp_path / "restored"
    backup.restore_backup(
        target, made.path, username=ADMIN, password=ADMIN_PASSWORD, keyring=keyring_store
    )
    assert not (target / "checkpoints.jsonl").exists()  # nothing that proves anything
    result = verify(target, keyring_store)
    assert result.ok and result.own == [] and "cannot be ruled out" in result.summary()
    # Presented from outside, it is refused by name.
    s = unlock(target, ADMIN, ADMIN_PASSWORD, keyring_store)
    try:
        with s.db.reading():
            finding = audit.check_checkpoint(s, old)
    finally:
        s.close()
    assert not finding.ok and "vault's own key" in finding.problem


# -- damaged checkpoint files ------------------------------------------------------------------
@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Session, bytes]]:
    root = tmp_path_factory.mktemp("cpfile") / "vault"
    session = create_vault(
        root,
        unit_name=UNIT,
        admin_username=ADMIN,
        admin_password=ADMIN_PASSWORD,
        keyring=DeviceSecretStore(MemoryKeyring()),
    ).session
    for _ in range(3):
        session.checkpoint()
    yield session, session.paths.checkpoints.read_bytes()
    session.close()


@settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_a_mutated_checkpoint_file_is_refused_or_read_never_crashed_on(
    signed: tuple[Session, bytes], data: st.DataObject
) -> None:
    session, genuine = signed
    raw = bytearray(genuine)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        kind = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if kind == "flip":
            raw[at] ^= data.draw(st.integers(1, 255))
        elif kind == "cut":
            del raw[at : at + data.draw(st.integers(1, 40))]
        else:
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=40))
        if not raw:
            break
    session.paths.checkpoints.write_bytes(bytes(raw))
    try:
        result = audit.verify(session)
        try:
            presented: list[Checkpoint] | None = checkpoints.read(session.paths.checkpoints)
        except InvalidInput as exc:
            presented = None
            assert len(exc.message.splitlines()) == 1
    finally:
        session.paths.checkpoints.write_bytes(genuine)
    assert result.chain.ok
    if result.own_problem:
        assert not result.ok and len(result.own_problem.splitlines()) == 1
    elif presented is not None:
        assert len(presented) == len(result.own) + result.own_old_format
    # Whatever still verifies is a genuine checkpoint of this chain by its officer.
    for finding in result.own:
        assert finding.ok == (finding.signer == ADMIN)
