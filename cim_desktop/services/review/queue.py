"""The controllers' review queue: break-glass sessions, denied accesses and lockouts.

Each item waits until a controller signs it off with a note. Auditors (professional
standards) may read the queue but not sign; nobody signs off their own item. Items hold no
identity: URNs, usernames, the action attempted, and the officer's own justification.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cim_desktop.domain.access.rules import ReviewKind
from cim_desktop.domain.audit.rows import Action, AuditEvent, AuditRow
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.sources.model import BreakGlassGrant
from cim_desktop.domain.text import check_storable
from cim_desktop.errors import InvalidInput
from cim_desktop.services.session import Session
from cim_desktop.store.access.break_glass import BreakGlassRepository
from cim_desktop.store.review.queue import ReviewRepository

READERS = frozenset({Role.CONTROLLER, Role.AUDITOR})
SIGNERS = frozenset({Role.CONTROLLER})
MAX_ITEMS = 500
MAX_NOTE = 1000


@dataclass(frozen=True)
class ReviewItem:
    kind: ReviewKind
    ref: str  # break-glass grant id, or the audit sequence number
    officer_id: str
    officer: str  # username
    when: str  # ISO UTC
    entity: str  # URN or other entity id ('' when none)
    summary: str  # what happened, in words
    justification: str = ""  # break-glass only: the officer's own words
    expires_at: str = ""  # break-glass only
    ended_at: str = ""  # break-glass only


@dataclass(frozen=True)
class Queue:
    items: list[ReviewItem]
    can_sign: bool  # False for auditors: read-only
    total: int


def pending(session: Session) -> Queue:
    """Items not yet signed off, newest first; opening the queue is audited."""
    acting = session.require(READERS, "open the review queue", "review")

    def read() -> tuple[list[ReviewItem], int]:
        repo = ReviewRepository(session.db.conn)
        items = [_grant_item(g, name) for g, name in repo.pending_grants(MAX_ITEMS)]
        items += [_audit_item(r) for r in repo.pending_audit(MAX_ITEMS)]
        items.sort(key=lambda i: i.when, reverse=True)
        return items[:MAX_ITEMS], repo.count_pending()

    items, total = session.audited_read(AuditEvent(Action.VIEW, "review", "*"), read, acting)
    return Queue(items, session.officer.has(Role.CONTROLLER), total)


def sign_off(session: Session, kind: ReviewKind, ref: str, note: str) -> None:
    acting = session.require(SIGNERS, "sign off review items", "review", f"{kind.value}:{ref}")
    note = " ".join(check_storable(note, "Note").split())
    if not note:
        raise InvalidInput("Write a note saying what you checked before signing off.")
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"The note must be at most {MAX_NOTE} characters.")
    item = _find(session, kind, ref)
    if item.officer_id == session.officer.id:
        raise InvalidInput(
            "You cannot sign off an item about yourself; another controller must review it."
        )
    event = AuditEvent(
        Action.APPROVE,
        "review",
        f"{kind.value}:{ref}",
        {"kind": kind.value, "ref": ref, "officer": item.officer_id, "entity": item.entity},
        reason=note,
    )
    with session.change(event, acting):
        ReviewRepository(session.db.conn).sign(
            kind, ref, session.officer.id, iso_utc(utc_now()), note
        )


def _find(session: Session, kind: ReviewKind, ref: str) -> ReviewItem:
    missing = InvalidInput(
        "That item is not in the review queue (it may have been signed off already)."
    )
    with session.db.reading():
        if ReviewRepository(session.db.conn).signed(kind, ref):
            raise missing
        if kind is ReviewKind.BREAK_GLASS:
            grant = BreakGlassRepository(session.db.conn).get(ref)
            if grant is None:
                raise missing
            officer = session.db.officers.get(grant.officer_id)
            return _grant_item(grant, officer.username if officer else "")
        row = session.db.audit.get(int(ref)) if ref.isdigit() else None
    if row is None or _audit_kind(row) is not kind:
        raise missing
    return _audit_item(row)


def _audit_kind(row: AuditRow) -> ReviewKind | None:
    if row.action == Action.ACCOUNT_LOCKED.value:
        return ReviewKind.LOCKOUT
    if row.outcome == "denied":
        return ReviewKind.DENIED
    return None


def _grant_item(grant: BreakGlassGrant, username: str) -> ReviewItem:
    now = utc_now()
    state = "active" if grant.active(now) else "ended"
    return ReviewItem(
        ReviewKind.BREAK_GLASS,
        grant.id,
        grant.officer_id,
        username,
        grant.started_at,
        grant.urn,
        f"Opened the content of {grant.urn} outside their caseload ({state})",
        grant.justification,
        grant.expires_at,
        grant.ended_at or "",
    )


def _audit_item(row: AuditRow) -> ReviewItem:
    try:
        detail = json.loads(row.detail)
    except ValueError:
        detail = {}
    if not isinstance(detail, dict):
        detail = {}
    if row.action == Action.ACCOUNT_LOCKED.value:
        failures = detail.get("failures")
        summary = "Account locked after repeated wrong passwords" + (
            f" ({failures} failures)" if failures else ""
        )
        return ReviewItem(
            ReviewKind.LOCKOUT, str(row.seq), row.user_id, row.username, row.ts, "", summary
        )
    attempted = str(detail.get("attempted") or detail.get("purpose") or row.action)
    target = row.entity_id if row.entity_type == "source" else ""
    target = f"source {target}" if target else ""
    cause = detail.get("cause")
    summary = (
        f"Denied: {attempted}"
        + (f" on {target}" if target else "")
        + (f" ({cause})" if cause else "")
    )
    # Only URNs are worth showing as the record; other ids (officers, approvals) are opaque.
    entity = row.entity_id if row.entity_type == "source" else row.entity_type
    return ReviewItem(
        ReviewKind.DENIED, str(row.seq), row.user_id, row.username, row.ts, entity, summary
    )
