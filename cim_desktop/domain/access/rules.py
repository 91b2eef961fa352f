"""The access model: who may do what to a source record, at which field tier.

Source teams are the compartments (domain.md, "Roles"). The rules are one declared table,
``RULES``; ``decide`` is the only code that reads it, and ``services.access.permission`` is
the only caller that feeds it facts (team rows, break-glass grants, policy) from the vault.

Field tiers:
- identity: the sealed compartment (true name, date of birth, address, phone, photo);
- content: what the record says about the source's use (pseudonym, contacts, intelligence);
- metadata: URN-level facts (URN, status, who is on the team).

Decisions taken here, so that the table can be read as the unit's policy:
- A team row counts only while the officer also holds the officer role it needs (a handler
  whose handler role was withdrawn loses the source even before the team row is ended).
- Identity: the controller and the record keeper may view it, each time with a stated reason;
  only the record keeper (who keeps the true identity) may change it, also with a reason.
- Authorising officers sit on the team for decisions: they read content and decide, they do
  not edit and never see identity.
- Auditors (professional standards) see metadata of every source: audit rows already name
  URNs, and reviewing access needs to know which source a row is about. They never see
  content or identity by holding that role.
- Administrators get nothing by holding that role: only what every officer outside the team
  gets, which is URN-level metadata where the policy ``metadata_outside_team`` allows it.
- Break-glass opens content and metadata, never identity, and never edits. Only operational
  officers (handler, controller, authorising officer, record keeper) may break glass.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.policy.settings import Policy


class Tier(StrEnum):
    IDENTITY = "identity"
    CONTENT = "content"
    METADATA = "metadata"


# Column order of RULES.
TIERS: tuple[Tier, Tier, Tier] = (Tier.IDENTITY, Tier.CONTENT, Tier.METADATA)


class Act(StrEnum):
    """What an officer wants to do with a source record."""

    VIEW = "view"
    EDIT = "edit"
    DECIDE = "decide"  # authorisation decisions: grant, review, renew, cancel
    MANAGE_TEAM = "manage-team"  # assign and end team roles

    @property
    def label(self) -> str:
        return _ACT_LABELS[self]


_ACT_LABELS = {
    Act.VIEW: "view",
    Act.EDIT: "change",
    Act.DECIDE: "make decisions on",
    Act.MANAGE_TEAM: "manage the team of",
}


class TeamRole(StrEnum):
    HANDLER = "handler"
    CO_HANDLER = "co_handler"
    CONTROLLER = "controller"
    RECORD_KEEPER = "record_keeper"
    AUTHORISING_OFFICER = "authorising_officer"

    @property
    def label(self) -> str:
        return _TEAM_LABELS[self]


_TEAM_LABELS = {
    TeamRole.HANDLER: "Handler",
    TeamRole.CO_HANDLER: "Co-handler",
    TeamRole.CONTROLLER: "Controller",
    TeamRole.RECORD_KEEPER: "Record keeper",
    TeamRole.AUTHORISING_OFFICER: "Authorising officer",
}


class Subject(StrEnum):
    """Whom a rule speaks of: a team role, a break-glass grant or a standing role."""

    HANDLER = "handler"
    CO_HANDLER = "co_handler"
    CONTROLLER = "controller"
    RECORD_KEEPER = "record_keeper"
    AUTHORISING_OFFICER = "authorising_officer"
    BREAK_GLASS = "break_glass"
    AUDITOR = "auditor"
    ANY_OFFICER = "any_officer"  # every officer, inside or outside the team


class Cell(StrEnum):
    NO = "no"
    YES = "yes"
    REASON = "reason"  # allowed, each time with a stated reason
    POLICY = "policy"  # allowed while the policy flag POLICY_FLAG is on


class Verdict(StrEnum):
    DENIED = "denied"
    NEEDS_REASON = "needs-reason"
    ALLOWED = "allowed"


POLICY_FLAG = "metadata_outside_team"

N, Y, R, P = Cell.NO, Cell.YES, Cell.REASON, Cell.POLICY
_NONE = (N, N, N)

# The rule table. Each row: (subject, action) -> (identity, content, metadata).
RULES: dict[tuple[Subject, Act], tuple[Cell, Cell, Cell]] = {
    # subject                               action               identity content metadata
    (Subject.HANDLER, Act.VIEW): (N, Y, Y),
    (Subject.HANDLER, Act.EDIT): (N, Y, N),
    (Subject.HANDLER, Act.DECIDE): _NONE,
    (Subject.HANDLER, Act.MANAGE_TEAM): _NONE,
    (Subject.CO_HANDLER, Act.VIEW): (N, Y, Y),
    (Subject.CO_HANDLER, Act.EDIT): (N, Y, N),
    (Subject.CO_HANDLER, Act.DECIDE): _NONE,
    (Subject.CO_HANDLER, Act.MANAGE_TEAM): _NONE,
    (Subject.CONTROLLER, Act.VIEW): (R, Y, Y),
    (Subject.CONTROLLER, Act.EDIT): (N, Y, Y),
    (Subject.CONTROLLER, Act.DECIDE): _NONE,
    (Subject.CONTROLLER, Act.MANAGE_TEAM): (N, N, Y),
    (Subject.RECORD_KEEPER, Act.VIEW): (R, Y, Y),
    (Subject.RECORD_KEEPER, Act.EDIT): (R, N, Y),
    (Subject.RECORD_KEEPER, Act.DECIDE): _NONE,
    (Subject.RECORD_KEEPER, Act.MANAGE_TEAM): (N, N, Y),
    (Subject.AUTHORISING_OFFICER, Act.VIEW): (N, Y, Y),
    (Subject.AUTHORISING_OFFICER, Act.EDIT): _NONE,
    (Subject.AUTHORISING_OFFICER, Act.DECIDE): (N, Y, N),
    (Subject.AUTHORISING_OFFICER, Act.MANAGE_TEAM): _NONE,
    (Subject.BREAK_GLASS, Act.VIEW): (N, Y, Y),
    (Subject.BREAK_GLASS, Act.EDIT): _NONE,
    (Subject.BREAK_GLASS, Act.DECIDE): _NONE,
    (Subject.BREAK_GLASS, Act.MANAGE_TEAM): _NONE,
    (Subject.AUDITOR, Act.VIEW): (N, N, Y),
    (Subject.AUDITOR, Act.EDIT): _NONE,
    (Subject.AUDITOR, Act.DECIDE): _NONE,
    (Subject.AUDITOR, Act.MANAGE_TEAM): _NONE,
    (Subject.ANY_OFFICER, Act.VIEW): (N, N, P),
    (Subject.ANY_OFFICER, Act.EDIT): _NONE,
    (Subject.ANY_OFFICER, Act.DECIDE): _NONE,
    (Subject.ANY_OFFICER, Act.MANAGE_TEAM): _NONE,
}

# A team row counts only while its holder has this officer role.
TEAM_ROLE_NEEDS: dict[TeamRole, Role] = {
    TeamRole.HANDLER: Role.HANDLER,
    TeamRole.CO_HANDLER: Role.HANDLER,
    TeamRole.CONTROLLER: Role.CONTROLLER,
    TeamRole.RECORD_KEEPER: Role.RECORD_KEEPER,
    TeamRole.AUTHORISING_OFFICER: Role.AUTHORISING_OFFICER,
}

# Who may break glass (and whose grants count).
BREAK_GLASS_ROLES: frozenset[Role] = frozenset(
    {
        Role.HANDLER,
        Role.CONTROLLER,
        Role.AUTHORISING_OFFICER,
        Role.RECORD_KEEPER,
    }
)

# Officer roles that are rule subjects in their own right, whatever the team.
STANDING: dict[Role, Subject] = {Role.AUDITOR: Subject.AUDITOR}

# Who may put a new source on the register (they join its team in that role).
REGISTER_ROLES: dict[Role, TeamRole] = {
    Role.CONTROLLER: TeamRole.CONTROLLER,
    Role.RECORD_KEEPER: TeamRole.RECORD_KEEPER,
}

MAX_BREAK_GLASS_MINUTES = 60

_RANK = {Verdict.DENIED: 0, Verdict.NEEDS_REASON: 1, Verdict.ALLOWED: 2}


@dataclass(frozen=True)
class Ruling:
    verdict: Verdict
    via: Subject | None = None  # the rule that granted it

    @property
    def allowed(self) -> bool:
        return self.verdict is not Verdict.DENIED


def subjects(
    roles: frozenset[Role], team_roles: frozenset[TeamRole], break_glass: bool
) -> list[Subject]:
    """The rule subjects an officer answers to on one record, most specific first."""
    found = [Subject(t.value) for t in TeamRole if t in team_roles and TEAM_ROLE_NEEDS[t] in roles]
    if break_glass and roles & BREAK_GLASS_ROLES:
        found.append(Subject.BREAK_GLASS)
    found += [subject for role, subject in STANDING.items() if role in roles]
    found.append(Subject.ANY_OFFICER)
    return found


def _verdict(cell: Cell, policy: Policy) -> Verdict:
    if cell is Cell.YES:
        return Verdict.ALLOWED
    if cell is Cell.REASON:
        return Verdict.NEEDS_REASON
    if cell is Cell.POLICY and policy.flag(POLICY_FLAG):
        return Verdict.ALLOWED
    return Verdict.DENIED


def decide(
    roles: frozenset[Role],
    team_roles: frozenset[TeamRole],
    break_glass: bool,
    act: Act,
    tier: Tier,
    policy: Policy,
) -> Ruling:
    """May an officer with ``roles`` and these team roles on a record do ``act`` at ``tier``?

    The most permissive rule among the officer's subjects wins; a missing row denies.
    """
    best = Ruling(Verdict.DENIED)
    column = TIERS.index(tier)
    for subject in subjects(roles, team_roles, break_glass):
        row = RULES.get((subject, act))
        if row is None:
            continue
        verdict = _verdict(row[column], policy)
        if _RANK[verdict] > _RANK[best.verdict]:
            best = Ruling(verdict, subject)
    return best


def acting_role(subject: Subject | None, roles: frozenset[Role]) -> Role | None:
    """The officer role an allowed action is recorded under in the audit row."""
    if subject is None or subject is Subject.ANY_OFFICER:
        return None
    if subject is Subject.BREAK_GLASS:
        return next((r for r in Role if r in roles and r in BREAK_GLASS_ROLES), None)
    if subject is Subject.AUDITOR:
        return Role.AUDITOR
    return TEAM_ROLE_NEEDS[TeamRole(subject.value)]


def grant_minutes(policy: Policy) -> int:
    """How long a break-glass grant lasts: the policy's value, never over the maximum."""
    return max(1, min(policy.number("break_glass_minutes"), MAX_BREAK_GLASS_MINUTES))


class ReviewKind(StrEnum):
    """What waits in the controller's review queue until signed off."""

    BREAK_GLASS = "break-glass"
    DENIED = "denied"
    LOCKOUT = "lockout"

    @property
    def label(self) -> str:
        return {
            ReviewKind.BREAK_GLASS: "Break-glass",
            ReviewKind.DENIED: "Denied access",
            ReviewKind.LOCKOUT: "Account locked",
        }[self]
