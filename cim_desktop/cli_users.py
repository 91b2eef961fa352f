"""The ``cim user`` commands: officer accounts, roles, status, accreditation, passwords.

The rules (who may do what, two-person approval, accreditation, password rules) are the
services', the same as the GUI's. Passwords are read in a fixed order, one a line with
--password-stdin: yours first, then the approving administrator's (with --approver), then any
new password.
"""

from __future__ import annotations

import argparse
from datetime import date

from cim_desktop.cli_commands import EXIT_OK, Context, Secrets, logged_in
from cim_desktop.domain.officer_rules import NewAccreditation, Particulars
from cim_desktop.domain.officers import OfficerStatus
from cim_desktop.domain.roles import Role, parse_role
from cim_desktop.errors import InvalidInput
from cim_desktop.services import accounts, approval, officers
from cim_desktop.services.approval import Approval
from cim_desktop.services.officers import ADMINS, ApprovalRequired
from cim_desktop.services.session import Session


def add_parsers[P: argparse.ArgumentParser](
    users: argparse._SubParsersAction[P], vault_opt: P, login: P
) -> None:
    approver = type(login)(add_help=False)
    approver.add_argument("--approver", metavar="USERNAME",
                          help="the second administrator, who types their password (needed "
                               "once the vault has two active administrators)")
    common = [vault_opt, login]

    add = users.add_parser(
        "add", parents=[*common, approver], help="add an officer",
        description="With --password-stdin: your password, the approver's (with "
                    "--approver), then the new officer's temporary password, one a line. "
                    "The officer must change it at first login.")
    add.add_argument("username", metavar="USERNAME")
    add.add_argument("--role", action="append", default=[], metavar="ROLE",
                     help="a role to grant (repeat for more)")
    add.add_argument("--display-name", metavar="NAME")
    add.add_argument("--collar", metavar="NUMBER", default="", help="collar or staff number")
    add.add_argument("--rank", metavar="RANK", default="")
    add.add_argument("--gender", metavar="GENDER", default="",
                     help="female, male or other (optional)")
    add.set_defaults(handler=cmd_user_add)

    passwd = users.add_parser(
        "passwd", parents=common, help="change your own password",
        description="With --password-stdin: your current password, then the new one twice.")
    passwd.set_defaults(handler=cmd_user_passwd)

    reset = users.add_parser(
        "reset", parents=[*common, approver], help="give an officer a temporary password",
        description="With --password-stdin: your password, the approver's (with "
                    "--approver), then the temporary password.")
    reset.add_argument("username", metavar="USERNAME")
    reset.set_defaults(handler=cmd_user_reset)

    for name, verb, handler in (("grant", "grant", cmd_user_grant),
                                ("revoke", "revoke", cmd_user_revoke)):
        cmd = users.add_parser(name, parents=[*common, approver], help=f"{verb} a role")
        cmd.add_argument("username", metavar="USERNAME")
        cmd.add_argument("--role", action="append", required=True, metavar="ROLE",
                         help=f"a role to {verb} (repeat for more)")
        cmd.set_defaults(handler=handler)

    for name, status, text in (("suspend", OfficerStatus.SUSPENDED, "suspend an officer"),
                               ("reinstate", OfficerStatus.ACTIVE,
                                "reinstate a suspended officer"),
                               ("mark-left", OfficerStatus.LEFT,
                                "record that an officer has left (ends their roles)")):
        cmd = users.add_parser(name, parents=[*common, approver], help=text)
        cmd.add_argument("username", metavar="USERNAME")
        cmd.add_argument("--reason", metavar="TEXT", default="")
        cmd.set_defaults(handler=cmd_user_status, status=status)

    accredit = users.add_parser("accredit", parents=common,
                                help="record an officer's accreditation course")
    accredit.add_argument("username", metavar="USERNAME")
    accredit.add_argument("--course", required=True, metavar="NAME")
    accredit.add_argument("--date", required=True, metavar="YYYY-MM-DD",
                          help="the date the course was completed")
    accredit.add_argument("--hours", required=True, metavar="HOURS")
    accredit.add_argument("--expires", metavar="YYYY-MM-DD")
    accredit.set_defaults(handler=cmd_user_accredit)

    listing = users.add_parser("list", parents=common, help="list the officers")
    listing.set_defaults(handler=cmd_user_list)

    release = users.add_parser("release", parents=common, help="release a locked account")
    release.add_argument("username", metavar="USERNAME")
    release.add_argument("--reason", metavar="TEXT")
    release.set_defaults(handler=cmd_user_release)


# -- helpers -----------------------------------------------------------------------------
def _roles(texts: list[str]) -> set[Role]:
    try:
        return {parse_role(t) for t in texts}
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{option}: give a date as YYYY-MM-DD.") from None


def _approval(args: argparse.Namespace, secrets: Secrets, session: Session,
              purpose: str) -> Approval | None:
    if not args.approver:
        return None
    password = secrets.read(f"Password for the approving officer {args.approver}: ")
    return approval.second_officer(session, args.approver, password, ADMINS, purpose)


def _hint(exc: ApprovalRequired) -> ApprovalRequired:
    return ApprovalRequired(f"{exc.message} Name another active administrator with "
                            "--approver USERNAME; they type their password.")


def _new_password(secrets: Secrets, whose: str, from_stdin: bool) -> str:
    first = secrets.read(f"New password for {whose}: ")
    if not from_stdin and secrets.read(f"Repeat the password for {whose}: ") != first:
        raise InvalidInput("The two passwords do not match. Nothing was changed.")
    return first


# -- commands ----------------------------------------------------------------------------
def cmd_user_add(args: argparse.Namespace, ctx: Context) -> int:
    roles = _roles(args.role)
    secrets = Secrets(ctx, args.password_stdin)
    with logged_in(args, ctx, secrets) as session:
        ok = _approval(args, secrets, session, officers.PURPOSE_ADD) if roles else None
        password = _new_password(secrets, args.username, args.password_stdin)
        particulars = Particulars(args.display_name or args.username, args.collar, args.rank,
                                  args.gender)
        try:
            officer = accounts.add_officer(session, args.username, password, roles,
                                           particulars=particulars, approval=ok)
        except ApprovalRequired as exc:
            raise _hint(exc) from None
    labels = ", ".join(sorted(r.label for r in officer.roles)) or "none yet"
    ctx.say(f"Officer '{officer.username}' added with the role(s): {labels}. They must "
            "change the temporary password at first login.")
    return EXIT_OK


def cmd_user_passwd(args: argparse.Namespace, ctx: Context) -> int:
    secrets = Secrets(ctx, args.password_stdin)
    current = secrets.read(f"Current password for {args.user}: ")
    with logged_in(args, ctx, secrets, password=current, allow_temporary=True) as session:
        new = secrets.read(f"New password for {args.user}: ")
        if secrets.read(f"Repeat the new password for {args.user}: ") != new:
            raise InvalidInput("The two new passwords do not match. Nothing was changed.")
        accounts.change_password(session, current, new)
    ctx.say(f"The password for '{args.user}' was changed.")
    return EXIT_OK


def cmd_user_reset(args: argparse.Namespace, ctx: Context) -> int:
    secrets = Secrets(ctx, args.password_stdin)
    with logged_in(args, ctx, secrets) as session:
        target = officers.find(session, args.username)
        ok = _approval(args, secrets, session, officers.PURPOSE_RESET)
        temporary = _new_password(secrets, target.username, args.password_stdin)
        try:
            accounts.reset_password(session, target.id, temporary, ok)
        except ApprovalRequired as exc:
            raise _hint(exc) from None
    ctx.say(f"'{target.username}' has a temporary password and must change it at the next "
            "login.")
    return EXIT_OK


def _change_roles(args: argparse.Namespace, ctx: Context, grant: bool) -> int:
    roles = _roles(args.role)
    secrets = Secrets(ctx, args.password_stdin)
    with logged_in(args, ctx, secrets) as session:
        target = officers.find(session, args.username)
        ok = _approval(args, secrets, session, officers.PURPOSE_ROLES)
        try:
            updated = officers.change_roles(session, target.id, roles if grant else set(),
                                            set() if grant else roles, ok)
        except ApprovalRequired as exc:
            raise _hint(exc) from None
    labels = ", ".join(r.label for r in Role if r in updated.roles) or "none"
    ctx.say(f"'{updated.username}' now holds: {labels}.")
    return EXIT_OK


def cmd_user_grant(args: argparse.Namespace, ctx: Context) -> int:
    return _change_roles(args, ctx, grant=True)


def cmd_user_revoke(args: argparse.Namespace, ctx: Context) -> int:
    return _change_roles(args, ctx, grant=False)


def cmd_user_status(args: argparse.Namespace, ctx: Context) -> int:
    status: OfficerStatus = args.status
    secrets = Secrets(ctx, args.password_stdin)
    with logged_in(args, ctx, secrets) as session:
        target = officers.find(session, args.username)
        ok = _approval(args, secrets, session, officers.status_purpose(status))
        try:
            updated = officers.set_status(session, target.id, status, ok, args.reason)
        except ApprovalRequired as exc:
            raise _hint(exc) from None
    ctx.say(f"'{updated.username}' is now {updated.status.value}.")
    return EXIT_OK


def cmd_user_accredit(args: argparse.Namespace, ctx: Context) -> int:
    try:
        hours = float(args.hours)
    except ValueError:
        raise InvalidInput("--hours: give a number of hours.") from None
    new = NewAccreditation(args.course, _date(args.date, "--date"), hours,
                           _date(args.expires, "--expires") if args.expires else None)
    with logged_in(args, ctx, Secrets(ctx, args.password_stdin)) as session:
        target = officers.find(session, args.username)
        record = officers.record_accreditation(session, target.id, new)
    until = f", valid until {record.expires_on}" if record.expires_on else ""
    ctx.say(f"Accreditation recorded for '{target.username}': {record.course}, "
            f"{record.hours:g} hours, completed {record.completed_on}{until}.")
    return EXIT_OK


def cmd_user_list(args: argparse.Namespace, ctx: Context) -> int:
    with logged_in(args, ctx, Secrets(ctx, args.password_stdin)) as session:
        found = accounts.list_officers(session)
        locked = set(accounts.locked_usernames(session))
    ctx.say(f"{'USERNAME':<20} {'STATUS':<10} {'RANK':<26} ROLES")
    for o in found:
        roles = ", ".join(r.value for r in Role if r in o.roles) or "-"
        flags = " [locked]" if o.username in locked else ""
        flags += " [must change password]" if o.must_change_password else ""
        ctx.say(f"{o.username:<20} {o.status.value:<10} {o.rank or '-':<26} {roles}{flags}")
    return EXIT_OK


def cmd_user_release(args: argparse.Namespace, ctx: Context) -> int:
    with logged_in(args, ctx, Secrets(ctx, args.password_stdin)) as session:
        accounts.release(session, args.username, args.reason or "")
    ctx.say(f"The account '{args.username}' was released; the officer can log in again.")
    return EXIT_OK
