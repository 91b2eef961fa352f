"""The README's officer commands work, one after another, in the order it shows them
(issue 7: 'user add' with a role used to come before the accreditation it needs).

The commands are parsed out of README.md, so the test follows the README as it changes. Each
is run with --password-stdin, given the lines the command itself declares, against a real
vault.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from cim_desktop import cli
from cim_desktop.cli import commands as cli_commands
from cim_desktop.cli import users as cli_users
from cim_desktop.cli.commands import Secrets
from cim_desktop.security.device_secret import DeviceSecretStore
from tests.test_cli import REPO, make_cim

SECTION = "## The admin command line"


def readme_officer_commands() -> list[list[str]]:
    """The first indented block of the command-line section, one argv per command."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    lines = text[text.index(SECTION) :].splitlines()[1:]
    start = next(i for i, line in enumerate(lines) if line.startswith("    "))
    block = []
    for line in lines[start:]:
        if not line.startswith("    "):
            break
        block.append(line)
    joined = "\n".join(block).replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in joined.splitlines()]


def _declared(argv: list[str]) -> Secrets:
    if argv[0] == "init":
        return cli_commands.INIT
    by_name = {
        "add": cli_users.ADD,
        "reset": cli_users.RESET,
        "passwd": cli_users.PASSWD,
        "accredit": cli_commands.LOGIN,
        "list": cli_commands.LOGIN,
        "release": cli_commands.LOGIN,
    }
    return by_name.get(argv[1], cli_commands.APPROVED)


def test_the_readme_officer_commands_succeed_in_the_order_shown(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    keyring_store: DeviceSecretStore,
    vault_dir: Path,
) -> None:
    commands = readme_officer_commands()
    assert commands[0][:2] == ["cim", "init"]
    assert all(c[0] == "cim" and c[1] in {"init", "user"} for c in commands), commands
    assert {"add", "accredit", "grant", "passwd", "mark-left"} <= {c[2] for c in commands[1:]}
    cim = make_cim(monkeypatch, capsys, keyring_store, vault_dir)
    passwords: dict[str, str] = {}
    for n, command in enumerate(commands):
        argv = [*command[1:], "--password-stdin"]
        args = cli.build_parser().parse_args([*argv, "--vault", str(vault_dir)])
        chosen = f"password number {n} chosen on the day"
        # Whose password each declared line is; any other line is a new password.
        whose = {
            cli_commands.YOU: "user",
            cli_commands.APPROVER: "approver",
            cli_users.CURRENT: "user",
        }
        lines = [
            passwords[getattr(args, whose[line])] if line in whose else chosen
            for line in _declared(argv).wanted(args)
        ]
        ran = cim(*argv, stdin="".join(f"{line}\n" for line in lines))
        assert ran.code == 0, (command, ran.err)
        if args.command == "init":
            passwords[args.admin] = chosen
        elif args.user_command in {"add", "reset"}:
            passwords[args.username] = chosen
        elif args.user_command == "passwd":
            passwords[args.user] = chosen

    alice = next(c[c.index("--admin") + 1] for c in commands if c[1] == "init")
    ran = cim("user", "list", "--user", alice, "--password-stdin", stdin=passwords[alice] + "\n")
    status = {line.split()[0]: line.split()[1] for line in ran.out.splitlines()[1:]}
    assert status == {alice: "active", "carol": "active", "bob": "left"}
