"""Every ``cim`` command reads exactly the passwords it declares, in the order its help
states, and refuses too few or too many lines before doing anything (issue 7).

Real subprocesses: the line counting is about the process's own standard input.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cim_desktop import cli
from tests.conftest import ADMIN, ADMIN_PASSWORD, UNIT
from tests.test_cli import Ran, _env, _sub

CAROL_TEMP, CAROL_PW = "first-day password C", "second admin on nights"
HANK_TEMP, HANK_PW = "first-day password H", "handling sources well"


def _files(home: Path) -> dict[str, str]:
    """A fingerprint of every file in the vault folder: 'nothing changed' means equal."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file()
    }


def _refused(ran: Ran, words: str) -> None:
    assert ran.code == 2 and ran.out == "", ran
    assert len(ran.err.splitlines()) == 1 and words in ran.err, ran.err


def _init(folder: Path) -> dict[str, str]:
    env = _env(folder, folder / "keyring.json")
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
    return env


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return _init(tmp_path)


@pytest.fixture(scope="module")
def untouched(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    """One vault for the refusals: each test shows it left every file as it was."""
    folder = tmp_path_factory.mktemp("refusals")
    return _init(folder), folder / "home"


def _as_admin(env: dict[str, str], *argv: str, stdin: str) -> Ran:
    return _sub(env, *argv, "--user", ADMIN, "--password-stdin", stdin=f"{ADMIN_PASSWORD}\n{stdin}")


def _second_admin(env: dict[str, str]) -> None:
    ran = _as_admin(env, "user", "add", "carol", "--role", "administrator", stdin=CAROL_TEMP + "\n")
    assert ran.code == 0, ran.err
    ran = _sub(
        env,
        "user",
        "passwd",
        "--user",
        "carol",
        "--password-stdin",
        stdin=f"{CAROL_TEMP}\n{CAROL_PW}\n{CAROL_PW}\n",
    )
    assert ran.code == 0, ran.err


def test_user_add_without_a_role_reads_the_approvers_password(env: dict[str, str]) -> None:
    """The reported case: the approver's line became the new officer's password."""
    _second_admin(env)
    ran = _as_admin(
        env, "user", "add", "hank", "--approver", "carol", stdin=f"{CAROL_PW}\n{HANK_TEMP}\n"
    )
    assert ran.code == 0, ran.err
    # Hank's temporary password is the third line, not Carol's.
    ran = _sub(
        env,
        "user",
        "passwd",
        "--user",
        "hank",
        "--password-stdin",
        stdin=f"{CAROL_PW}\n{HANK_PW}\n{HANK_PW}\n",
    )
    assert ran.code == 2 and "Wrong username or password" in ran.err
    ran = _sub(
        env,
        "user",
        "passwd",
        "--user",
        "hank",
        "--password-stdin",
        stdin=f"{HANK_TEMP}\n{HANK_PW}\n{HANK_PW}\n",
    )
    assert ran.code == 0, ran.err

    # The named approver's password is checked, not skipped: a wrong one adds nobody.
    ran = _as_admin(
        env,
        "user",
        "add",
        "ivy",
        "--approver",
        "carol",
        stdin="not carols password\nfirst-day password I\n",
    )
    assert ran.code == 2 and "Wrong username or password" in ran.err
    listed = _as_admin(env, "user", "list", stdin="")
    assert "hank" in listed.out and "ivy" not in listed.out


A = ADMIN_PASSWORD


@pytest.mark.parametrize(
    ("argv", "lines", "words"),
    [
        # too few
        (["doctor"], [], "ended after 0 line(s); this command reads 1: your password"),
        (
            ["user", "add", "bob", "--approver", "carol"],
            [A, CAROL_PW],
            "ended after 2 line(s); this command reads 3",
        ),
        (
            ["user", "reset", "carol", "--approver", "carol"],
            [A],
            "ended after 1 line(s); this command reads 3",
        ),
        (
            ["policy", "set", "idle_lock_minutes", "10", "--approver", "carol"],
            [A],
            "ended after 1 line(s); this command reads 2",
        ),
        # too many
        (["doctor"], [A, "extra"], "more than the 1 line(s)"),
        (["user", "add", "bob"], [A, HANK_TEMP, "extra"], "more than the 2 line(s)"),
        (["user", "grant", "carol", "--role", "auditor"], [A, CAROL_PW], "more than the 1 line(s)"),
        (["policy", "set", "idle_lock_minutes", "10"], [A, CAROL_PW], "more than the 1 line(s)"),
        (["vault", "reconcile"], [A, ""], "more than the 1 line(s)"),
        # an empty line is never a password
        (
            ["user", "add", "bob", "--approver", "carol"],
            [A, "", HANK_TEMP],
            "Line 2 of standard input (the approving administrator's password) is empty",
        ),
    ],
)
def test_too_few_or_too_many_lines_are_refused_and_nothing_changes(
    untouched: tuple[dict[str, str], Path], argv: list[str], lines: list[str], words: str
) -> None:
    env, home = untouched
    before = _files(home)
    ran = _sub(
        env,
        *argv,
        "--user",
        ADMIN,
        "--password-stdin",
        stdin="".join(f"{line}\n" for line in lines),
    )
    _refused(ran, words)
    assert _files(home) == before


def test_init_passwd_and_recover_count_their_lines_too(tmp_path: Path) -> None:
    env = _env(tmp_path, tmp_path / "keyring.json")
    ran = _sub(
        env,
        "init",
        "--unit",
        UNIT,
        "--admin",
        ADMIN,
        "--password-stdin",
        stdin=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n",
    )
    _refused(ran, "more than the 1 line(s) this command reads: the new administrator's")
    assert not (tmp_path / "home").exists()

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
    before = _files(tmp_path / "home")
    ran = _sub(
        env,
        "user",
        "passwd",
        "--user",
        ADMIN,
        "--password-stdin",
        stdin=f"{ADMIN_PASSWORD}\n{HANK_PW}\n",
    )
    _refused(
        ran,
        "ended after 2 line(s); this command reads 3: your current password, "
        "your new password, your new password again",
    )
    ran = _sub(env, "recover", "--code-stdin", stdin="AAAAAA-BBBBBB\nmore\n")
    _refused(ran, "more than the 1 line(s) this command reads: the recovery code")
    assert _files(tmp_path / "home") == before


@pytest.mark.parametrize(
    ("argv", "labels"),
    [
        (
            ["user", "add"],
            [
                "your password",
                "the approving administrator's password, only with --approver",
                "the officer's temporary password",
            ],
        ),
        (
            ["user", "passwd"],
            ["your current password", "your new password", "your new password again"],
        ),
        (["policy", "set"], ["your password", "the approving administrator's password"]),
        (["doctor"], ["your password"]),
        (["init"], ["the new administrator's password"]),
    ],
)
def test_help_lists_the_lines_in_the_order_they_are_read(
    capsys: pytest.CaptureFixture[str], argv: list[str], labels: list[str]
) -> None:
    assert cli.main([*argv, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    numbered = [f"({n}) {label}" for n, label in enumerate(labels, 1)]
    positions = [text.find(item) for item in numbered]
    assert -1 not in positions and positions == sorted(positions), text
    assert f"({len(labels) + 1})" not in text and "Fewer or more lines are refused" in text
