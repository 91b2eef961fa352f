"""Checkpoints against someone who holds the vault key K.

The attacker here opens ``vault.db`` directly with sqlcipher3 and the key taken from a live
session, cuts or rewrites the chain (dropping the guard triggers first), and writes the
checkpoint file beside the vault. Before per-officer keys they re-signed it with
``meta.signing_key``, which K opens; now a checkpoint counts only when it is signed with the
key the chain records for the officer it names, and that key is sealed under the officer's
password.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlcipher3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cim_desktop.domain.audit.rows import Action, AuditEvent
from cim_desktop.domain.officers.roles import Role
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.security.keyslots import open_signing_key, unwrap_user_with_signer
from cim_desktop.security.slotfile import SlotFile
from cim_desktop.services.access import approval
from cim_desktop.services.audit import trail as audit
from cim_desktop.services.officers import accounts
from cim_desktop.services.officers.management import ADMINS, PURPOSE_RESET
from cim_desktop.services.session import Session
from cim_desktop.services.vault import backup, signing_keys
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from cim_desktop.store.audit import checkpoints
from cim_desktop.store.audit.chain_format import genesis, row_hash
from cim_desktop.store.audit.checkpoints import Checkpoint
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.file_keyring import FileKeyring
from tests.officer_helpers import add_officer

BOB_PASSWORD = "bobs own long password"
CAROL_PASSWORD = "second admin on nights"
TEMP = "temporary pass 4 bob"
ROWS = 120
CUT_TO = 15
NOW = "2026-11-28T04:00:00.000000Z"
COLS = (
    "seq",
    "ts",
    "user_id",
    "username",
    "role",
    "session_id",
    "action",
    "entity_type",
    "entity_id",
    "detail",
    "reason",
    "outcome",
)


# -- the attacker's tools: sqlcipher3 and the key, nothing of the application's ---------------
@dataclass
class Stolen:
    vault_dir: Path
    key: bytes
    vault_id: str

    def connect(self) -> Any:
        conn = sqlcipher3.connect(str(self.vault_dir / "vault.db"), isolation_level=None)
        conn.execute(f"PRAGMA key = \"x'{self.key.hex()}'\"")
        conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
        conn.execute("DROP TRIGGER IF EXISTS audit_no_delete")
        return conn

    def cut_to(self, seq: int) -> None:
        conn = self.connect()
        conn.execute("DELETE FROM audit WHERE seq > ?", (seq,))
        conn.close()

    def head(self) -> tuple[int, bytes]:
        conn = self.connect()
        seq, digest = conn.execute(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        conn.close()
        return int(seq), bytes(digest)

    def append_row(self, **fields: Any) -> tuple[int, bytes]:
        """A row chained properly onto the head: what K (and no officer) lets anyone write."""
        seq, prev = self.head()
        values = {
            "seq": seq + 1,
            "ts": NOW,
            "user_id": "",
            "username": "",
            "role": "",
            "session_id": "",
            "action": "",
            "entity_type": "",
            "entity_id": "",
            "detail": "{}",
            "reason": "",
            "outcome": "ok",
            **fields,
        }
        row = tuple(values[c] for c in COLS)
        conn = self.connect()
        # A careful forger carries the granting-row state forward, as the application does.
        (state,) = conn.execute("SELECT state FROM audit WHERE seq = ?", (seq,)).fetchone()
        digest = row_hash(prev, row, state)
        conn.execute(
            f"INSERT INTO audit ({', '.join(COLS)}, prev_hash, hash, state) "
            f"VALUES ({', '.join('?' * (len(COLS) + 3))})",
            (*row, prev, digest, state),
        )
        conn.close()
        return seq + 1, digest

    def rewrite_detail(self, seq: int, detail: str) -> None:
        """Change one row and rebuild every hash after it, as K lets anyone do."""
        conn = self.connect()
        conn.execute("UPDATE audit SET detail = ? WHERE seq = ?", (detail, seq))
        prev = genesis(self.vault_id)
        for *values, state, bound in conn.execute(
            f"SELECT {', '.join(COLS)}, state, bound FROM audit ORDER BY seq"
        ).fetchall():
            digest = row_hash(prev, tuple(values), state, bound)
            conn.execute(
                "UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, values[0])
            )
            prev = digest
        conn.close()

    def vault_signing_key(self) -> Ed25519PrivateKey:
        conn = self.connect()
        raw = conn.execute("SELECT value FROM meta WHERE key = 'signing_key'").fetchone()[0]
        conn.close()
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(raw))

    def write_checkpoints(self, *cps: Checkpoint) -> None:
        path = self.vault_dir / "checkpoints.jsonl"
        path.unlink(missing_ok=True)
        for cp in cps:
            checkpoints.append(path, cp)


@pytest.fixture
def vault(new_vault: NewVault, vault_dir: Path) -> Iterator[Stolen]:
    """An administrator, bob (record keeper, own password), many rows, locked (signed)."""
    session = new_vault.session
    add_officer(session, "bob", BOB_PASSWORD, [Role.RECORD_KEEPER])
    while session.db.audit.head()[0] < ROWS:
        session.record(AuditEvent(Action.VIEW, "officer", "*"), Role.ADMINISTRATOR)
    stolen = Stolen(vault_dir, bytes(session.vault_key), session.vault_id)
    session.lock()
    yield stolen


def verify_as_admin(
    vault_dir: Path, keyring: DeviceSecretStore, presented: list[Checkpoint] | None = None
) -> audit.VerifyResult:
    session = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring)
    try:
        return audit.verify(session, presented)
    finally:
        session.close()


def bobs_key(
    vault_dir: Path, keyring: DeviceSecretStore, password: str = BOB_PASSWORD
) -> Ed25519PrivateKey:
    """What someone holding bob's password (and the workstation) can take."""
    slots = SlotFile.load(vault_dir / "vault.keys")
    slot = slots.find_user("bob")
    assert slot is not None and slot.signing_key is not None
    _, sealer = unwrap_user_with_signer(
        slot, keyring.get(slots.vault_id), password, vault_id=slots.vault_id
    )
    raw = open_signing_key(sealer, slot.signing_key, vault_id=slots.vault_id, user_id=slot.user_id)
    assert raw is not None
    return Ed25519PrivateKey.from_private_bytes(raw)


def forged(
    stolen: Stolen, signer: Ed25519PrivateKey, officer_id: str, old_format: bool = False
) -> Checkpoint:
    seq, head = stolen.head()
    if old_format:
        return Checkpoint(stolen.vault_id, seq, head, NOW, format=checkpoints.OLD_FORMAT).signed(
            signer
        )
    return Checkpoint(
        stolen.vault_id, seq, head, NOW, officer_id, signing_keys.public_bytes(signer)
    ).signed(signer)


def officer_id(vault_dir: Path, username: str) -> str:
    slot = SlotFile.load(vault_dir / "vault.keys").find_user(username)
    assert slot is not None
    return slot.user_id


# -- (1) a key holder forges the checkpoint file ------------------------------------------------
def test_the_vault_key_no_longer_signs_a_checkpoint_for_a_cut_chain(
    vault: Stolen, keyring_store: DeviceSecretStore
) -> None:
    vault.cut_to(CUT_TO)
    # Re-signed with the vault's own key, which K opens: the old way, now refused by name.
    vault.write_checkpoints(forged(vault, vault.vault_signing_key(), "", old_format=True))
    result = verify_as_admin(vault.vault_dir, keyring_store)
    assert result.ok  # the old-format line is ignored, not evidence ...
    assert result.own == [] and result.own_old_format == 1
    assert "a roll-back cannot be ruled out" in result.summary()  # ... and nothing is claimed
    # Presented as if from outside, it is refused with the reason.
    old = forged(vault, vault.vault_signing_key(), "", old_format=True)
    refused = verify_as_admin(vault.vault_dir, keyring_store, [old])
    assert not refused.ok
    assert "signed with the vault's own key" in refused.checkpoints[0].problem


def test_a_checkpoint_signed_with_a_key_the_chain_does_not_record_is_refused(
    vault: Stolen, keyring_store: DeviceSecretStore
) -> None:
    vault.cut_to(CUT_TO)
    admin_id = officer_id(vault.vault_dir, ADMIN)
    vault.write_checkpoints(forged(vault, Ed25519PrivateKey.generate(), admin_id))
    result = verify_as_admin(vault.vault_dir, keyring_store)
    assert not result.ok
    assert result.own[0].problem.startswith("it is signed with a key the chain does not record")
    assert result.summary().startswith("BROKEN: checkpoint at sequence")


def test_a_rewritten_chain_re_signed_with_an_officers_password_names_that_officer(
    vault: Stolen, keyring_store: DeviceSecretStore
) -> None:
    genuine = checkpoints.read(vault.vault_dir / "checkpoints.jsonl")
    vault.rewrite_detail(CUT_TO, '{"fields":[]}')
    # The genuine checkpoints no longer match the rebuilt chain.
    assert not verify_as_admin(vault.vault_dir, keyring_store).ok
    # With K and bob's password, the forger re-signs; verification names bob.
    vault.write_checkpoints(
        forged(vault, bobs_key(vault.vault_dir, keyring_store), officer_id(vault.vault_dir, "bob"))
    )
    result = verify_as_admin(vault.vault_dir, keyring_store)
    assert result.ok and [f.signer for f in result.own] == ["bob"]
    assert "signed by bob" in "\n".join(result.details())
    # The genuine checkpoint, kept elsewhere, still catches the rewrite.
    outside = verify_as_admin(vault.vault_dir, keyring_store, genuine[-1:])
    assert not outside.ok and "the row there differs" in outside.checkpoints[0].problem


def test_a_key_record_forged_with_k_is_caught_at_that_officers_next_login(
    vault: Stolen, keyring_store: DeviceSecretStore
) -> None:
    vault.cut_to(CUT_TO)
    bob_id = officer_id(vault.vault_dir, "bob")
    fake = Ed25519PrivateKey.generate()
    # K lets the forger append a row that records their own key as bob's ...
    vault.append_row(
        action=Action.CHECKPOINT_KEY.value,
        entity_type="officer",
        entity_id=bob_id,
        user_id=bob_id,
        username="bob",
        detail=json.dumps(
            {
                "occasion": "login: the key slot held no signing key",
                "public_key": signing_keys.public_bytes(fake).hex(),
            },
            sort_keys=True,
            separators=(",", ":"),
        ),
    )
    vault.write_checkpoints(forged(vault, fake, bob_id))
    # ... which names bob, the officer whose key the forger claimed;
    named = verify_as_admin(vault.vault_dir, keyring_store)
    assert named.ok and named.own[0].signer == "bob"
    # but bob's next login finds the chain naming a key that is not his, and records it,
    bob = unlock(vault.vault_dir, "bob", BOB_PASSWORD, keyring_store)
    contest = bob.db.audit.page(limit=2)[1]
    bob.close()
    assert (contest.action, contest.entity_id, contest.outcome) == (
        "checkpoint-key",
        bob_id,
        "failed",
    )
    # after which the forged checkpoint is refused.
    result = verify_as_admin(vault.vault_dir, keyring_store)
    assert not result.ok
    assert f"login at sequence {contest.seq} found that key was not theirs" in result.own[0].problem


# -- (2) a chain cut back from many rows to a few -----------------------------------------------
def test_a_roll_back_is_not_ruled_out_without_an_outside_checkpoint_and_caught_with_one(
    new_vault: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore, tmp_path: Path
) -> None:
    session = new_vault.session
    while session.db.audit.head()[0] < CUT_TO - 1:
        session.record(AuditEvent(Action.VIEW, "officer", "*"), Role.ADMINISTRATOR)
    session.lock()  # the LOCK row is sequence CUT_TO, then a checkpoint of it
    early = tmp_path / "early"
    shutil.copytree(vault_dir, early)
    session = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)
    while session.db.audit.head()[0] < ROWS:
        session.record(AuditEvent(Action.VIEW, "officer", "*"), Role.ADMINISTRATOR)
    (tmp_path / "backups").mkdir()
    made = backup.create_backup(session, tmp_path / "backups")
    session.lock()

    # The whole folder goes back to the early copy: vault, slots and checkpoint file alike.
    for name in ("vault.db", "vault.keys", "checkpoints.jsonl"):
        shutil.copyfile(early / name, vault_dir / name)
    alone = verify_as_admin(vault_dir, keyring_store)
    assert alone.ok and alone.chain.head_seq == CUT_TO + 1  # and the LOGIN row to verify
    assert alone.summary() == (
        f"OK: chain intact to sequence {alone.chain.head_seq} ({alone.chain.rows_checked} rows);"
        " no checkpoint from outside this vault was presented, so a roll-back cannot be ruled "
        "out"
    )
    own = "\n".join(alone.details())
    assert "The vault's own checkpoint file: 1 checkpoint(s) match" in own
    assert f"at sequence {CUT_TO} signed by {ADMIN}" in own and "cannot rule out" in own

    from_backup = checkpoints.read(made.manifest_path)  # the manifest's checkpoint
    assert from_backup[0].signer_id == session.officer.id
    caught = verify_as_admin(vault_dir, keyring_store, from_backup)
    assert not caught.ok
    assert caught.summary().startswith(
        f"BROKEN: checkpoint at sequence {from_backup[0].seq} from outside this vault: the "
        "trail ends at sequence"
    )
    assert "rolled back" in caught.summary()


def test_the_backups_checkpoint_proves_an_intact_vault_and_names_who_signed_it(
    vault: Stolen, keyring_store: DeviceSecretStore, tmp_path: Path
) -> None:
    session = unlock(vault.vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)
    made = backup.create_backup(session, tmp_path)
    session.lock()
    result = verify_as_admin(vault.vault_dir, keyring_store, checkpoints.read(made.manifest_path))
    assert result.ok and result.checkpoints[0].signer == ADMIN
    assert "from outside this vault match" in result.summary()
    assert (
        f"not been rolled back or rewritten below sequence {result.checkpoints[0].seq}"
        in result.summary()
    )


# -- (3) password changes and resets ---------------------------------------------------------
def _key_rows(session: Session, officer: str) -> list[tuple[int, str, str]]:
    return [
        (r.seq, json.loads(r.detail)["public_key"], json.loads(r.detail)["occasion"])
        for r in session.db.audit.iter_all()
        if r.action == "checkpoint-key" and r.entity_id == officer
    ]


def test_officer_creation_records_the_new_officers_public_key(
    vault: Stolen, keyring_store: DeviceSecretStore
) -> None:
    session = unlock(vault.vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)
    bob_id = officer_id(vault.vault_dir, "bob")
    try:
        rows = _key_rows(session, bob_id)
        assert [(k, why) for _, k, why in rows] == [
            (
                signing_keys.public_bytes(bobs_key(vault.vault_dir, keyring_store)).hex(),
                signing_keys.MADE_FOR_NEW_OFFICER,
            )
        ]
        assert BOB_PASSWORD not in json.dumps(rows)
    finally:
        session.close()


def test_a_password_change_keeps_the_key_and_signing_working(
    vault: Stolen, keyring_store: DeviceSecretStore
) -> None:
    before = signing_keys.public_bytes(bobs_key(vault.vault_dir, keyring_store))
    bob = unlock(vault.vault_dir, "bob", BOB_PASSWORD, keyring_store)
    accounts.change_password(bob, BOB_PASSWORD, "bobs brand new password")
    bob.lock()
    after = bobs_key(vault.vault_dir, keyring_store, "bobs brand new password")
    assert signing_keys.public_bytes(after) == before
    result = verify_as_admin(vault.vault_dir, keyring_store)
    assert result.ok and result.own[-1].signer == "bob"
    session = unlock(vault.vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)
    assert len(_key_rows(session, officer_id(vault.vault_dir, "bob"))) == 1  # no new key
    session.close()


def test_a_reset_makes_a_new_key_at_the_next_login_recorded_in_the_chain(
    vault: Stolen, keyring_store: DeviceSecretStore
) -> None:
    old = bobs_key(vault.vault_dir, keyring_store)
    session = unlock(vault.vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)
    add_officer(session, "carol", CAROL_PASSWORD, [Role.ADMINISTRATOR])
    bob_id = officer_id(vault.vault_dir, "bob")
    ok = approval.second_officer(session, "carol", CAROL_PASSWORD, ADMINS, PURPOSE_RESET)
    accounts.reset_password(session, bob_id, TEMP, ok)
    session.lock()
    assert SlotFile.load(vault.vault_dir / "vault.keys").users[bob_id].signing_key is None

    bob = unlock(vault.vault_dir, "bob", TEMP, keyring_store)
    at_login = _key_rows(bob, bob_id)[-1]
    assert at_login[2] == signing_keys.MADE_AT_LOGIN
    assert bob.signer is not None and at_login[1] == signing_keys.public_bytes(bob.signer).hex()
    # The administrator knew the temporary password: setting his own makes another key.
    accounts.change_password(bob, TEMP, "bobs brand new password")
    own = _key_rows(bob, bob_id)[-1]
    assert own[2] == signing_keys.MADE_AFTER_TEMPORARY and own[1] != at_login[1]
    bob.lock()

    result = verify_as_admin(vault.vault_dir, keyring_store)
    assert result.ok and result.own[-1].signer == "bob"
    # The old key, still in some copy of vault.keys, no longer signs for bob.
    stolen = Stolen(vault.vault_dir, vault.key, vault.vault_id)
    late = verify_as_admin(vault.vault_dir, keyring_store, [forged(stolen, old, bob_id)])
    assert not late.ok and "does not record for bob" in late.checkpoints[0].problem


# -- (4) the exit codes of the real entry point --------------------------------------------------
REPO = Path(__file__).resolve().parent.parent


def _cim(tmp_path: Path, *argv: str, stdin: str = ADMIN_PASSWORD + "\n") -> tuple[int, str, str]:
    env = dict(os.environ)
    env.update(
        PYTHON_KEYRING_BACKEND="tests.file_keyring.FileKeyring",
        CIM_TEST_KEYRING_FILE=str(tmp_path / "keyring.json"),
        CIM_HOME=str(tmp_path / "home"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
    )
    done = subprocess.run(
        [sys.executable, "-m", "cim_desktop.cli", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stdout + done.stderr
    return done.returncode, done.stdout, done.stderr


def test_verify_exit_codes_for_an_intact_a_rolled_back_and_a_broken_vault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, login = tmp_path / "home", ("--user", ADMIN, "--password-stdin")
    assert _cim(tmp_path, "init", "--unit", "DSU", "--admin", ADMIN, "--password-stdin")[0] == 0
    early = tmp_path / "early"
    shutil.copytree(home, early)
    (tmp_path / "backups").mkdir()
    code, out, _ = _cim(tmp_path, "backup", str(tmp_path / "backups"), *login)
    assert code == 0 and f"signed by {ADMIN}" in out
    manifest = next((tmp_path / "backups").glob("*.manifest.json"))

    code, out, err = _cim(tmp_path, "audit", "verify", *login)
    assert (code, err) == (0, "")
    assert out.startswith("OK: chain intact to sequence ")
    assert (
        "no checkpoint from outside this vault was presented, so a roll-back cannot be "
        "ruled out" in out.splitlines()[0]
    )
    code, out, _ = _cim(tmp_path, "audit", "verify", "--checkpoint", str(manifest), *login)
    assert code == 0 and "from outside this vault match" in out and f"signed by {ADMIN}" in out

    # Rolled back, folder and checkpoint file alike: intact alone, caught by the backup's.
    for name in ("vault.db", "vault.keys", "checkpoints.jsonl"):
        shutil.copyfile(early / name, home / name)
    code, out, _ = _cim(tmp_path, "audit", "verify", *login)
    assert code == 0 and "a roll-back cannot be ruled out" in out
    code, out, _ = _cim(tmp_path, "audit", "verify", "--checkpoint", str(manifest), *login)
    assert code == 1 and out.startswith("BROKEN: checkpoint at sequence") and "rolled back" in out

    # User errors: a missing file, a file that is no checkpoint: 2 and one line.
    for bad in (tmp_path / "absent.jsonl", manifest.with_name("junk.jsonl")):
        if bad.name == "junk.jsonl":
            bad.write_text("[1, 2, 3]\n")
        code, out, err = _cim(tmp_path, "audit", "verify", "--checkpoint", str(bad), *login)
        assert (code, out) == (2, "") and len(err.splitlines()) == 1

    # A broken chain (a row changed with the key, hashes not rebuilt): 1.
    monkeypatch.setenv("CIM_TEST_KEYRING_FILE", str(tmp_path / "keyring.json"))
    session_key = _key_of(tmp_path)
    stolen = Stolen(home, session_key, SlotFile.load(home / "vault.keys").vault_id)
    conn = stolen.connect()
    conn.execute("UPDATE audit SET detail = '{}' WHERE seq = 2")
    conn.close()
    code, out, _ = _cim(tmp_path, "audit", "verify", *login)
    assert code == 1 and out.startswith("BROKEN at sequence 2")


def _key_of(tmp_path: Path) -> bytes:
    """K, as an insider takes it from a session of theirs."""
    session = unlock(tmp_path / "home", ADMIN, ADMIN_PASSWORD, DeviceSecretStore(FileKeyring()))
    key = bytes(session.vault_key)
    session.close()
    return key
