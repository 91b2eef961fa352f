"""The ``cim`` admin command line: exit codes, messages, and no secret on the terminal.

Most tests call ``cli.main`` in-process with an in-memory keyring; a few run the real entry
point in subprocesses with a file-backed keyring shared with the test.
"""

from __future__ import annotations

import io
import json
import os
import re
import select
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from cim_desktop import cli
from cim_desktop.errors import AccountLocked, WrongCredentials
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.vault.lifecycle import unlock
from tests.conftest import ADMIN, ADMIN_PASSWORD, UNIT
from tests.memory_keyring import MemoryKeyring

BOB_PASSWORD = "bobs own long password"
CODE = re.compile(r"\b[0-9A-Z]{6}(?:-[0-9A-Z]{6}){7}\b")
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Ran:
    code: int
    out: str
    err: str


Cim = Callable[..., Ran]


@pytest.fixture
def cim(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    keyring_store: DeviceSecretStore,
    vault_dir: Path,
) -> Cim:
    return make_cim(monkeypatch, capsys, keyring_store, vault_dir)


def make_cim(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    keyring_store: DeviceSecretStore,
    vault_dir: Path,
) -> Cim:
    """Run ``cli.main`` in-process with the test's keyring, stdin and vault."""

    def run(
        *argv: str,
        stdin: str = "",
        keyring: DeviceSecretStore | None = None,
        vault: Path | None = vault_dir,
    ) -> Ran:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        args = [*argv, "--vault", str(vault)] if vault is not None else list(argv)
        code = cli.main(args, keyring=keyring or keyring_store)
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return Ran(code, out, err)

    return run


@pytest.fixture
def code(cim: Cim) -> str:
    return init_vault(cim)


def init_vault(cim: Cim) -> str:
    """Initialise a vault with the CLI; return the recovery code it printed."""
    ran = cim(
        "init", "--unit", UNIT, "--admin", ADMIN, "--password-stdin", stdin=ADMIN_PASSWORD + "\n"
    )
    assert ran.code == 0, ran.err
    found = CODE.findall(ran.out)
    assert len(found) == 1
    return str(found[0])


def as_admin(cim: Cim, *argv: str, stdin: str = "", **kw: object) -> Ran:
    return cim(
        *argv, "--user", ADMIN, "--password-stdin", stdin=ADMIN_PASSWORD + "\n" + stdin, **kw
    )


def add_bob(cim: Cim) -> None:
    ran = as_admin(cim, "user", "add", "bob", "--role", "record_keeper", stdin=BOB_PASSWORD + "\n")
    assert ran.code == 0, ran.err


# -- init ----------------------------------------------------------------------------------
def test_init_prints_the_recovery_code_once_and_never_the_password(
    cim: Cim, vault_dir: Path
) -> None:
    ran = cim(
        "init", "--unit", UNIT, "--admin", ADMIN, "--password-stdin", stdin=ADMIN_PASSWORD + "\n"
    )
    assert ran.code == 0
    assert len(CODE.findall(ran.out)) == 1 and "shown once" in ran.out
    assert ADMIN_PASSWORD not in ran.out + ran.err
    assert {p.name for p in vault_dir.iterdir()} >= {
        "vault.db",
        "vault.keys",
        "vault.pub",
        "checkpoints.jsonl",
    }


def test_init_refuses_an_existing_vault_and_leaves_it_alone(
    cim: Cim, code: str, vault_dir: Path
) -> None:
    before = {p.name: p.read_bytes() for p in vault_dir.iterdir()}
    ran = cim(
        "init",
        "--unit",
        "Other",
        "--admin",
        "second",
        "--password-stdin",
        stdin="another long password\n",
    )
    assert ran.code == 2
    assert ran.err.startswith("cim: error: A vault already exists")
    assert {p.name: p.read_bytes() for p in vault_dir.iterdir()} == before


def test_a_password_needs_a_terminal_or_password_stdin(cim: Cim, vault_dir: Path) -> None:
    ran = cim("init", "--unit", UNIT, "--admin", ADMIN)
    assert ran.code == 2 and "--password-stdin" in ran.err
    assert not vault_dir.exists()


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["user", "add", "bob", "--user", ADMIN],
        ["audit", "export", "--format", "xml", "--user", ADMIN],
        ["restore", "backup.cimvault"],
        ["restore", "backup.cimvault", "--user", ADMIN, "--recovery-code-stdin"],
    ],
)
def test_bad_usage_exits_2_with_one_line(cim: Cim, argv: list[str]) -> None:
    ran = cim(*argv, vault=None)
    assert ran.code == 2
    assert ran.out == "" and len(ran.err.strip().splitlines()) == 1 and "error:" in ran.err


def test_an_unknown_role_is_a_user_error(cim: Cim, code: str) -> None:
    ran = as_admin(cim, "user", "add", "bob", "--role", "wizard", stdin=BOB_PASSWORD + "\n")
    assert ran.code == 2 and "unknown role 'wizard'" in ran.err


# -- login ---------------------------------------------------------------------------------
def test_wrong_password_exits_2_with_the_plain_message(cim: Cim, code: str) -> None:
    ran = cim("doctor", "--user", ADMIN, "--password-stdin", stdin="not the password at all\n")
    assert ran.code == 2
    assert ran.err.lower() == "cim: error: wrong username or password.\n"
    assert "not the password" not in ran.out + ran.err


def test_keyring_without_an_entry_points_to_recover_and_recover_fixes_it(
    cim: Cim, code: str, vault_dir: Path
) -> None:
    empty = DeviceSecretStore(MemoryKeyring())
    ran = as_admin(cim, "audit", "verify", keyring=empty)
    assert ran.code == 2 and "cim recover" in ran.err

    wrong = cim("recover", "--code-stdin", stdin="0000000000" + "\n", keyring=empty)
    assert wrong.code == 2 and "recovery code" in wrong.err.lower()

    ran = cim("recover", "--code-stdin", stdin=code + "\n", keyring=empty)
    assert ran.code == 0 and "1 officer slot(s) were re-wrapped" in ran.out
    # The store is named in words a user knows, not by the keyring backend's class.
    assert "the workstation's password store" in ran.out and "MemoryKeyring" not in ran.out
    assert code not in ran.out + ran.err
    assert as_admin(cim, "audit", "verify", keyring=empty).code == 0


# -- accounts ------------------------------------------------------------------------------
def test_user_add_by_an_administrator_and_denied_to_others(
    cim: Cim, code: str, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    ran = as_admin(
        cim,
        "user",
        "add",
        "bob",
        "--role",
        "record_keeper",
        "--role",
        "auditor",
        "--display-name",
        "Bob B",
        stdin=BOB_PASSWORD + "\n",
    )
    assert ran.code == 0 and "Auditor / professional standards, Source record keeper" in ran.out
    assert BOB_PASSWORD not in ran.out + ran.err
    unlock(vault_dir, "bob", BOB_PASSWORD, keyring_store).lock()

    # Bob still has the temporary password: every command but passwd is refused.
    ran = cim(
        "user",
        "add",
        "carol",
        "--role",
        "administrator",
        "--user",
        "bob",
        "--password-stdin",
        stdin=BOB_PASSWORD + "\nanother long password\n",
    )
    assert ran.code == 2 and "cim user passwd --user bob" in ran.err
    new = "bobs chosen long password"
    ran = cim(
        "user",
        "passwd",
        "--user",
        "bob",
        "--password-stdin",
        stdin=f"{BOB_PASSWORD}\n{new}\n{new}\n",
    )
    assert ran.code == 0, ran.err

    ran = cim(
        "user",
        "add",
        "carol",
        "--role",
        "administrator",
        "--user",
        "bob",
        "--password-stdin",
        stdin=new + "\nanother long password\n",
    )
    assert ran.code == 2 and "not permitted" in ran.err
    with pytest.raises(WrongCredentials):
        unlock(vault_dir, "carol", "another long password", keyring_store)


def test_release_a_locked_account(
    cim: Cim, code: str, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    add_bob(cim)
    assert as_admin(cim, "user", "release", "bob").code == 2  # not locked yet
    with pytest.raises(AccountLocked):
        for _ in range(5):
            with pytest.raises(WrongCredentials):
                unlock(vault_dir, "bob", "a wrong long password", keyring_store)
    ran = as_admin(cim, "user", "release", "bob", "--reason", "confirmed by phone")
    assert ran.code == 0 and "released" in ran.out
    unlock(vault_dir, "bob", BOB_PASSWORD, keyring_store).lock()


# -- audit ---------------------------------------------------------------------------------
def test_audit_verify_ok_then_names_the_first_broken_sequence(
    cim: Cim, code: str, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    ran = as_admin(cim, "audit", "verify")
    assert ran.code == 0 and ran.out.startswith("OK: ")

    # Tamper below the application: the store's connection, with the guard trigger dropped.
    session = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)
    session.db.conn.execute("DROP TRIGGER audit_no_update")
    session.db.conn.execute("UPDATE audit SET reason = 'edited' WHERE seq = 3")
    session.close()

    ran = as_admin(cim, "audit", "verify")
    assert ran.code == 1 and ran.out.startswith("BROKEN at sequence 3:")


def test_audit_verify_with_a_newer_checkpoint_detects_a_rolled_back_vault(
    cim: Cim, code: str, vault_dir: Path, tmp_path: Path
) -> None:
    old = tmp_path / "old-copy"
    shutil.copytree(vault_dir, old)
    add_bob(cim)
    assert as_admin(cim, "audit", "verify").code == 0
    newer = tmp_path / "newer-checkpoints.jsonl"
    shutil.copyfile(vault_dir / "checkpoints.jsonl", newer)
    # The whole folder goes back, its own checkpoint file with it.
    for name in ("vault.db", "vault.keys", "checkpoints.jsonl"):
        shutil.copyfile(old / name, vault_dir / name)

    alone = as_admin(cim, "audit", "verify")
    assert alone.code == 0  # the chain and its own file alone are consistent, and it says so
    assert "a roll-back cannot be ruled out" in alone.out
    ran = as_admin(cim, "audit", "verify", "--checkpoint", str(newer))
    assert ran.code == 1
    assert ran.out.startswith("BROKEN: checkpoint at sequence")
    assert "rolled back" in ran.out


def test_audit_export_csv_and_jsonl(cim: Cim, code: str, tmp_path: Path) -> None:
    ran = as_admin(cim, "audit", "export", "--format", "csv")
    assert ran.code == 0
    lines = ran.out.splitlines()
    assert lines[0].startswith("seq,ts,user_id,username,role,")
    assert lines[1].startswith("1,") and len(lines) >= 5

    target = tmp_path / "trail.jsonl"
    ran = as_admin(cim, "audit", "export", "--format", "jsonl", "--output", str(target))
    assert ran.code == 0 and ran.out == ""
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    assert rows[-1]["action"] == "export"
    assert target.stat().st_mode & 0o077 == 0
    again = as_admin(cim, "audit", "export", "--format", "jsonl", "--output", str(target))
    assert again.code == 2 and "already exists" in again.err
    assert [json.loads(line) for line in target.read_text().splitlines()] == rows


# -- doctor, backup, restore ---------------------------------------------------------------
def test_doctor_reports_every_check_and_the_last_backup(
    cim: Cim, code: str, tmp_path: Path
) -> None:
    ran = as_admin(cim, "doctor")
    assert ran.code == 0
    names = [line.split()[1] for line in ran.out.splitlines()[:-1]]
    assert names == [
        "keyring",
        "sqlcipher",
        "pragmas",
        "memory",
        "integrity",
        "audit",
        "granting",
        "checkpoints",
        "vault.keys",
        "vault.pub",
        "last",
        "re-keying",
    ]
    assert re.search(r"^WARN +last backup +never$", ran.out, re.M)
    assert "MemoryKeyring" in ran.out

    dest = tmp_path / "backups"
    dest.mkdir()
    ran = as_admin(cim, "backup", str(dest))
    assert ran.code == 0
    backup_file = next(dest.glob("*.cimvault"))
    ran = as_admin(cim, "doctor")
    assert ran.code == 0 and re.search(rf"^OK +last backup .*{backup_file.name}", ran.out, re.M)


def test_backup_then_restore_from_the_command_line(
    cim: Cim, code: str, tmp_path: Path, vault_dir: Path
) -> None:
    dest = tmp_path / "backups"
    dest.mkdir()
    assert as_admin(cim, "backup", str(dest)).code == 0
    backup_file = next(dest.glob("*.cimvault"))
    ran = as_admin(cim, "restore", str(backup_file))
    assert ran.code == 0 and "Kept the replaced file: vault.db.replaced-" in ran.out

    fresh = DeviceSecretStore(MemoryKeyring())
    other = tmp_path / "elsewhere"
    ran = cim(
        "restore",
        str(backup_file),
        "--recovery-code-stdin",
        stdin=code + "\n",
        keyring=fresh,
        vault=other,
    )
    assert ran.code == 0 and "re-wrapped" in ran.out
    assert as_admin(cim, "audit", "verify", keyring=fresh, vault=other).code == 0


# -- the real entry point ------------------------------------------------------------------
def _env(tmp_path: Path, keyring_file: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHON_KEYRING_BACKEND="tests.file_keyring.FileKeyring",
        CIM_TEST_KEYRING_FILE=str(keyring_file),
        CIM_HOME=str(tmp_path / "home"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
    )
    return env


def _sub(env: dict[str, str], *argv: str, stdin: str = "") -> Ran:
    done = subprocess.run(
        [sys.executable, "-m", "cim_desktop.cli", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def test_entry_point_in_subprocesses(tmp_path: Path) -> None:
    env = _env(tmp_path, tmp_path / "keyring.json")
    ran = _sub(
        env,
        "init",
        "--unit",
        UNIT,
        "--admin",
        ADMIN,
        "--password-stdin",
        stdin=ADMIN_PASSWORD + "\n",
    )
    assert ran.code == 0, ran.err
    assert len(CODE.findall(ran.out)) == 1 and ADMIN_PASSWORD not in ran.out + ran.err
    assert (tmp_path / "home" / "vault.db").exists()  # CIM_HOME is the default vault

    ran = _sub(
        env, "audit", "verify", "--user", ADMIN, "--password-stdin", stdin=ADMIN_PASSWORD + "\n"
    )
    assert (ran.code, ran.out[:3]) == (0, "OK:")
    ran = _sub(env, "doctor", "--user", ADMIN, "--password-stdin", stdin="wrong password!!\n")
    assert ran.code == 2 and ran.err == "cim: error: Wrong username or password.\n"
    ran = _sub(env, "doctor", "--user", ADMIN, "--password-stdin", stdin=ADMIN_PASSWORD + "\n")
    assert ran.code == 0 and "tests.file_keyring.FileKeyring" in ran.out
    ran = _sub(env, "user", "add", "bob")
    assert ran.code == 2 and ran.out == "" and len(ran.err.splitlines()) == 1

    (tmp_path / "keyring.json").write_text("{}")  # the keyring lost its entry
    ran = _sub(env, "doctor", "--user", ADMIN, "--password-stdin", stdin=ADMIN_PASSWORD + "\n")
    assert ran.code == 2 and "cim recover" in ran.err and "Traceback" not in ran.err


def test_an_unexpected_error_exits_3_with_a_log_reference_only(tmp_path: Path) -> None:
    env = _env(tmp_path, tmp_path / "keyring.json")
    assert (
        _sub(
            env,
            "init",
            "--unit",
            UNIT,
            "--admin",
            ADMIN,
            "--password-stdin",
            stdin=ADMIN_PASSWORD + "\n",
        ).code
        == 0
    )
    # A keyring backend that breaks in a way nobody planned for: a bug, not a user error.
    (tmp_path / "keyring.json").write_text("{not json")
    ran = _sub(env, "doctor", "--user", ADMIN, "--password-stdin", stdin=ADMIN_PASSWORD + "\n")
    assert ran.code == 3 and ran.out == ""
    assert len(ran.err.splitlines()) == 1 and "Traceback" not in ran.err
    reference = re.search(r"log reference (CIM-[0-9]{8}-[0-9]{6}-[0-9A-F]{6})", ran.err)
    assert reference is not None
    log = (tmp_path / "home" / "logs" / f"crash-{reference.group(1)}.log").read_text()
    assert f"reference: {reference.group(1)}" in log and "json.decoder.JSONDecodeError" in log
    assert ADMIN_PASSWORD not in log + ran.err


def test_the_crash_log_keeps_no_content_of_the_failing_operation(tmp_path: Path) -> None:
    """A bug whose message, cause and local variable hold a source's name: the log, stderr
    and the message say where it happened, never what it was about."""
    canary = "CANARY-Jane-Sealed-Example-7f3a"
    env = _env(tmp_path, tmp_path / "keyring.json")
    assert (
        _sub(
            env,
            "init",
            "--unit",
            UNIT,
            "--admin",
            ADMIN,
            "--password-stdin",
            stdin=ADMIN_PASSWORD + "\n",
        ).code
        == 0
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.crash_cli_driver",
            canary,
            "doctor",
            "--user",
            ADMIN,
            "--password-stdin",
        ],
        input=ADMIN_PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 3 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and "internal error" in done.stderr
    assert canary not in done.stderr
    logs = list((tmp_path / "home" / "logs").iterdir())
    assert not any(canary in p.read_text() for p in logs)
    reference = re.search(r"log reference (CIM-[0-9-A-F]+) \(", done.stderr)
    assert reference is not None
    assert [p.name for p in logs] == [f"crash-{reference.group(1)}.log"]
    assert logs[0].stat().st_mode & 0o777 == 0o600
    log = logs[0].read_text()
    assert canary not in log and "could not check" not in log
    assert "exception: builtins.RuntimeError" in log and " in planted_check" in log
    assert "caused by: builtins.KeyError" in log and "cim_desktop/services/vault/doctor.py:" in log


# Makes the pseudo-terminal on fd 0 the controlling terminal, as a login shell has, so that
# getpass prompts on it exactly as for a person at a keyboard.
_ON_TTY = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.executable, [sys.executable, '-m', 'cim_desktop.cli', *sys.argv[1:]])"
)


def _read_until(fd: int, marker: bytes) -> bytes:
    seen = b""
    while marker not in seen:
        ready, _, _ = select.select([fd], [], [], 60)
        assert ready, f"no prompt {marker!r}; got {seen!r}"
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        seen += chunk
    return seen


def _on_terminal(env: dict[str, str], argv: list[str], answers: list[str]) -> tuple[int, str]:
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", _ON_TTY, *argv],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    try:
        for answer in answers:
            seen += _read_until(master, b": ")
            os.write(master, answer.encode() + b"\n")
        seen += _read_until(master, b"\x00never")
        code = proc.wait(timeout=60)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, seen.decode(errors="replace")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_init_on_a_terminal_asks_twice_without_echo(tmp_path: Path) -> None:
    env = _env(tmp_path, tmp_path / "keyring.json")
    argv = ["init", "--unit", UNIT, "--admin", ADMIN]
    code, seen = _on_terminal(env, argv, [ADMIN_PASSWORD, "a different long password"])
    assert code == 2 and "do not match" in seen
    assert not (tmp_path / "home").exists()

    code, seen = _on_terminal(env, argv, [ADMIN_PASSWORD, ADMIN_PASSWORD])
    assert code == 0, seen
    assert "New password for admin: " in seen and "Repeat the password for admin: " in seen
    assert ADMIN_PASSWORD not in seen  # typed, but never echoed
    assert len(CODE.findall(seen)) == 1
