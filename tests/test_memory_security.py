"""SQLCipher's memory security as a site policy: off by default, changed by an administrator
with a second one's approval, mirrored into vault.keys, applied at the next start, read back.

The engine's switch is one per process and cannot be turned off again once on, so everything
that has it on runs in a subprocess: this test process keeps it off throughout.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import PermissionDenied, VaultCorrupt
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.security.slotfile import SlotFile
from cim_desktop.services.access import approval
from cim_desktop.services.policy import settings as policy
from cim_desktop.services.session import Session
from cim_desktop.services.vault import doctor, memory_security
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from cim_desktop.store.connection import memory_security_in_force
from tests.conftest import ADMIN, ADMIN_PASSWORD, UNIT
from tests.officer_helpers import add_officer

REPO = Path(__file__).resolve().parent.parent
KEY = "cipher_memory_security"
CAROL, CAROL_PASSWORD = "carol", "second admin on nights"
AUDREY, AUDREY_PASSWORD = "audrey", "an auditor password"


def _check(session: Session) -> doctor.DoctorCheck:
    report = doctor.run_doctor(session)
    return next(c for c in report.checks if c.name == "memory security")


def _login_details(session: Session) -> list[dict[str, object]]:
    rows = sorted(session.db.audit.page(limit=500), key=lambda r: r.seq)
    return [json.loads(r.detail) for r in rows if r.action == "login"]


def test_off_by_default_and_doctor_says_so(new_vault: NewVault, vault_dir: Path) -> None:
    session = new_vault.session
    assert session.db.pragmas()[KEY] == "0" and not memory_security_in_force()
    assert policy.current(session).flag(KEY) is False
    assert SlotFile.load(vault_dir / "vault.keys").memory_security is False
    check = _check(session)
    assert check.status is doctor.Status.OK
    assert check.detail == "SQLCipher memory security off, as the site policy says"


def test_turning_it_on_is_an_approved_audited_change_that_waits_for_the_next_start(
    new_vault: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    session = new_vault.session
    add_officer(session, AUDREY, AUDREY_PASSWORD, [Role.AUDITOR])
    add_officer(session, CAROL, CAROL_PASSWORD, [Role.ADMINISTRATOR])
    auditor = unlock(vault_dir, AUDREY, AUDREY_PASSWORD, keyring_store)
    try:
        with pytest.raises(PermissionDenied):
            policy.change(auditor, KEY, True, None)
    finally:
        auditor.close()
    with pytest.raises(PermissionDenied, match="second administrator"):
        policy.change(session, KEY, True, None)
    assert SlotFile.load(vault_dir / "vault.keys").memory_security is False

    ok = approval.second_officer(
        session, CAROL, CAROL_PASSWORD, frozenset({Role.ADMINISTRATOR}), policy.PURPOSE
    )
    policy.change(session, KEY, True, ok)
    (row,) = [
        json.loads(r.detail) | {"entity": r.entity_id}
        for r in session.db.audit.page(limit=500)
        if r.action == "update" and r.entity_type == "policy"
    ]
    assert (row["entity"], row["old"], row["new"]) == (KEY, False, True)
    assert row["approved_by_username"] == CAROL
    assert SlotFile.load(vault_dir / "vault.keys").memory_security is True

    # This process started with it off; it stays off until the next start, and says so.
    check = _check(session)
    assert check.status is doctor.Status.WARN
    assert "off, but the site policy says on" in check.detail and "next starts" in check.detail
    session.lock()
    again = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)
    try:
        assert again.db.pragmas()[KEY] == "0"
        assert _login_details(again)[-1] == {"memory_security": "off", "policy": "on"}
    finally:
        again.close()


def test_a_copy_in_vault_keys_that_drifted_is_reported_and_put_right(
    new_vault: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    session = new_vault.session
    policy.change(session, KEY, True, None)  # the only administrator: a bootstrap change
    keys = vault_dir / "vault.keys"
    slots = SlotFile.load(keys)
    # Someone with the workstation's keyring turns it off (without it, the MAC refuses the
    # edit: test_slotfile_tamper).
    slots.verify(keyring_store.get(session.vault_id))
    slots.memory_security = False
    slots.save(keys)
    check = _check(session)
    assert check.status is doctor.Status.WARN and "vault.keys" in check.detail
    session.lock()
    unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store).close()
    assert SlotFile.load(keys).memory_security is True


@pytest.mark.parametrize("value", ["yes", 1, None, [True]])
def test_a_mirror_that_is_not_true_or_false_is_damage(
    new_vault: NewVault, vault_dir: Path, value: object
) -> None:
    keys = vault_dir / "vault.keys"
    data = json.loads(keys.read_text())
    data["memory_security"] = value
    with pytest.raises(VaultCorrupt, match="damaged"):
        SlotFile.parse(json.dumps(data).encode())


def test_state_descriptions() -> None:
    state = memory_security.MemorySecurity(in_force=True, policy=True, mirrored=True)
    assert state.login_detail() == {}
    assert state.describe() == "SQLCipher memory security on, as the site policy says"


# -- in a process of its own ----------------------------------------------------------------
def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHON_KEYRING_BACKEND="tests.file_keyring.FileKeyring",
        CIM_TEST_KEYRING_FILE=str(tmp_path / "keyring.json"),
        CIM_HOME=str(tmp_path / "home"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
    )
    return env


def _cim(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cim_desktop.cli", *argv],
        input=ADMIN_PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _doctor_line(env: dict[str, str]) -> tuple[int, str]:
    done = _cim(env, "doctor", "--user", ADMIN, "--password-stdin")
    found = re.search(r"^(\w+) +memory security +(.*)$", done.stdout, re.M)
    assert found is not None, done.stdout + done.stderr
    return done.returncode, f"{found.group(1)} {found.group(2)}"


def test_the_policy_applies_at_the_next_start_of_cim(tmp_path: Path) -> None:
    env = _env(tmp_path)
    login = ("--user", ADMIN, "--password-stdin")
    assert _cim(env, "init", "--unit", UNIT, "--admin", ADMIN, "--password-stdin").returncode == 0
    assert _doctor_line(env) == (0, "OK SQLCipher memory security off, as the site policy says")
    assert _cim(env, "policy", "set", KEY, "yes", *login).returncode == 0
    assert _doctor_line(env) == (0, "OK SQLCipher memory security on, as the site policy says")

    # vault.keys edited without the keyring to turn it off: its MAC refuses the edit and
    # nobody logs in on it; the genuine file put back, the start runs with it on again.
    keys = tmp_path / "home" / "vault.keys"
    genuine = keys.read_bytes()
    data = json.loads(genuine)
    data["memory_security"] = False
    keys.write_text(json.dumps(data))
    done = _cim(env, "doctor", *login)
    assert done.returncode == 1 and "changed outside cim-desktop" in done.stderr
    keys.write_bytes(genuine)
    assert _doctor_line(env) == (0, "OK SQLCipher memory security on, as the site policy says")

    assert _cim(env, "policy", "set", KEY, "no", *login).returncode == 0
    assert _doctor_line(env) == (0, "OK SQLCipher memory security off, as the site policy says")


_READ_BACK = """
import os, sys
from pathlib import Path
import sqlcipher3
from cim_desktop.errors import CimError
from cim_desktop.store import connection
path, key = Path(sys.argv[1]), bytes.fromhex(sys.argv[2])
if sys.argv[3] == "asked-on":
    connection.choose_memory_security(True)
    conn = connection.connect(path, key)
    print(conn.execute("PRAGMA cipher_memory_security").fetchone()[0])
else:
    # Something other than connect() turned the engine's switch on behind its back.
    raw = sqlcipher3.connect(":memory:")
    raw.execute("PRAGMA cipher_memory_security = ON")
    try:
        connection.connect(path, key)
    except CimError as exc:
        print(type(exc).__name__, exc.message)
"""


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("asked-on", "1"),
        (
            "engine-differs",
            "UnsafeEnvironment The encrypted database engine is not configured "
            "safely (cipher_memory_security='1'); cim-desktop will not run.",
        ),
    ],
)
def test_connect_reads_back_what_it_asked_for(
    new_vault: NewVault, vault_dir: Path, tmp_path: Path, mode: str, expected: str
) -> None:
    key = new_vault.session.vault_key
    new_vault.session.close()
    done = subprocess.run(
        [sys.executable, "-c", _READ_BACK, str(vault_dir / "vault.db"), key.hex(), mode],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected
