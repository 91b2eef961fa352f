"""The one permission function every caller goes through, and break-glass access.

``permission`` answers "may this officer do this to that source record at this field tier"
from the rule table in ``domain.access``; ``require`` enforces it for a use case (a denial is
audited before it is raised). The GUI and the command line reach source records only through
services that call ``require``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from cim_desktop.domain.access import rules
from cim_desktop.domain.access.rules import Act, Subject, TeamRole, Tier, Verdict
from cim_desktop.domain.audit.rows import Action, AuditEvent, Outcome
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.domain.officers.model import Officer
from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.policy.settings import Policy
from cim_desktop.domain.sources.model import BreakGlassGrant, check_justification, check_reason
from cim_desktop.domain.text import is_storable
from cim_desktop.errors import AccountLocked, InvalidInput, PermissionDenied, WrongCredentials
from cim_desktop.services.policy import settings as policy
from cim_desktop.services.session import Session
from cim_desktop.services.vault.lifecycle import confirm_password
from cim_desktop.store.access.break_glass import BreakGlassRepository
from cim_desktop.store.sources.register import SourceRepository

SOURCE = "source"


def current_policy(session: Session) -> Policy:
    """The policy in force; the one place the access model reads it."""
    return policy.current(session)


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    via: Subject | None = None
    role: Role | None = None  # the role the action is recorded under
    grant_id: str | None = None  # the break-glass grant it rests on, if any

    @property
    def allowed(self) -> bool:
        return self.verdict is not Verdict.DENIED

    @property
    def needs_reason(self) -> bool:
        return self.verdict is Verdict.NEEDS_REASON


def permission(
    session: Session, act: Act, urn: str, tier: Tier, officer: Officer | None = None
) -> Decision:
    """May ``officer`` (the session's own by default) do ``act`` on ``urn`` at ``tier``?"""
    officer = officer or session.officer
    now = iso_utc(utc_now())
    with session.db.reading():
        team = SourceRepository(session.db.conn).team_roles(urn, officer.id, now)
        grant = BreakGlassRepository(session.db.conn).active(officer.id, urn, now)
    return _decision(officer, team, grant, act, tier, current_policy(session))


def permissions(session: Session, urns: list[str], act: Act, tier: Tier) -> dict[str, Decision]:
    """``permission`` for many records at once (lists), from facts read in bulk."""
    officer = session.officer
    now = iso_utc(utc_now())
    with session.db.reading():
        teams = SourceRepository(session.db.conn).roles_by_source(officer.id, now)
        grants = {
            g.urn: g for g in BreakGlassRepository(session.db.conn).active_for(officer.id, now)
        }
    policy = current_policy(session)
    return {
        urn: _decision(officer, teams.get(urn, frozenset()), grants.get(urn), act, tier, policy)
        for urn in urns
    }


def _decision(
    officer: Officer,
    team: frozenset[TeamRole],
    grant: BreakGlassGrant | None,
    act: Act,
    tier: Tier,
    policy: Policy,
) -> Decision:
    ruling = rules.decide(officer.roles, team, grant is not None, act, tier, policy)
    return Decision(
        ruling.verdict,
        ruling.via,
        rules.acting_role(ruling.via, officer.roles),
        grant.id if grant is not None and ruling.via is Subject.BREAK_GLASS else None,
    )


def require(session: Session, act: Act, urn: str, tier: Tier, reason: str = "") -> Decision:
    """Return the decision for an allowed action, or audit the denial and raise.

    Where the rule asks for a reason, a blank one is refused as bad input (nothing is
    recorded): the officer is allowed, but has not yet said why.
    """
    decision = permission(session, act, urn, tier)
    if not decision.allowed:
        deny(session, act, urn, tier, reason=reason)
    if decision.needs_reason:
        check_reason(reason, f"this {tier.value} {act.value}")
    return decision


def deny(
    session: Session, act: Act, urn: str, tier: Tier, reason: str = "", cause: str = ""
) -> None:
    """Audit a refused attempt and raise ``PermissionDenied`` (the message names no
    identity, only the URN the officer typed or chose)."""
    detail = {"attempted": f"{act.value} {tier.value}", "tier": tier.value}
    if cause:
        detail["cause"] = cause
    if not is_storable(reason):  # the refusal is recorded all the same, without the text
        detail["reason"] = "not recorded: it held characters that cannot be stored"
        reason = ""
    session.record(
        AuditEvent(
            Action.DENIED,
            SOURCE,
            urn,
            detail,
            reason=" ".join(reason.split()),
            outcome=Outcome.DENIED,
        )
    )
    what = (
        f"{act.label} the {tier.value} of source {urn}"
        if act in (Act.VIEW, Act.EDIT)
        else f"{act.label} source {urn}"
    )
    raise PermissionDenied(
        f"You may not {what}: it is outside your caseload or your role. The attempt has "
        "been recorded."
        + (
            " You may ask for break-glass access to its content."
            if act is Act.VIEW
            and tier is not Tier.IDENTITY
            and session.officer.roles & rules.BREAK_GLASS_ROLES
            else ""
        )
    )


# -- break-glass --------------------------------------------------------------------------
def break_glass(session: Session, urn: str, password: str, justification: str) -> BreakGlassGrant:
    """Open a source's content outside one's caseload for a limited time.

    The officer re-enters their password (a wrong one counts towards lockout) and writes a
    justification; the grant waits in the controllers' review queue until signed off.
    """
    officer = session.officer
    urn = urn.strip().upper()
    if not officer.roles & rules.BREAK_GLASS_ROLES:
        deny(session, Act.VIEW, urn, Tier.CONTENT, cause="break-glass by a non-operational role")
    policy = current_policy(session)
    text = check_justification(justification, policy.number("break_glass_min_justification"))
    if not password:
        raise InvalidInput("Re-enter your password to confirm that it is you.")
    if permission(session, Act.VIEW, urn, Tier.CONTENT).allowed:
        raise InvalidInput(f"You already have access to the content of {urn}.")
    try:
        confirmed = confirm_password(session.paths, officer.username, password, session.keyring)
    except (WrongCredentials, AccountLocked) as exc:
        cause = "account locked" if isinstance(exc, AccountLocked) else "wrong password"
        session.record(
            AuditEvent(Action.BREAK_GLASS, SOURCE, urn, {"cause": cause}, outcome=Outcome.DENIED)
        )
        raise
    if confirmed != officer.id:
        raise WrongCredentials()
    with session.db.reading():
        exists = SourceRepository(session.db.conn).get(urn) is not None
    if not exists:
        raise InvalidInput(f"There is no source with the URN {urn}.")
    now = utc_now()
    minutes = rules.grant_minutes(policy)
    grant = BreakGlassGrant(
        uuid.uuid4().hex,
        officer.id,
        urn,
        text,
        iso_utc(now),
        iso_utc(now + timedelta(minutes=minutes)),
    )
    role = rules.acting_role(Subject.BREAK_GLASS, officer.roles)
    event = AuditEvent(
        Action.BREAK_GLASS,
        SOURCE,
        urn,
        {"grant": grant.id, "minutes": minutes, "tier": Tier.CONTENT.value},
        reason=text,
    )
    with session.change(event, role):
        BreakGlassRepository(session.db.conn).add(grant)
    return grant


def active_grants(session: Session) -> list[BreakGlassGrant]:
    """The session officer's own break-glass grants still in force (for the banner)."""
    with session.db.reading():
        return BreakGlassRepository(session.db.conn).active_for(
            session.officer.id, iso_utc(utc_now())
        )


def end_break_glass(session: Session, grant_id: str) -> None:
    """End one's own grant before it runs out."""
    with session.db.reading():
        grant = BreakGlassRepository(session.db.conn).get(grant_id)
    if grant is None or grant.officer_id != session.officer.id:
        raise InvalidInput("There is no such break-glass access of yours.")
    now = utc_now()
    if not grant.active(now):
        return
    with session.change(
        AuditEvent(Action.UPDATE, "break-glass", grant.urn, {"grant": grant.id, "ended": True})
    ):
        BreakGlassRepository(session.db.conn).end(grant.id, iso_utc(now))
