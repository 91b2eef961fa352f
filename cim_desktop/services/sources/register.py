"""A minimal source register: the use cases through which the access model is enforced.

Every call checks ``services.access`` first (a denial is audited and raised), then validates,
then runs its change or read in one transaction with its audit row. Identity values go only
into the sealed ``source_identity`` table: audit rows carry field names and the stated reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cim_desktop.domain.access import rules
from cim_desktop.domain.access.rules import Act, TeamRole, Tier
from cim_desktop.domain.audit.rows import Action, AuditEvent
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.domain.findings import refuse, violation
from cim_desktop.domain.sources.model import (
    SourceRecord,
    SourceStatus,
    TeamMember,
    check_particulars,
    check_pseudonym,
    check_reason,
    check_status,
    check_urn,
    next_urn,
)
from cim_desktop.domain.sources.team_rules import team_assignment
from cim_desktop.errors import InvalidInput
from cim_desktop.services.access import permissions as access
from cim_desktop.services.session import Session
from cim_desktop.store.sources.register import SourceRepository

SOURCE = access.SOURCE
TEAM = "source-team"


@dataclass(frozen=True)
class SourceMetadata:
    urn: str
    status: SourceStatus


@dataclass(frozen=True)
class SourceContent:
    urn: str
    pseudonym: str
    status: SourceStatus


@dataclass(frozen=True)
class SourceSummary:
    """One line of the register as the officer may see it."""

    urn: str
    status: SourceStatus
    pseudonym: str | None  # None where the officer may see metadata only
    break_glass: bool = False


def _repo(session: Session) -> SourceRepository:
    return SourceRepository(session.db.conn)


def _existing(session: Session, urn: str) -> SourceRecord:
    with session.db.reading():
        record = _repo(session).get(urn)
    if record is None:
        raise InvalidInput(f"There is no source with the URN {urn}.")
    return record


# -- registering and the team -------------------------------------------------------------
def register_source(session: Session, pseudonym: str, urn: str = "") -> SourceRecord:
    """Put a source on the register; the registering officer joins its team."""
    acting = session.require(frozenset(rules.REGISTER_ROLES), "register a source", SOURCE)
    pseudonym = check_pseudonym(pseudonym)
    now = utc_now()
    with session.db.reading():
        taken = _repo(session).urns()
    if urn.strip():
        urn = check_urn(urn)
        if urn in taken:
            raise violation(
                "source.urn-taken", f"A source with the URN {urn} is already registered.", "urn"
            )
    else:
        urn = next_urn(access.current_policy(session).text("urn_format"), now.year, taken)
    team_role = rules.REGISTER_ROLES[acting]
    record = SourceRecord(urn, pseudonym, SourceStatus.PROSPECT, iso_utc(now), session.officer.id)
    event = AuditEvent(Action.CREATE, SOURCE, urn, {"team_role": team_role.value})
    with session.change(event, acting):
        _repo(session).add(record)
        _repo(session).assign(
            urn, session.officer.id, team_role, record.created_at, session.officer.id
        )
    return record


def assign_team_role(session: Session, urn: str, username: str, team_role: TeamRole) -> TeamMember:
    urn = check_urn(urn)
    decision = access.require(session, Act.MANAGE_TEAM, urn, Tier.METADATA)
    _existing(session, urn)
    now = iso_utc(utc_now())
    with session.db.reading():
        officer = session.db.officers.by_username(username)
        history = _repo(session).team(urn)
    refuse(team_assignment(urn, username, officer, team_role, history, now))
    assert officer is not None  # refused above otherwise
    event = AuditEvent(
        Action.CREATE, TEAM, urn, {"officer": officer.id, "team_role": team_role.value}
    )
    with session.change(event, decision.role):
        member_id = _repo(session).assign(urn, officer.id, team_role, now, session.officer.id)
    return TeamMember(
        member_id, urn, officer.id, officer.username, team_role, now, None, session.officer.id
    )


def end_team_role(session: Session, urn: str, member_id: int) -> None:
    urn = check_urn(urn)
    decision = access.require(session, Act.MANAGE_TEAM, urn, Tier.METADATA)
    now = iso_utc(utc_now())
    with session.db.reading():
        member = _repo(session).member(member_id)
    if member is None or member.urn != urn or not member.current(now):
        raise InvalidInput(f"That role on {urn} is not held at present.")
    event = AuditEvent(
        Action.UPDATE,
        TEAM,
        urn,
        {"officer": member.officer_id, "team_role": member.team_role.value, "ended": True},
    )
    with session.change(event, decision.role):
        _repo(session).end(member_id, now)


def team(session: Session, urn: str, history: bool = False) -> list[TeamMember]:
    """Who holds (or, with ``history``, has held) each role on the source."""
    urn = check_urn(urn)
    decision = access.require(session, Act.VIEW, urn, Tier.METADATA)
    _existing(session, urn)
    now = None if history else iso_utc(utc_now())
    event = AuditEvent(Action.VIEW, TEAM, urn, {"history": history})
    return session.audited_read(event, lambda: _repo(session).team(urn, now), decision.role)


# -- reading --------------------------------------------------------------------------------
def view_metadata(session: Session, urn: str) -> SourceMetadata:
    urn = check_urn(urn)
    decision = access.require(session, Act.VIEW, urn, Tier.METADATA)
    record = _existing(session, urn)
    session.record(
        AuditEvent(Action.VIEW, SOURCE, urn, {"tier": Tier.METADATA.value}), decision.role
    )
    return SourceMetadata(record.urn, record.status)


def view_content(session: Session, urn: str) -> SourceContent:
    urn = check_urn(urn)
    decision = access.require(session, Act.VIEW, urn, Tier.CONTENT)
    detail: dict[str, str] = {"tier": Tier.CONTENT.value}
    if decision.grant_id:
        detail["break_glass"] = decision.grant_id
    record = session.audited_read(
        AuditEvent(Action.VIEW, SOURCE, urn, detail), lambda: _repo(session).get(urn), decision.role
    )
    if record is None:
        raise InvalidInput(f"There is no source with the URN {urn}.")
    return SourceContent(record.urn, record.pseudonym, record.status)


def view_identity(session: Session, urn: str, reason: str) -> dict[str, str]:
    """The sealed particulars; each view is audited with its reason (never the values)."""
    urn = check_urn(urn)
    decision = access.require(session, Act.VIEW, urn, Tier.IDENTITY, reason)
    reason = check_reason(reason)
    _existing(session, urn)
    event = AuditEvent(Action.VIEW, SOURCE, urn, {"tier": Tier.IDENTITY.value}, reason=reason)
    found = session.audited_read(event, lambda: _repo(session).identity(urn), decision.role)
    if found is None:
        return {}
    particulars = json.loads(found[1])
    return {str(k): str(v) for k, v in particulars.items()}


def list_sources(session: Session) -> list[SourceSummary]:
    """The whole register at once (the reference the paged list is tested against; screens
    page with ``list_page``).

    The sources the officer may see: their caseload with pseudonyms, and URN and status
    of others only where the rules allow (auditors; policy ``metadata_outside_team``)."""
    with session.db.reading():
        records = _repo(session).all()
    urns = [r.urn for r in records]
    meta = access.permissions(session, urns, Act.VIEW, Tier.METADATA)
    content = access.permissions(session, urns, Act.VIEW, Tier.CONTENT)
    visible = [
        SourceSummary(
            r.urn,
            r.status,
            r.pseudonym if content[r.urn].allowed else None,
            content[r.urn].grant_id is not None,
        )
        for r in records
        if meta[r.urn].allowed
    ]
    session.record(AuditEvent(Action.VIEW, SOURCE, "*", {"listed": len(visible)}))
    return visible


@dataclass(frozen=True)
class SourceFilter:
    """What the register list is narrowed to: a status, and text in the URN, the
    pseudonym (only where the officer may see it) or the status's name."""

    status: SourceStatus | None = None
    text: str = ""


def status_label(status: SourceStatus) -> str:
    return status.value.replace("-", " ").capitalize()


def _matches(row: SourceSummary, needle: str) -> bool:
    return not needle or any(
        needle in part.casefold()
        for part in (row.urn, row.pseudonym or "", status_label(row.status))
    )


def _visible(
    session: Session, flt: SourceFilter, after: str | None, limit: int
) -> list[SourceSummary]:
    """Up to ``limit`` visible rows after ``after``, in URN order, filtered in SQL.

    Permission is decided per row in Python (``access.permissions``, the one rule table),
    so the SQL only narrows: a record with no team role and no grant of the officer gets
    the same answer as every other such record, and when that answer is "no" the SQL keeps
    only the officer's linked records. Each SQL page is then checked row by row; the text is
    re-checked against what the officer may see, so a hidden pseudonym never matches.
    """
    officer = session.officer
    now = iso_utc(utc_now())
    policy = access.current_policy(session)
    outsider = rules.decide(officer.roles, frozenset(), False, Act.VIEW, Tier.METADATA, policy)
    needle = flt.text.strip().casefold()
    label_hits = frozenset(
        s.value for s in SourceStatus if needle and needle in status_label(s).casefold()
    )
    found: list[SourceSummary] = []
    cursor = after
    chunk = max(limit, 50)
    while len(found) < limit:
        with session.db.reading():
            records = _repo(session).page(
                after=cursor,
                limit=chunk,
                statuses=None if flt.status is None else frozenset({flt.status.value}),
                # SQLite's LIKE folds the case of ASCII letters only: other text is left to
                # the check below, so that it matches as the officer typed it.
                text=needle if needle.isascii() else "",
                text_statuses=label_hits,
                linked_to=None if outsider.allowed else (officer.id, now),
            )
        if not records:
            break
        urns = [r.urn for r in records]
        meta = access.permissions(session, urns, Act.VIEW, Tier.METADATA)
        content = access.permissions(session, urns, Act.VIEW, Tier.CONTENT)
        for r in records:
            if not meta[r.urn].allowed:
                continue
            row = SourceSummary(
                r.urn,
                r.status,
                r.pseudonym if content[r.urn].allowed else None,
                content[r.urn].grant_id is not None,
            )
            if _matches(row, needle):
                found.append(row)
                if len(found) == limit:
                    break
        cursor = records[-1].urn
        if len(records) < chunk:
            break
    return found


def list_page(
    session: Session, flt: SourceFilter, after: str | None = None, limit: int = 200
) -> list[SourceSummary]:
    """One keyset page of the sources the officer may see (``list_sources``' rule); each
    page shown is audited (reads of source records are)."""
    rows = _visible(session, flt, after, limit)
    detail: dict[str, object] = {"listed": len(rows)}
    if after is not None:
        detail["after"] = after
    session.record(AuditEvent(Action.VIEW, SOURCE, "*", detail))
    return rows


def count_visible(session: Session, flt: SourceFilter) -> int:
    """How many sources ``list_page`` would show in all, walking the same pages (on the
    worker; for an officer who sees only their caseload the SQL reads only that)."""
    total, after = 0, None
    while True:
        rows = _visible(session, flt, after, 1000)
        total += len(rows)
        if len(rows) < 1000:
            return total
        after = rows[-1].urn


# -- changing ------------------------------------------------------------------------------
def update_status(session: Session, urn: str, status: str) -> None:
    urn = check_urn(urn)
    decision = access.require(session, Act.EDIT, urn, Tier.METADATA)
    new = check_status(status)
    old = _existing(session, urn).status
    event = AuditEvent(
        Action.UPDATE, SOURCE, urn, {"tier": Tier.METADATA.value, "status": [old.value, new.value]}
    )
    with session.change(event, decision.role):
        _repo(session).change(urn, session.officer.id, iso_utc(utc_now()), status=new.value)


def update_pseudonym(session: Session, urn: str, pseudonym: str) -> None:
    urn = check_urn(urn)
    decision = access.require(session, Act.EDIT, urn, Tier.CONTENT)
    pseudonym = check_pseudonym(pseudonym)
    _existing(session, urn)
    event = AuditEvent(
        Action.UPDATE, SOURCE, urn, {"tier": Tier.CONTENT.value, "fields": ["pseudonym"]}
    )
    with session.change(event, decision.role):
        _repo(session).change(urn, session.officer.id, iso_utc(utc_now()), pseudonym=pseudonym)


def update_identity(session: Session, urn: str, particulars: dict[str, str], reason: str) -> None:
    """Record a new version of the sealed particulars (the old one is kept)."""
    urn = check_urn(urn)
    decision = access.require(session, Act.EDIT, urn, Tier.IDENTITY, reason)
    reason = check_reason(reason, "changing the identity")
    clean = check_particulars(particulars)
    _existing(session, urn)
    event = AuditEvent(
        Action.UPDATE,
        SOURCE,
        urn,
        {"tier": Tier.IDENTITY.value, "fields": sorted(clean)},
        reason=reason,
    )
    with session.change(event, decision.role):
        _repo(session).add_identity(
            urn,
            json.dumps(clean, sort_keys=True, ensure_ascii=False),
            iso_utc(utc_now()),
            session.officer.id,
        )


@dataclass(frozen=True)
class SourceVersion:
    """One version of a source's pseudonym and status, and what it changed."""

    version: int
    author: str  # officer id, or 'migration'
    created_at: str
    pseudonym: str
    status: SourceStatus
    changed: tuple[str, ...]  # the fields that differ from the version before ('' for v1)


def history(session: Session, urn: str) -> list[SourceVersion]:
    """Every version of the source's pseudonym and status, oldest first (an audited view)."""
    urn = check_urn(urn)
    decision = access.require(session, Act.VIEW, urn, Tier.CONTENT)
    _existing(session, urn)
    event = AuditEvent(Action.VIEW, SOURCE, urn, {"tier": Tier.CONTENT.value, "history": True})
    versions = session.audited_read(event, lambda: _repo(session).history(urn), decision.role)
    found: list[SourceVersion] = []
    before: dict[str, object] = {}
    for v in versions:
        changed = tuple(k for k, value in v.values.items() if before and before[k] != value)
        found.append(
            SourceVersion(
                v.version,
                v.author,
                v.created_at,
                str(v.values["pseudonym"]),
                SourceStatus(v.values["status"]),
                changed,
            )
        )
        before = v.values
    return found
