"""What each ``cim`` command does. Parsing, exit codes and error reporting live in ``cli``."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from cim_desktop.domain.audit.rows import Action, AuditEvent, Outcome
from cim_desktop.errors import InvalidInput, PermissionDenied
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.access import approval
from cim_desktop.services.audit import trail as audit
from cim_desktop.services.officers.management import ADMINS, ApprovalRequired
from cim_desktop.services.session import Session
from cim_desktop.services.vault import backup, doctor, recovery, rekey
from cim_desktop.services.vault import lifecycle as vault

EXIT_OK = 0
EXIT_CHECK_FAILED = 1


@dataclass
class Context:
    """What a command needs besides its arguments; tests give their own keyring and streams."""

    vault_dir: Path
    keyring: DeviceSecretStore
    stdin: TextIO
    stdout: TextIO
    stderr: TextIO

    def say(self, text: str = "") -> None:
        print(text, file=self.stdout)

    def note(self, text: str) -> None:
        print(text, file=self.stderr)


@dataclass(frozen=True)
class Line:
    """One password or code a command reads: a line of standard input, or a prompt."""

    label: str  # as the help text names it: "your password"
    prompt: str  # on a terminal; {fields} are the command's arguments
    only_with: str = ""  # the option that adds this line ("--approver"); else always read
    repeat: str = ""  # on a terminal, asked again with this prompt (a new password)

    def wanted(self, args: argparse.Namespace) -> bool:
        return not self.only_with or bool(getattr(args, _dest(self.only_with)))


@dataclass(frozen=True)
class Secrets:
    """The lines a command reads, declared once: its help text and its reading both come
    from here, so the order stated is the order read.

    Everything is read before the command does anything; with the stdin option, exactly the
    lines wanted must be there (a final newline ends the last one), or nothing is done.
    """

    lines: tuple[Line, ...]
    option: str = "--password-stdin"

    def help(self) -> str:
        items = "; ".join(
            f"({n}) {line.label}" + (f", only with {line.only_with}" if line.only_with else "")
            for n, line in enumerate(self.lines, 1)
        )
        return (
            f"With {self.option}, standard input gives, one a line and in this order: "
            f"{items}. Fewer or more lines are refused and nothing is done."
        )

    def wanted(self, args: argparse.Namespace) -> list[Line]:
        return [line for line in self.lines if line.wanted(args)]

    def read(self, args: argparse.Namespace, ctx: Context) -> dict[Line, str]:
        wanted = self.wanted(args)
        if getattr(args, _dest(self.option)):
            return dict(zip(wanted, _from_stdin(ctx.stdin, wanted), strict=True))
        if not ctx.stdin.isatty():
            raise InvalidInput(
                f"There is no terminal to ask for {wanted[0].label}; pass "
                f"{'it' if len(wanted) == 1 else 'them'} on standard input "
                f"with {self.option}."
            )
        return {line: _typed(line, vars(args)) for line in wanted}


def _dest(option: str) -> str:
    return option.removeprefix("--").replace("-", "_")


def _labels(lines: list[Line]) -> str:
    return ", ".join(line.label for line in lines)


def _from_stdin(stdin: TextIO, wanted: list[Line]) -> list[str]:
    values = []
    for n, line in enumerate(wanted, 1):
        text = stdin.readline()
        if not text:
            raise InvalidInput(
                f"Standard input ended after {n - 1} line(s); this command "
                f"reads {len(wanted)}: {_labels(wanted)}."
            )
        value = text.removesuffix("\n").removesuffix("\r")
        if not value:
            raise InvalidInput(f"Line {n} of standard input ({line.label}) is empty.")
        values.append(value)
    # On a terminal the end cannot be known without waiting for Ctrl-D; from a pipe or a
    # file, anything left over means the lines are not the ones this command reads.
    if not stdin.isatty() and stdin.read(1):
        raise InvalidInput(
            f"Standard input has more than the {len(wanted)} line(s) this "
            f"command reads: {_labels(wanted)}."
        )
    return values


def _typed(line: Line, fields: dict[str, object]) -> str:
    value = getpass.getpass(line.prompt.format_map(fields))
    if not value:
        raise InvalidInput(f"Nothing was typed for {line.label}. Nothing was changed.")
    if line.repeat and getpass.getpass(line.repeat.format_map(fields)) != value:
        raise InvalidInput("The two passwords do not match. Nothing was changed.")
    return value


YOU = Line("your password", "Password for {user}: ")
APPROVER = Line(
    "the approving administrator's password",
    "Password for the approving administrator {approver}: ",
    only_with="--approver",
)
LOGIN = Secrets((YOU,))
APPROVED = Secrets((YOU, APPROVER))
_ADMIN = Line(
    "the new administrator's password",
    "New password for {admin}: ",
    repeat="Repeat the password for {admin}: ",
)
INIT = Secrets((_ADMIN,))
_CODE = Line("the recovery code", "Recovery code: ")
RECOVER = Secrets((_CODE,), "--code-stdin")
RESTORE_BY_CODE = Secrets((_CODE,), "--recovery-code-stdin")


@contextlib.contextmanager
def logged_in(
    args: argparse.Namespace, ctx: Context, password: str, *, allow_temporary: bool = False
) -> Iterator[Session]:
    """Log in (unlock) as ``--user``; lock at the end, which signs a checkpoint.

    An officer who still has a temporary password may only change it (``cim user passwd``).
    """
    session = vault.unlock(ctx.vault_dir, args.user, password, ctx.keyring)
    if session.officer.must_change_password and not allow_temporary:
        try:
            session.record(
                AuditEvent(
                    Action.DENIED,
                    "session",
                    session.session_id,
                    {"attempted": "command line", "cause": "password change required"},
                    outcome=Outcome.DENIED,
                )
            )
        finally:
            session.lock()
        raise PermissionDenied(
            f"You must change your temporary password before anything else: run "
            f"'cim user passwd --user {session.officer.username}'."
        )
    try:
        yield session
    except BaseException:
        with contextlib.suppress(Exception):
            session.lock()
        raise
    session.lock()


# -- commands -----------------------------------------------------------------------------------
def cmd_init(args: argparse.Namespace, ctx: Context) -> int:
    # Before any password is asked for: without a usable keyring it would be asked in vain.
    ctx.keyring.require_usable()
    password = INIT.read(args, ctx)[_ADMIN]
    created = vault.create_vault(
        ctx.vault_dir,
        unit_name=args.unit,
        admin_username=args.admin,
        admin_password=password,
        admin_display_name=args.display_name or "",
        keyring=ctx.keyring,
    )
    created.session.lock()
    ctx.say(f"Vault created in {ctx.vault_dir} for {args.unit}; administrator '{args.admin}'.")
    ctx.say()
    ctx.say("RECOVERY CODE - shown once, never again:")
    ctx.say()
    ctx.say(f"    {created.recovery_code}")
    ctx.say()
    ctx.say(
        "Write it on the recovery sheet now and keep it in two-person custody, away from "
        "this workstation."
    )
    ctx.say(
        "Anyone holding it can open the vault on another workstation; without it, a lost "
        "keyring means a lost vault."
    )
    return EXIT_OK


def cmd_recover(args: argparse.Namespace, ctx: Context) -> int:
    code = RECOVER.read(args, ctx)[_CODE]
    count = recovery.recover(ctx.vault_dir, code, ctx.keyring)
    ctx.say(
        f"Recovered: a new device secret is stored in {ctx.keyring.plain_name()} "
        f"and {count} officer slot(s) were re-wrapped."
    )
    ctx.say("Officers log in with their usual passwords.")
    return EXIT_OK


def cmd_backup(args: argparse.Namespace, ctx: Context) -> int:
    with logged_in(args, ctx, LOGIN.read(args, ctx)[YOU]) as session:
        result = backup.create_backup(session, Path(args.dest))
    ctx.say(f"Backup written: {result.path}")
    ctx.say(f"Manifest:       {result.manifest_path}")
    ctx.say(
        f"Audit checkpoint at sequence {result.manifest['checkpoint']['seq']}, signed by "
        f"{args.user}. Kept apart from the vault, the manifest is a checkpoint from outside "
        f"it: 'cim audit verify --checkpoint {result.manifest_path}' detects a roll-back."
    )
    return EXIT_OK


def cmd_restore(args: argparse.Namespace, ctx: Context) -> int:
    if args.recovery_code_stdin:
        code = RESTORE_BY_CODE.read(args, ctx)[_CODE]
        result = backup.restore_backup(
            ctx.vault_dir, Path(args.src), recovery_code=code, keyring=ctx.keyring
        )
    else:
        password = LOGIN.read(args, ctx)[YOU]
        result = backup.restore_backup(
            ctx.vault_dir,
            Path(args.src),
            username=args.user,
            password=password,
            keyring=ctx.keyring,
        )
    ctx.say(
        f"Vault restored in {ctx.vault_dir} from {result.backup_file.name}; the audit "
        f"trail now ends at sequence {result.head_seq}."
    )
    if result.by_recovery_code:
        ctx.say(
            f"A new device secret was stored in this workstation's keyring and "
            f"{result.slots_rewrapped} officer slot(s) were re-wrapped."
        )
    for path in result.replaced:
        ctx.say(f"Kept the replaced file: {path.name}")
    return EXIT_OK


def cmd_audit_verify(args: argparse.Namespace, ctx: Context) -> int:
    presented = audit.read_checkpoints(Path(args.checkpoint)) if args.checkpoint else None
    with logged_in(args, ctx, LOGIN.read(args, ctx)[YOU]) as session:
        result = audit.verify(session, presented)
    ctx.say(result.summary())
    for line in result.details():
        ctx.say(line)
    return EXIT_OK if result.ok else EXIT_CHECK_FAILED


def cmd_audit_export(args: argparse.Namespace, ctx: Context) -> int:
    password = LOGIN.read(args, ctx)[YOU]
    output: TextIO = ctx.stdout
    handle: TextIO | None = None
    if args.output:
        target = Path(args.output)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise InvalidInput(f"{target} already exists; it was not overwritten.") from None
        handle = output = os.fdopen(fd, "w", encoding="utf-8", newline="")
    try:
        with logged_in(args, ctx, password) as session:
            for chunk in audit.export(session, args.format):
                output.write(chunk)
    except BaseException:
        if handle is not None:
            handle.close()
            Path(args.output).unlink(missing_ok=True)
        raise
    if handle is not None:
        handle.close()
        ctx.note(f"Audit trail exported to {args.output}.")
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace, ctx: Context) -> int:
    with logged_in(args, ctx, LOGIN.read(args, ctx)[YOU]) as session:
        report = doctor.run_doctor(session)
    for check in report.checks:
        ctx.say(f"{check.status.value.upper():<5} {check.name:<12} {check.detail}")
    ctx.say("All checks passed." if report.ok else f"{len(report.failed())} check(s) FAILED.")
    return EXIT_OK if report.ok else EXIT_CHECK_FAILED


def cmd_vault_rekey(args: argparse.Namespace, ctx: Context) -> int:
    given = APPROVED.read(args, ctx)
    with logged_in(args, ctx, given[YOU]) as session:
        ok = None
        if args.approver:
            ok = approval.second_officer(
                session, args.approver, given[APPROVER], ADMINS, rekey.PURPOSE_REKEY
            )
        try:
            result = rekey.rekey_vault(
                session, ok, lambda i, n, text: ctx.note(f"[{i}/{n}] {text}")
            )
        except ApprovalRequired as exc:
            raise ApprovalRequired(
                exc.message + " Name them with --approver USERNAME; they type their password."
            ) from None
    ctx.say(
        f"Vault re-keyed in {result.seconds:.1f} s: {result.slots_issued} officer slot(s) "
        f"and the recovery slot hold the new key; {result.slots_disabled} suspended "
        f"slot(s) stay disabled; {result.slots_removed} slot(s) of departed officers "
        "removed."
    )
    ctx.say(
        f"The copy taken first, under the old key: {result.copy.name} (with "
        f"{result.keys_copy.name}). Anyone who knew the old key can open it: once the "
        "re-keyed vault is confirmed, move it to secure storage or destroy it."
    )
    return EXIT_OK
