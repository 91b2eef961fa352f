"""The admin command line, ``cim``.

Exit status: 0 on success; 1 when a check fails (``audit verify``, ``doctor``, a backup that
fails its checks); 2 on bad usage or a user error, with a one-line message on stderr; 3 on an
unexpected error (a bug), reported with a log reference and nothing else. No secret is ever
printed, except the recovery code once at ``init``.
"""

from __future__ import annotations

import argparse
import errno
import multiprocessing
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from cim_desktop import __version__, crashlog
from cim_desktop.cli.commands import (
    APPROVED,
    INIT,
    LOGIN,
    RECOVER,
    RESTORE_BY_CODE,
    Context,
    cmd_audit_export,
    cmd_audit_verify,
    cmd_backup,
    cmd_doctor,
    cmd_init,
    cmd_recover,
    cmd_restore,
    cmd_vault_rekey,
)
from cim_desktop.cli.policy import add_parsers as add_policy_parsers
from cim_desktop.cli.users import add_parsers as add_user_parsers
from cim_desktop.cli.vault import add_parsers as add_vault_parsers
from cim_desktop.errors import CimError, StorageFull
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.vault.paths import default_vault_dir

EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: scripts and people read the same message.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    vault_opt = _Parser(add_help=False)
    vault_opt.add_argument(
        "--vault",
        metavar="DIR",
        type=Path,
        help="the vault folder (default: $CIM_HOME, else the platform's data folder)",
    )
    login = _Parser(add_help=False)
    login.add_argument("--user", required=True, metavar="USERNAME", help="log in as this officer")
    login.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password(s) from standard input, one a line, in the order below",
    )

    parser = _Parser(prog="cim", description="cim-desktop vault administration.")
    parser.add_argument("--version", action="version", version=f"cim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser(
        "init", parents=[vault_opt], help="create a new vault", epilog=INIT.help()
    )
    init.add_argument("--unit", required=True, metavar="NAME", help="the unit's name")
    init.add_argument(
        "--admin", required=True, metavar="USERNAME", help="the first administrator's username"
    )
    init.add_argument("--display-name", metavar="NAME")
    init.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the administrator's password from standard input",
    )
    init.set_defaults(handler=cmd_init)

    user = commands.add_parser("user", help="officer accounts")
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="COMMAND")
    add_user_parsers(user_commands, vault_opt, login)

    recover = commands.add_parser(
        "recover",
        parents=[vault_opt],
        help="open the vault with the recovery code and seat a new device secret",
        epilog=RECOVER.help(),
    )
    recover.add_argument(
        "--code-stdin", action="store_true", help="read the recovery code from standard input"
    )
    recover.set_defaults(handler=cmd_recover)

    backup = commands.add_parser(
        "backup",
        parents=[vault_opt, login],
        help="write an encrypted backup and its manifest",
        epilog=LOGIN.help(),
    )
    backup.add_argument("dest", metavar="DEST", help="the folder to write the backup into")
    backup.set_defaults(handler=cmd_backup)

    restore = commands.add_parser(
        "restore",
        parents=[vault_opt],
        help="restore a backup; the replaced vault is kept",
        epilog=f"{LOGIN.help()} {RESTORE_BY_CODE.help()}",
    )
    restore.add_argument("src", metavar="SRC", help="the .cimvault file (or its manifest)")
    who = restore.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", metavar="USERNAME", help="an administrator in the backup")
    who.add_argument(
        "--recovery-code-stdin",
        action="store_true",
        help="read the recovery code from standard input (fresh workstation)",
    )
    restore.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    restore.set_defaults(handler=cmd_restore)

    audit = commands.add_parser("audit", help="the audit trail")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")
    verify = audit_commands.add_parser(
        "verify",
        parents=[vault_opt, login],
        help="verify the hash chain (and checkpoints)",
        epilog=LOGIN.help(),
    )
    verify.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="checkpoints from outside this vault to check the trail against "
        "(a checkpoint file or a backup's manifest); the vault's own "
        "checkpoints.jsonl is always read",
    )
    verify.set_defaults(handler=cmd_audit_verify)
    export = audit_commands.add_parser(
        "export", parents=[vault_opt, login], help="export the whole trail", epilog=LOGIN.help()
    )
    export.add_argument("--format", required=True, choices=("csv", "jsonl"))
    export.add_argument(
        "--output", metavar="FILE", help="write to this new file instead of standard output"
    )
    export.set_defaults(handler=cmd_audit_export)

    doctor = commands.add_parser(
        "doctor",
        parents=[vault_opt, login],
        help="check the vault and this workstation",
        epilog=LOGIN.help(),
    )
    doctor.set_defaults(handler=cmd_doctor)

    vault_cmd = commands.add_parser(
        "vault", help="whole-vault maintenance: its keys and granting rows (administrators)"
    )
    vault_commands = vault_cmd.add_subparsers(
        dest="vault_command", required=True, metavar="COMMAND"
    )
    rekey = vault_commands.add_parser(
        "rekey",
        parents=[vault_opt, login],
        help="re-encrypt the vault under a new key (after an officer has left)",
        description="An encrypted copy is taken first.",
        epilog=APPROVED.help(),
    )
    rekey.add_argument(
        "--approver",
        metavar="USERNAME",
        help="the second administrator, who types their password (needed "
        "once the vault has two active administrators)",
    )
    rekey.set_defaults(handler=cmd_vault_rekey)
    add_vault_parsers(vault_commands, vault_opt, login)

    add_policy_parsers(commands, vault_opt, login)
    return parser


def _fail(message: str) -> None:
    print(f"cim: error: {' '.join(message.split())}", file=sys.stderr)


def _log_internal_error(vault_dir: Path, exc: BaseException) -> tuple[str, str]:
    """Write the shared crash log (types and stack only, never messages); return
    (reference, where)."""
    reference, path = crashlog.write(exc, crashlog.folder_for(vault_dir), "cim")
    return reference, str(path) if path else "no log: the log file could not be written"


def main(argv: Sequence[str] | None = None, *, keyring: DeviceSecretStore | None = None) -> int:
    """Run one command; ``keyring`` replaces the OS keyring (tests)."""
    # A frozen build's chain-walk worker processes start here and must go no further.
    multiprocessing.freeze_support()
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, bad usage (already reported)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    vault_dir = (args.vault or default_vault_dir()).expanduser()
    ctx = Context(vault_dir, keyring or DeviceSecretStore(), sys.stdin, sys.stdout, sys.stderr)
    try:
        return int(args.handler(args, ctx))
    except CimError as exc:
        _fail(exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        _fail("interrupted.")
        return EXIT_INTERRUPTED
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            _fail(StorageFull().message)
        else:
            where = f": {exc.filename}" if exc.filename else ""
            _fail(f"{exc.strerror or 'operating system error'}{where}")
        return EXIT_USAGE
    except Exception as exc:
        reference, where = _log_internal_error(vault_dir, exc)
        _fail(f"internal error, log reference {reference} ({where}). Please report it.")
        return EXIT_INTERNAL
