"""The ``cim policy`` commands: show the local policy, and change one setting.

Kept apart from ``cli_commands`` so the policy commands read as one piece. The rules (who may
change what, the second administrator's approval, validation) are the service's, the same as
the GUI's.
"""

from __future__ import annotations

import argparse

from cim_desktop.cli.commands import APPROVED, APPROVER, EXIT_OK, LOGIN, YOU, Context, logged_in
from cim_desktop.domain.clock import parse_iso_utc
from cim_desktop.domain.policy.settings import BY_KEY, display, parse_text
from cim_desktop.errors import InvalidInput
from cim_desktop.services.access import approval
from cim_desktop.services.policy import settings as policy


def add_parsers[P: argparse.ArgumentParser](
    commands: argparse._SubParsersAction[P], vault_opt: P, login: P
) -> None:
    group = commands.add_parser("policy", help="the local policy")
    policy_commands = group.add_subparsers(dest="policy_command", required=True, metavar="COMMAND")
    show = policy_commands.add_parser(
        "show",
        parents=[vault_opt, login],
        help="show every setting, its value and who last changed it",
        epilog=LOGIN.help(),
    )
    show.set_defaults(handler=cmd_policy_show)
    change = policy_commands.add_parser(
        "set",
        parents=[vault_opt, login],
        help="change a setting (administrators; a second administrator approves)",
        description="Once the vault has two active administrators, a change needs the "
        "second one's approval (--approver).",
        epilog=APPROVED.help(),
    )
    change.add_argument("key", metavar="KEY", help="the setting, as 'cim policy show' names it")
    change.add_argument(
        "value",
        metavar="VALUE",
        nargs="?",
        help="the new value: a whole number, yes or no, or a comma-separated "
        "list of ranks, lowest first",
    )
    change.add_argument(
        "--default",
        action="store_true",
        help="restore the shipped default instead of giving a VALUE",
    )
    change.add_argument(
        "--approver", metavar="USERNAME", help="the second administrator, who types their password"
    )
    change.set_defaults(handler=cmd_policy_set)


def cmd_policy_show(args: argparse.Namespace, ctx: Context) -> int:
    with logged_in(args, ctx, LOGIN.read(args, ctx)[YOU]) as session:
        view = policy.open_view(session)
    width = max(len(s.setting.key) for s in view.states)
    group = ""
    for state in view.states:
        setting = state.setting
        if setting.group != group:
            if group:
                ctx.say()
            group = setting.group
            ctx.say(group)
        ctx.say(f"  {setting.key:<{width}}  {display(setting, state.value)}")
        ctx.say(f"  {'':<{width}}  {setting.label}; {_provenance(state)}")
    if view.can_change:
        ctx.say()
        ctx.say(
            "Change a setting with: cim policy set KEY VALUE --user YOU"
            + (" --approver ANOTHER_ADMINISTRATOR" if view.approval_needed else "")
        )
    return EXIT_OK


def _provenance(state: policy.SettingState) -> str:
    if not state.changed_at:
        return "shipped default"
    when = parse_iso_utc(state.changed_at).strftime("%Y-%m-%d %H:%M UTC")
    approved = f"approved by {state.approved_by}" if not state.bootstrap else policy.BOOTSTRAP
    what = "default restored" if state.is_default else "changed"
    return f"{what} {when} by {state.changed_by}, {approved}"


def cmd_policy_set(args: argparse.Namespace, ctx: Context) -> int:
    setting = BY_KEY.get(args.key)
    if setting is None:
        raise InvalidInput(
            f"There is no policy setting called '{args.key}'; 'cim policy show' lists them."
        )
    if args.default == (args.value is not None):
        raise InvalidInput("Give either the new VALUE or --default.")
    value = setting.default if args.default else parse_text(setting, args.value)
    given = APPROVED.read(args, ctx)
    with logged_in(args, ctx, given[YOU]) as session:
        session.require(policy.ADMINS, policy.PURPOSE, "policy")
        diffs = policy.prepare(session, {setting.key: value})
        if not diffs:
            ctx.say(
                f"Nothing changed: {setting.label} is already "
                f"{display(setting, policy.current(session)[setting.key])}."
            )
            return EXIT_OK
        approved: approval.Approval | None = None
        if args.approver:
            approved = approval.second_officer(
                session, args.approver, given[APPROVER], policy.ADMINS, policy.PURPOSE
            )
        policy.change(session, setting.key, value, approved)
    old, new = diffs[setting.key]
    ctx.say(
        f"{setting.label} ({setting.key}) changed from {display(setting, old)} to "
        f"{display(setting, new)}."
    )
    ctx.say(
        f"Approved by {approved.approver_username}."
        if approved
        else "No second administrator yet: recorded as a bootstrap change."
    )
    return EXIT_OK
