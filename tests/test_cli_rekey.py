"""``cim vault rekey`` through the real entry point: exit codes, messages, approval."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ADMIN, ADMIN_PASSWORD, UNIT

REPO = Path(__file__).resolve().parent.parent
CAROL_PW = "second admin secret 4"
RITA_PW = "records person secret 5"


def _cim(tmp_path: Path, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    env = dict(
        os.environ,
        PYTHON_KEYRING_BACKEND="tests.file_keyring.FileKeyring",
        CIM_TEST_KEYRING_FILE=str(tmp_path / "keyring.json"),
        CIM_HOME=str(tmp_path / "home"),
        PYTHONPATH=str(REPO),
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


def test_cim_vault_rekey(tmp_path: Path) -> None:
    assert (
        _cim(
            tmp_path,
            "init",
            "--unit",
            UNIT,
            "--admin",
            ADMIN,
            "--password-stdin",
            stdin=ADMIN_PASSWORD + "\n",
        )[0]
        == 0
    )
    admin = ("--user", ADMIN, "--password-stdin")

    code, out, err = _cim(tmp_path, "vault", "rekey", *admin, stdin=ADMIN_PASSWORD + "\n")
    assert code == 0, err
    assert "re-keyed" in out and "1 officer slot(s)" in out and "pre-rekey-" in out
    assert "[2/5] Re-encrypting the database" in err

    for name, pw, role in (
        ("carol", CAROL_PW, "administrator"),
        ("rita", RITA_PW, "record_keeper"),
    ):
        extra = ("--approver", "carol") if name == "rita" else ()
        stdin = ADMIN_PASSWORD + "\n" + (CAROL_PW + "!\n" if extra else "") + pw + "\n"
        ran = _cim(tmp_path, "user", "add", name, "--role", role, *admin, *extra, stdin=stdin)
        assert ran[0] == 0, ran[2]
        # Their first-login change of the temporary password.
        ran = _cim(
            tmp_path,
            "user",
            "passwd",
            "--user",
            name,
            "--password-stdin",
            stdin=f"{pw}\n{pw}!\n{pw}!\n",
        )
        assert ran[0] == 0, ran[2]

    code, out, err = _cim(tmp_path, "vault", "rekey", *admin, stdin=ADMIN_PASSWORD + "\n")
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and "--approver" in err
    code, out, err = _cim(
        tmp_path, "vault", "rekey", "--user", "rita", "--password-stdin", stdin=RITA_PW + "!\n"
    )
    assert code == 2 and "needs the role: Administrator" in err
    code, out, err = _cim(
        tmp_path,
        "vault",
        "rekey",
        *admin,
        "--approver",
        "carol",
        stdin=f"{ADMIN_PASSWORD}\nnot carols password\n",
    )
    assert code == 2 and "Wrong username or password" in err
    assert len(list((tmp_path / "home").glob("vault.db.pre-rekey-*"))) == 1

    code, out, err = _cim(
        tmp_path,
        "vault",
        "rekey",
        *admin,
        "--approver",
        "carol",
        stdin=f"{ADMIN_PASSWORD}\n{CAROL_PW}!\n",
    )
    assert code == 0 and "3 officer slot(s)" in out, err
    assert ADMIN_PASSWORD not in out + err and CAROL_PW not in out + err
    code, out, _ = _cim(
        tmp_path, "doctor", "--user", "rita", "--password-stdin", stdin=RITA_PW + "!\n"
    )
    assert code == 2  # rita may not run doctor; she can still log in after two re-keyings
    code, out, _ = _cim(tmp_path, "doctor", *admin, stdin=ADMIN_PASSWORD + "\n")
    assert code == 0 and "re-keying" in out and "last re-keyed" in out
