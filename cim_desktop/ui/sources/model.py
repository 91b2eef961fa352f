"""What the Sources screen shows: the register's table model and one source's detail, read
on the worker through the services (each read is checked and audited there).

Permissions decide which reads are attempted: content is read only where the officer may
see it, so selecting a row never records a denial; typing a URN outside one's caseload does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from cim_desktop.domain.access import rules
from cim_desktop.domain.access.rules import Act, Tier
from cim_desktop.domain.sources.model import SourceStatus, TeamMember
from cim_desktop.services.access import permissions as access
from cim_desktop.services.sources import register as sources
from cim_desktop.services.sources.register import SourceSummary
from cim_desktop.ui.kit.list_model import ListTableModel

if TYPE_CHECKING:
    from cim_desktop.services.session import Session


class Column(IntEnum):
    URN = 0
    PSEUDONYM = 1
    STATUS = 2


NOT_OPEN = "(not open to you)"


def status_label(status: SourceStatus) -> str:
    return status.value.replace("-", " ").capitalize()


class SourcesTableModel(ListTableModel[SourceSummary]):
    headers = ("URN", "Pseudonym", "Status")

    def display(self, row: SourceSummary, column: int) -> Any:
        if column == Column.URN:
            return row.urn
        if column == Column.PSEUDONYM:
            if row.pseudonym is None:
                return NOT_OPEN
            return row.pseudonym + ("  [break-glass]" if row.break_glass else "")
        return status_label(row.status)

    def key(self, row: SourceSummary) -> Any:
        return row.urn

    def tooltip(self, row: SourceSummary, column: int) -> Any:
        if column == Column.PSEUDONYM and row.pseudonym is None:
            return "Outside your caseload: you see its URN and status only."
        return None


def matches(row: SourceSummary, text: str) -> bool:
    needle = text.strip().casefold()
    return not needle or any(
        needle in part.casefold()
        for part in (row.urn, row.pseudonym or "", status_label(row.status))
    )


@dataclass(frozen=True)
class SourceDetail:
    urn: str
    status: SourceStatus
    pseudonym: str | None  # None where the content is not open to the officer
    team: list[TeamMember]
    can_manage_team: bool
    can_view_identity: bool
    can_break_glass: bool
    grant_expires: str | None  # the break-glass grant the content rests on, if any


def load_detail(session: Session, urn: str) -> SourceDetail:
    """Everything the detail panel shows; raises PermissionDenied (audited) where the
    officer may not see even the source's metadata."""
    meta = sources.view_metadata(session, urn)
    content = access.permission(session, Act.VIEW, meta.urn, Tier.CONTENT)
    pseudonym = sources.view_content(session, meta.urn).pseudonym if content.allowed else None
    grant = next((g for g in access.active_grants(session) if g.urn == meta.urn), None)
    return SourceDetail(
        urn=meta.urn,
        status=meta.status,
        pseudonym=pseudonym,
        team=sources.team(session, meta.urn),
        can_manage_team=access.permission(
            session, Act.MANAGE_TEAM, meta.urn, Tier.METADATA
        ).allowed,
        can_view_identity=access.permission(session, Act.VIEW, meta.urn, Tier.IDENTITY).allowed,
        can_break_glass=can_break_glass(session) and not content.allowed,
        grant_expires=grant.expires_at if grant is not None and content.grant_id else None,
    )


def can_break_glass(session: Session) -> bool:
    return bool(session.officer.roles & rules.BREAK_GLASS_ROLES)


def team_text(team: list[TeamMember]) -> str:
    if not team:
        return "No one holds a role on this source."
    return "\n".join(
        f"{m.team_role.label}: {m.username}"
        for m in sorted(team, key=lambda m: (list(rules.TeamRole).index(m.team_role), m.username))
    )
