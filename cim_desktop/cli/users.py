"""The ``cim user`` commands: officer accounts, roles, status, accreditation, passwords.

The rules (who may do what, two-person approval, accreditation, password rules) are the
services', the same as the GUI's. Each command declares the passwords it reads (a
``Secrets``): its help text lists them in the order it reads them, one a line with
--password-stdin: yours first, then the approving administrator's (with --approver), then any
new password.
"""

from __future__ import annotations

import argparse
from datetime import date

from cim_desktop.cli.commands import (
    APPROVED,
    APPROVER,
    EXIT_OK,
    LOGIN,
    YOU,
    Context,
    Line,
    Secrets,
    logged_in,
)
from cim_desktop.domain.officers.model import OfficerStatus
from cim_desktop.domain.officers.roles import Role, parse_role
from cim_desktop.domain.officers.rules import NewAccreditation, Particulars
from cim_desktop.errors import InvalidInput
from cim_desktop.services.access import approval
from cim_desktop.services.access.approval import Approval
from cim_desktop.services.officers import accounts
from cim_desktop.services.officers import management as officers
from cim_desktop.services.officers.management import ADMINS, ApprovalRequired
from cim_desktop.services.session import Session

TEMPORARY = Line(
    "the officer's temporary password",
    "Temporary password for {username}: ",
    repeat="Repeat the temporary password for {username}: ",
)
ADD = Secrets((YOU, APPROVER, TEMPORARY))
RESET = Secrets((YOU, APPROVER, TEMPORARY))
CURRENT = Line("your current password", "Current password for {user}: ")
NEW = Line("your new password", "New password for {user}: ")
NEW_AGAIN = Line("your new password again", "Repeat the new password for {user}: ")
PASSWD = Secrets((CURRENT, NEW, NEW_AGAIN))


def _course_options(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument(
        "--course",
        required=required,
        metavar="NAME",
        help="the accreditation course" + ("" if required else " (with --date and --hours)"),
    )
    parser.add_argument(
        "--date", required=required, metavar="YYYY-MM-DD", help="the date the course was completed"
    )
    parser.add_argument("--hours", required=required, metavar="HOURS")
    parser.add_argument("--expires", metavar="YYYY-MM-DD")


def add_parsers[P: argparse.ArgumentParser](
    users: argparse._SubParsersAction[P], vault_opt: P, login: P
) -> None:
    approver = type(login)(add_help=False)
    approver.add_argument(
        "--approver",
        metavar="USERNAME",
        help="the second administrator, who types their password (needed "
        "once the vault has two active administrators)",
    )
    common = [vault_opt, login]

    add = users.add_parser(
        "add",
        parents=[*common, approver],
        help="add an officer",
        description="The officer must change the temporary password at first login. A "
        "handler or controller needs a current accreditation: give it here with "
        "--course, --date and --hours, or record it first with 'user accredit'.",
        epilog=ADD.help(),
    )
    add.add_argument("username", metavar="USERNAME")
    add.add_argument(
        "--role",
        action="append",
        default=[],
        metavar="ROLE",
        help="a role to grant (repeat for more)",
    )
    add.add_argument("--display-name", metavar="NAME")
    add.add_argument("--collar", metavar="NUMBER", default="", help="collar or staff number")
    add.add_argument("--rank", metavar="RANK", default="")
    add.add_argument(
        "--gender", metavar="GENDER", default="", help="female, male or other (optional)"
    )
    _course_options(add, required=False)
    add.set_defaults(handler=cmd_user_add)

    passwd = users.add_parser(
        "passwd", parents=common, help="change your own password", epilog=PASSWD.help()
    )
    passwd.set_defaults(handler=cmd_user_passwd)

    reset = users.add_parser(
        "reset",
        parents=[*common, approver],
        help="give an officer a temporary password",
        epilog=RESET.help(),
    )
    reset.add_argument("username", metavar="USERNAME")
    reset.set_defaults(handler=cmd_user_reset)

    for name, verb, handler in (
        ("grant", "grant", cmd_user_grant),
        ("revoke", "revoke", cmd_user_revoke),
    ):
        cmd = users.add_parser(
            name, parents=[*common, approver], help=f"{verb} a role", epilog=APPROVED.help()
        )
        cmd.add_argument("username", metavar="USERNAME")
        cmd.add_argument(
            "--role",
            action="append",
            required=True,
            metavar="ROLE",
            help=f"a role to {verb} (repeat for more)",
        )
        cmd.set_defaults(handler=handler)

    for name, status, text in (
        ("suspend", OfficerStatus.SUSPENDED, "suspend an officer"),
        ("reinstate", OfficerStatus.ACTIVE, "reinstate a suspended officer"),
        ("mark-left", OfficerStatus.LEFT, "record that an officer has left (ends their roles)"),
    ):
        cmd = users.add_parser(name, parents=[*common, approver], help=text, epilog=APPROVED.help())
        cmd.add_argument("username", metavar="USERNAME")
        cmd.add_argument("--reason", metavar="TEXT", default="")
        cmd.set_defaults(handler=cmd_user_status, status=status)

    accredit = users.add_parser(
        "accredit",
        parents=common,
        help="record an officer's accreditation course",
        epilog=LOGIN.help(),
    )
    accredit.add_argument("username", metavar="USERNAME")
    _course_options(accredit, required=True)
    accredit.set_defaults(handler=cmd_user_accredit)

    listing = users.add_parser(
        "list", parents=common, help="list the officers", epilog=LOGIN.help()
    )
    listing.set_defaults(handler=cmd_user_list)

    release = users.add_parser(
        "release", parents=common, help="release a locked account", epilog=LOGIN.help()
    )
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


def _accreditation(args: argparse.Namespace) -> NewAccreditation | None:
    """The course given with --course, --date and --hours (and maybe --expires), if any."""
    given = [args.course, args.date, args.hours]
    if not any(given) and not args.expires:
        return None
    if not all(given):
        raise InvalidInput("Give an accreditation with --course, --date and --hours together.")
    try:
        hours = float(args.hours)
    except ValueError:
        raise InvalidInput("--hours: give a number of hours.") from None
    return NewAccreditation(
        args.course,
        _date(args.date, "--date"),
        hours,
        _date(args.expires, "--expires") if args.expires else None,
    )


def _approval(
    args: argparse.Namespace, given: dict[Line, str], session: Session, purpose: str
) -> Approval | None:
    if not args.approver:
        return None
    return approval.second_officer(session, args.approver, given[APPROVER], ADMINS, purpose)


def _hint(exc: ApprovalRequired) -> ApprovalRequired:
    return ApprovalRequired(
        f"{exc.message} Name another active administrator with "
        "--approver USERNAME; they type their password."
    )


# -- commands ----------------------------------------------------------------------------
def cmd_user_add(args: argparse.Namespace, ctx: Context) -> int:
    roles = _roles(args.role)
    course = _accreditation(args)
    given = ADD.read(args, ctx)
    with logged_in(args, ctx, given[YOU]) as session:
        # A named approver is always asked, even when no role needs them: their line was
        # read, so it must not be ignored.
        ok = _approval(args, given, session, officers.PURPOSE_ADD)
        particulars = Particulars(
            args.display_name or args.username, args.collar, args.rank, args.gender
        )
        try:
            officer = accounts.add_officer(
                session,
                args.username,
                given[TEMPORARY],
                roles,
                particulars=particulars,
                approval=ok,
                accreditations=[course] if course else [],
            )
        except ApprovalRequired as exc:
            raise _hint(exc) from None
    labels = ", ".join(sorted(r.label for r in officer.roles)) or "none yet"
    recorded = f" Accreditation recorded: {course.course}." if course else ""
    ctx.say(
        f"Officer '{officer.username}' added with the role(s): {labels}.{recorded} They "
        "must change the temporary password at first login."
    )
    return EXIT_OK


def cmd_user_passwd(args: argparse.Namespace, ctx: Context) -> int:
    given = PASSWD.read(args, ctx)
    if given[NEW] != given[NEW_AGAIN]:
        raise InvalidInput("The two new passwords do not match. Nothing was changed.")
    with logged_in(args, ctx, given[CURRENT], allow_temporary=True) as session:
        accounts.change_password(session, given[CURRENT], given[NEW])
    ctx.say(f"The password for '{args.user}' was changed.")
    return EXIT_OK


def cmd_user_reset(args: argparse.Namespace, ctx: Context) -> int:
    given = RESET.read(args, ctx)
    with logged_in(args, ctx, given[YOU]) as session:
        target = officers.find(session, args.username)
        ok = _approval(args, given, session, officers.PURPOSE_RESET)
        try:
            accounts.reset_password(session, target.id, given[TEMPORARY], ok)
        except ApprovalRequired as exc:
            raise _hint(exc) from None
    ctx.say(f"'{target.username}' has a temporary password and must change it at the next login.")
    return EXIT_OK


def _change_roles(args: argparse.Namespace, ctx: Context, grant: bool) -> int:
    roles = _roles(args.role)
    given = APPROVED.read(args, ctx)
    with logged_in(args, ctx, given[YOU]) as session:
        target = officers.find(session, args.username)
        ok = _approval(args, given, session, officers.PURPOSE_ROLES)
        try:
            updated = officers.change_roles(
                session, target.id, roles if grant else set(), set() if grant else roles, ok
            )
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
    given = APPROVED.read(args, ctx)
    with logged_in(args, ctx, given[YOU]) as session:
        target = officers.find(session, args.username)
        ok = _approval(args, given, session, officers.status_purpose(status))
        try:
            updated = officers.set_status(session, target.id, status, ok, args.reason)
        except ApprovalRequired as exc:
            raise _hint(exc) from None
    ctx.say(f"'{updated.username}' is now {updated.status.value}.")
    return EXIT_OK


def cmd_user_accredit(args: argparse.Namespace, ctx: Context) -> int:
    new = _accreditation(args)
    assert new is not None  # --course, --date and --hours are required here
    with logged_in(args, ctx, LOGIN.read(args, ctx)[YOU]) as session:
        target = officers.find(session, args.username)
        record = officers.record_accreditation(session, target.id, new)
    until = f", valid until {record.expires_on}" if record.expires_on else ""
    ctx.say(
        f"Accreditation recorded for '{target.username}': {record.course}, "
        f"{record.hours:g} hours, completed {record.completed_on}{until}."
    )
    return EXIT_OK


def cmd_user_list(args: argparse.Namespace, ctx: Context) -> int:
    with logged_in(args, ctx, LOGIN.read(args, ctx)[YOU]) as session:
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
    with logged_in(args, ctx, LOGIN.read(args, ctx)[YOU]) as session:
        accounts.release(session, args.username, args.reason or "")
    ctx.say(f"The account '{args.username}' was released; the officer can log in again.")
    return EXIT_OK
