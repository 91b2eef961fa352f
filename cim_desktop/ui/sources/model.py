"""What the Sources screen shows: the register's keyset-paged table model and one source's
detail, read on the worker through the services (each read is checked and audited there).

Permissions decide which reads are attempted: content is read only where the officer may
see it, so selecting a row never records a denial; typing a URN outside one's caseload does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from cim_desktop.domain.access import rules
from cim_desktop.domain.access.rules import Act, Tier
from cim_desktop.domain.policy.settings import Policy
from cim_desktop.domain.sources.model import SourceStatus, TeamMember
from cim_desktop.services.access import permissions as access
from cim_desktop.services.sources import register as sources
from cim_desktop.services.sources.register import SourceFilter, SourceSummary, status_label
from cim_desktop.ui.kit.paged_model import PagedTableModel

if TYPE_CHECKING:
    from collections.abc import Hashable

    from cim_desktop.services.session import Session

__all__ = ["Column", "Listed", "SourceDetail", "SourcesTableModel", "empty_text", "status_label"]


class Column(IntEnum):
    URN = 0
    PSEUDONYM = 1
    STATUS = 2


NOT_OPEN = "(not open to you)"


class SourcesTableModel(PagedTableModel[SourceSummary]):
    headers = ("URN", "Pseudonym", "Status")

    def display(self, row: SourceSummary) -> tuple[Any, ...]:
        if row.pseudonym is None:
            pseudonym = NOT_OPEN
        else:
            pseudonym = row.pseudonym + ("  [break-glass]" if row.break_glass else "")
        return (row.urn, pseudonym, status_label(row.status))

    def key(self, row: SourceSummary) -> Hashable:
        return row.urn

    def tooltip(self, row: SourceSummary, column: int) -> Any:
        if column == Column.PSEUDONYM and row.pseudonym is None:
            return "Outside your caseload: you see its URN and status only."
        return None


@dataclass(frozen=True)
class Listed:
    """The list's first page as read on the worker, with what goes with it."""

    policy: Policy
    first: list[SourceSummary]
    total: int
    flt: SourceFilter


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


def empty_text(filtered: bool, may_register: bool) -> str:
    """What an empty list says: what it will hold, and how to add the first source."""
    if filtered:
        return "No source matches this filter. Clear it to see every source open to you."
    if may_register:
        return (
            "This list will hold the sources on your caseload. None is registered yet: "
            "use Register source… to add the first."
        )
    return (
        "This list will hold the sources on your caseload, once a controller or the record "
        "keeper assigns you to a source's team."
    )
