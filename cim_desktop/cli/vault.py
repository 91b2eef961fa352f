"""``cim vault reconcile``: whole-vault maintenance by administrators (``rekey`` is beside
it in ``cli``).

``reconcile`` puts granting rows that no longer answer to the audit trail (an old page of the
database copied back, a row edited outside the application) back to what the trail last
recorded. The rules are the service's, the same as the GUI's.
"""

from __future__ import annotations

import argparse

from cim_desktop.cli.commands import APPROVED, APPROVER, EXIT_OK, YOU, Context, logged_in
from cim_desktop.services.access import approval
from cim_desktop.services.officers.management import ADMINS
from cim_desktop.services.vault import reconcile


def add_parsers[P: argparse.ArgumentParser](
    vault_commands: argparse._SubParsersAction[P], vault_opt: P, login: P
) -> None:
    """Add ``reconcile`` under the ``cim vault`` group."""
    fix = vault_commands.add_parser(
        "reconcile",
        parents=[vault_opt, login],
        help="put granting rows that 'cim doctor' names back to what the audit trail recorded",
        description="Once the vault has two active administrators, this needs the second "
        "one's approval (--approver).",
        epilog=APPROVED.help(),
    )
    fix.add_argument(
        "--approver", metavar="USERNAME", help="the second administrator, who types their password"
    )
    fix.set_defaults(handler=cmd_vault_reconcile)


def cmd_vault_reconcile(args: argparse.Namespace, ctx: Context) -> int:
    given = APPROVED.read(args, ctx)
    with logged_in(args, ctx, given[YOU]) as session:
        session.require(ADMINS, reconcile.PURPOSE_RECONCILE, "vault", session.vault_id)
        approved: approval.Approval | None = None
        if args.approver:
            approved = approval.second_officer(
                session, args.approver, given[APPROVER], ADMINS, reconcile.PURPOSE_RECONCILE
            )
        done = reconcile.reconcile(session, approved)
    if not done.findings:
        ctx.say("Nothing to reconcile: every granting row answers to the audit trail.")
        return EXIT_OK
    for text in done.findings:
        ctx.say(f"found: {text}")
    for entity in done.restored:
        ctx.say(f"put back: {entity}")
    for entity in done.removed:
        ctx.say(f"removed: {entity}")
    ctx.say("Every granting row is recorded afresh in the audit trail.")
    return EXIT_OK
