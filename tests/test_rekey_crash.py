"""A re-keying killed (SIGKILL) at every stage loses nothing, and the next unlock or recovery
finishes or undoes it. The process that re-keys is real and so is the kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import WrongCredentials
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.vault import rekey
from cim_desktop.services.vault.lifecycle import create_vault, unlock
from cim_desktop.services.vault.recovery import recover
from tests.conftest import ADMIN, ADMIN_PASSWORD, UNIT
from tests.file_keyring import ENV, FileKeyring
from tests.memory_keyring import MemoryKeyring
from tests.officer_helpers import add_officer
from tests.slot_attacker import opens_directly

REPO = Path(__file__).resolve().parent.parent
STAYER_PW = "still here and well 2"
FILLER_ROWS = 12_000  # about 12 MB, so that a kill can land inside SQLCipher's rekey

# The child unlocks as the administrator and re-keys; it kills itself with SIGKILL when the
# re-keying reports step ``kill_at``, or (kill_at = -1) from a timer soon after the
# re-encryption has started.
_CHILD = """
import os, signal, sys, threading
from pathlib import Path
from cim_desktop.services.vault import rekey
from cim_desktop.services.vault.lifecycle import unlock
root, kill_at = Path(sys.argv[1]), int(sys.argv[2])
session = unlock(root, sys.argv[3], sys.stdin.readline().rstrip("\\n"))
def die():
    os.kill(os.getpid(), signal.SIGKILL)
def progress(step, total, text):
    print(step, flush=True)
    if step == kill_at:
        die()
    if kill_at == -1 and step == 2:
        threading.Timer(0.02, die).start()
rekey.rekey_vault(session, None, progress)
print("finished", flush=True)
"""


@pytest.fixture
def file_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DeviceSecretStore:
    monkeypatch.setenv(ENV, str(tmp_path / "keyring.json"))
    return DeviceSecretStore(FileKeyring())


def _make_vault(root: Path, keyring: DeviceSecretStore) -> tuple[bytes, str]:
    created = create_vault(
        root, unit_name=UNIT, admin_username=ADMIN, admin_password=ADMIN_PASSWORD, keyring=keyring
    )
    s = created.session
    add_officer(s, "stayer", STAYER_PW, {Role.RECORD_KEEPER})
    with s.db.transaction():  # bulk, so that the rekey takes a measurable time
        s.db.conn.execute("CREATE TABLE filler (b BLOB)")
        s.db.conn.executemany("INSERT INTO filler VALUES (randomblob(1000))", [()] * FILLER_ROWS)
    key = s.vault_key
    s.lock()
    return key, created.recovery_code


def _run_child(root: Path, kill_at: int, tmp_path: Path) -> list[str]:
    env = dict(
        os.environ, PYTHON_KEYRING_BACKEND="tests.file_keyring.FileKeyring", PYTHONPATH=str(REPO)
    )
    env[ENV] = str(tmp_path / "keyring.json")
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(root), str(kill_at), ADMIN],
        input=ADMIN_PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    return done.stdout.split()


@pytest.mark.parametrize(
    ("kill_at", "by_recovery"),
    [
        (1, False),  # copy taken, nothing else
        (2, False),  # new slots written, database not yet re-encrypted
        (-1, False),  # somewhere inside or just after SQLCipher's rekey
        (3, False),  # database re-encrypted, new slots not yet in place
        (3, True),  # the same, finished by recovery on a new workstation
        (4, False),  # audited, new slots not yet in place
    ],
)
def test_a_re_keying_killed_at_any_stage_loses_nothing(
    kill_at: int, by_recovery: bool, tmp_path: Path, file_keyring: DeviceSecretStore
) -> None:
    root = tmp_path / "vault"
    old_key, code = _make_vault(root, file_keyring)
    steps = _run_child(root, kill_at, tmp_path)
    assert "finished" not in steps

    (copy,) = root.glob("vault.db.pre-rekey-*")
    assert opens_directly(copy, old_key)  # the copy taken first is there, under the old key
    assert len(list(root.glob("vault.keys.pre-rekey-*"))) == 1
    committed = not opens_directly(root / "vault.db", old_key)
    if kill_at in (1, 2):
        assert not committed
    if kill_at in (3, 4):
        assert committed

    # A failed login between the crash and the repair is counted in vault.keys meanwhile.
    with pytest.raises(WrongCredentials):
        unlock(root, "stayer", "not the right password", file_keyring)
    keyring = file_keyring
    if by_recovery:
        keyring = DeviceSecretStore(MemoryKeyring())
        assert recover(root, code, keyring) == 2
    admin = unlock(root, ADMIN, ADMIN_PASSWORD, keyring)
    assert not (root / "vault.keys.rekey").exists()
    assert admin.db.audit.verify().ok
    assert admin.db.conn.execute("SELECT count(*) FROM filler").fetchone()[0] == FILLER_ROWS
    rekey_rows = admin.db.conn.execute(
        "SELECT count(*) FROM audit WHERE action = 'rekey'"
    ).fetchone()[0]
    assert (rekey_rows > 0) == committed
    failed = admin.db.conn.execute(
        "SELECT count(*) FROM audit WHERE action = 'failed-login'"
    ).fetchone()[0]
    assert failed == 1  # and it still reached the chain
    assert (admin.vault_key != old_key) == committed
    admin.close()
    unlock(root, "stayer", STAYER_PW, keyring).close()
    # And a later re-keying runs normally.
    admin = unlock(root, ADMIN, ADMIN_PASSWORD, keyring)
    rekey.rekey_vault(admin, None)
    admin.close()
    unlock(root, "stayer", STAYER_PW, keyring).close()
