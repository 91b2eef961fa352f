"""Who may hold a role on a source's team: pure rules returning findings.

The service gathers the officer and the team's whole history and refuses with the blocking
findings; nothing here reads the database.
"""

from __future__ import annotations

from collections.abc import Sequence

from cim_desktop.domain.access.rules import TEAM_ROLE_NEEDS, TeamRole
from cim_desktop.domain.findings import Finding, blocking
from cim_desktop.domain.officers.model import Officer, OfficerStatus
from cim_desktop.domain.sources.model import TeamMember

ROLES_CITATION = "RIPA 2000 s29(5): handler, controller and record keeper are different people"
AO_CITATION = "CHIS Code of Practice: the authorising officer must be impartial"
# An authorising officer must be impartial: never the handler or controller of the source.
NOT_BEFORE_AO = frozenset({TeamRole.HANDLER, TeamRole.CO_HANDLER, TeamRole.CONTROLLER})


def team_assignment(
    urn: str,
    username: str,
    officer: Officer | None,
    team_role: TeamRole,
    history: Sequence[TeamMember],
    now: str,
) -> list[Finding]:
    """What stands in the way of ``officer`` taking ``team_role`` on ``urn`` at ``now``."""
    if officer is None or officer.status is not OfficerStatus.ACTIVE:
        return [
            blocking(
                "team.officer-not-active",
                f"There is no active officer with the username '{username.strip()}'.",
                "username",
            )
        ]
    found: list[Finding] = []
    needed = TEAM_ROLE_NEEDS[team_role]
    if not officer.has(needed):
        found.append(
            blocking(
                "team.role-not-held",
                f"{officer.username} does not hold the {needed.label} role that a "
                f"{team_role.label.lower()} needs.",
                "username",
            )
        )
    mine = [m for m in history if m.officer_id == officer.id]
    current = [m for m in mine if m.current(now)]
    if current:
        found.append(
            blocking(
                "team.already-on-team",
                f"{officer.username} is already {current[0].team_role.label.lower()} of {urn}. "
                "Each role on a source is held by a different officer.",
                "username",
                ROLES_CITATION,
            )
        )
    if team_role is TeamRole.AUTHORISING_OFFICER and any(
        m.team_role in NOT_BEFORE_AO for m in mine
    ):
        found.append(
            blocking(
                "team.ao-not-independent",
                f"{officer.username} has been a handler or controller of {urn} and "
                "cannot be its authorising officer.",
                "username",
                AO_CITATION,
            )
        )
    return found
