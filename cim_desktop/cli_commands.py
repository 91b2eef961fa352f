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

from cim_desktop.domain.audit import Action, AuditEvent, Outcome
from cim_desktop.errors import InvalidInput, PermissionDenied
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services import approval, audit, backup, doctor, recovery, rekey, vault
from cim_desktop.services.officers import ADMINS, ApprovalRequired
from cim_desktop.services.session import Session

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


class Secrets:
    """Passwords and codes: one line each from stdin, or a no-echo prompt on a terminal."""

    def __init__(self, ctx: Context, from_stdin: bool, option: str = "--password-stdin") -> None:
        self._ctx = ctx
        self._from_stdin = from_stdin
        self._option = option

    def read(self, prompt: str, what: str = "password") -> str:
        if self._from_stdin:
            line = self._ctx.stdin.readline()
            if not line:
                raise InvalidInput(f"Standard input ended before the {what} was given.")
            return line.removesuffix("\n").removesuffix("\r")
        if not self._ctx.stdin.isatty():
            raise InvalidInput(f"There is no terminal to ask for the {what}; pass it on standard "
                               f"input with {self._option}.")
        return getpass.getpass(prompt)

    def new_password(self, whose: str) -> str:
        first = self.read(f"New password for {whose}: ")
        if self._from_stdin:
            return first
        if self.read(f"Repeat the password for {whose}: ") != first:
            raise InvalidInput("The two passwords do not match. Nothing was changed.")
        return first


@contextlib.contextmanager
def logged_in(args: argparse.Namespace, ctx: Context, secrets: Secrets, *,
              password: str | None = None, allow_temporary: bool = False) -> Iterator[Session]:
    """Log in (unlock) as ``--user``; lock at the end, which signs a checkpoint.

    An officer who still has a temporary password may only change it (``cim user passwd``).
    """
    if password is None:
        password = secrets.read(f"Password for {args.user}: ")
    session = vault.unlock(ctx.vault_dir, args.user, password, ctx.keyring)
    if session.officer.must_change_password and not allow_temporary:
        try:
            session.record(AuditEvent(Action.DENIED, "session", session.session_id,
                                      {"attempted": "command line",
                                       "cause": "password change required"},
                                      outcome=Outcome.DENIED))
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
    secrets = Secrets(ctx, args.password_stdin)
    password = secrets.new_password(args.admin)
    created = vault.create_vault(
        ctx.vault_dir, unit_name=args.unit, admin_username=args.admin,
        admin_password=password, admin_display_name=args.display_name or "",
        keyring=ctx.keyring,
    )
    created.session.lock()
    ctx.say(f"Vault created in {ctx.vault_dir} for {args.unit}; administrator '{args.admin}'.")
    ctx.say()
    ctx.say("RECOVERY CODE - shown once, never again:")
    ctx.say()
    ctx.say(f"    {created.recovery_code}")
    ctx.say()
    ctx.say("Write it on the recovery sheet now and keep it in two-person custody, away from "
            "this workstation.")
    ctx.say("Anyone holding it can open the vault on another workstation; without it, a lost "
            "keyring means a lost vault.")
    return EXIT_OK


def cmd_recover(args: argparse.Namespace, ctx: Context) -> int:
    code = Secrets(ctx, args.code_stdin, "--code-stdin").read("Recovery code: ", "recovery code")
    count = recovery.recover(ctx.vault_dir, code, ctx.keyring)
    ctx.say(f"Recovered: a new device secret is stored in this workstation's keyring "
            f"({ctx.keyring.backend_name()}) and {count} officer slot(s) were re-wrapped.")
    ctx.say("Officers log in with their usual passwords.")
    return EXIT_OK


def cmd_backup(args: argparse.Namespace, ctx: Context) -> int:
    with logged_in(args, ctx, Secrets(ctx, args.password_stdin)) as session:
        result = backup.create_backup(session, Path(args.dest))
    ctx.say(f"Backup written: {result.path}")
    ctx.say(f"Manifest:       {result.manifest_path}")
    ctx.say(f"Audit checkpoint at sequence {result.manifest['checkpoint']['seq']}, signed by "
            f"{args.user}. Kept apart from the vault, the manifest is a checkpoint from outside "
            f"it: 'cim audit verify --checkpoint {result.manifest_path}' detects a roll-back.")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace, ctx: Context) -> int:
    if args.recovery_code_stdin:
        code = Secrets(ctx, True, "--recovery-code-stdin").read("", "recovery code")
        result = backup.restore_backup(ctx.vault_dir, Path(args.src), recovery_code=code,
                                       keyring=ctx.keyring)
    else:
        password = Secrets(ctx, args.password_stdin).read(f"Password for {args.user}: ")
        result = backup.restore_backup(ctx.vault_dir, Path(args.src), username=args.user,
                                       password=password, keyring=ctx.keyring)
    ctx.say(f"Vault restored in {ctx.vault_dir} from {result.backup_file.name}; the audit "
            f"trail now ends at sequence {result.head_seq}.")
    if result.by_recovery_code:
        ctx.say(f"A new device secret was stored in this workstation's keyring and "
                f"{result.slots_rewrapped} officer slot(s) were re-wrapped.")
    for path in result.replaced:
        ctx.say(f"Kept the replaced file: {path.name}")
    return EXIT_OK


def cmd_audit_verify(args: argparse.Namespace, ctx: Context) -> int:
    presented = audit.read_checkpoints(Path(args.checkpoint)) if args.checkpoint else None
    with logged_in(args, ctx, Secrets(ctx, args.password_stdin)) as session:
        result = audit.verify(session, presented)
    ctx.say(result.summary())
    for line in result.details():
        ctx.say(line)
    return EXIT_OK if result.ok else EXIT_CHECK_FAILED


def cmd_audit_export(args: argparse.Namespace, ctx: Context) -> int:
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
        with logged_in(args, ctx, Secrets(ctx, args.password_stdin)) as session:
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
    with logged_in(args, ctx, Secrets(ctx, args.password_stdin)) as session:
        report = doctor.run_doctor(session)
    for check in report.checks:
        ctx.say(f"{check.status.value.upper():<5} {check.name:<12} {check.detail}")
    ctx.say("All checks passed." if report.ok else
            f"{len(report.failed())} check(s) FAILED.")
    return EXIT_OK if report.ok else EXIT_CHECK_FAILED


def cmd_vault_rekey(args: argparse.Namespace, ctx: Context) -> int:
    secrets = Secrets(ctx, args.password_stdin)
    with logged_in(args, ctx, secrets) as session:
        ok = None
        if args.approver:
            password = secrets.read(f"Password for the approving officer {args.approver}: ")
            ok = approval.second_officer(session, args.approver, password, ADMINS,
                                         rekey.PURPOSE_REKEY)
        try:
            result = rekey.rekey_vault(
                session, ok, lambda i, n, text: ctx.note(f"[{i}/{n}] {text}"))
        except ApprovalRequired as exc:
            raise ApprovalRequired(exc.message + " Name them with --approver USERNAME; they "
                                   "type their password.") from None
    ctx.say(f"Vault re-keyed in {result.seconds:.1f} s: {result.slots_issued} officer slot(s) "
            f"and the recovery slot hold the new key; {result.slots_disabled} suspended "
            f"slot(s) stay disabled; {result.slots_removed} slot(s) of departed officers "
            "removed.")
    ctx.say(f"The copy taken first, under the old key: {result.copy.name} (with "
            f"{result.keys_copy.name}). Anyone who knew the old key can open it: once the "
            "re-keyed vault is confirmed, move it to secure storage or destroy it.")
    return EXIT_OK
