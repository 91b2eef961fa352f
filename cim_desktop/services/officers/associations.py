"""The notifiable associations register (counter-corruption).

Each officer declares their relationships with people of concern. A declaration is seen by
the officer who made it and by professional standards (the auditor role), by nobody else:
administrators included. Every refusal is audited. Audit rows name the fields, never the
person. Other use cases call ``conflicts`` when they assign an officer to a source's team.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from cim_desktop.domain.audit.rows import Action, AuditEvent, Outcome
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.domain.findings import field_problem
from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.officers.rules import Association, Severity, normalise_name
from cim_desktop.domain.text import check_storable
from cim_desktop.errors import InvalidInput, PermissionDenied
from cim_desktop.services.session import Session
from cim_desktop.store.database import VaultDatabase
from cim_desktop.store.officers.associations import AssociationRepository

PROFESSIONAL_STANDARDS = frozenset({Role.AUDITOR})
_FIELDS = ["person_name", "relationship", "association_date", "notes"]
CONFLICT_CODE = "declared-association"


@dataclass(frozen=True)
class ConflictFinding:
    code: str
    severity: Severity
    message: str
    officer_id: str
    association_id: str  # an internal id; the person's name is in the message only if allowed


def _repo(session: Session) -> AssociationRepository:
    return AssociationRepository(session.db.conn)


def _reader_role(session: Session, officer_id: str, what: str) -> Role | None:
    """The role to record a read of ``officer_id``'s declarations in; audit and raise if
    the caller may not see them. ``None``: the officer's own declarations."""
    if officer_id == session.officer.id:
        return None
    if session.officer.has(Role.AUDITOR):
        return Role.AUDITOR
    session.record(
        AuditEvent(
            Action.DENIED, "association", officer_id, {"attempted": what}, outcome=Outcome.DENIED
        )
    )
    raise PermissionDenied(
        "Declared associations are seen only by the officer who made them "
        "and by professional standards (the auditor role)."
    )


def _clean(text: str, field: str, label: str, limit: int, required: bool = True) -> str:
    check_storable(text, label, field=field)
    value = " ".join(text.split()) if field != "notes" else text.strip()
    if required and not value:
        raise field_problem("association.required", field, label, "this is required.")
    if len(value) > limit:
        raise field_problem("association.too-long", field, label, f"at most {limit} characters.")
    return value


def declare(
    session: Session, person_name: str, relationship: str, association_date: date, notes: str = ""
) -> Association:
    """Record a declaration by the logged-in officer about their own association."""
    name = _clean(person_name, "person_name", "Name", 200)
    relation = _clean(relationship, "relationship", "Relationship", 120)
    text = _clean(notes, "notes", "Notes", 2000, required=False)
    if association_date > utc_now().date():
        raise field_problem(
            "association.future-date",
            "association_date",
            "Date",
            "the date cannot be in the future.",
        )
    record = Association(
        str(uuid.uuid4()),
        session.officer.id,
        name,
        relation,
        association_date,
        text,
        iso_utc(utc_now()),
    )
    with session.change(
        AuditEvent(
            Action.CREATE,
            "association",
            record.id,
            {"officer_id": record.officer_id, "fields": _FIELDS},
        )
    ):
        _repo(session).add(record)
    return record


def withdraw(session: Session, association_id: str, reason: str = "") -> Association:
    """Withdraw one of the officer's own declarations; the record is kept."""
    with session.db.reading():
        record = _repo(session).get(association_id)
    if record is None:
        raise InvalidInput("There is no such declaration.")
    if record.officer_id != session.officer.id:
        session.record(
            AuditEvent(
                Action.DENIED,
                "association",
                association_id,
                {"attempted": "withdraw a declaration"},
                outcome=Outcome.DENIED,
            )
        )
        raise PermissionDenied("Only the officer who made a declaration can withdraw it.")
    if not record.active:
        raise InvalidInput("This declaration has already been withdrawn.")
    now = iso_utc(utc_now())
    reason = _clean(reason, "reason", "Reason", 500, required=False)
    with session.change(
        AuditEvent(
            Action.UPDATE,
            "association",
            association_id,
            {"officer_id": record.officer_id, "fields": ["withdrawn_at"]},
            reason=reason,
        )
    ):
        _repo(session).withdraw(association_id, now)
    return Association(
        record.id,
        record.officer_id,
        record.person_name,
        record.relationship,
        record.association_date,
        record.notes,
        record.recorded_at,
        now,
    )


def declarations(session: Session, officer_id: str | None = None) -> list[Association]:
    """An officer's declarations, withdrawn ones included (an audited read)."""
    target = officer_id or session.officer.id
    role = _reader_role(session, target, "read declared associations")
    return session.audited_read(
        AuditEvent(Action.VIEW, "association", target, {"scope": "officer"}),
        lambda: _repo(session).for_officer(target),
        role,
    )


def conflicts(
    session_or_db: Session | VaultDatabase, officer_id: str, names: list[str]
) -> list[ConflictFinding]:
    """Findings for each of ``officer_id``'s current declarations that names one of ``names``.

    Names match whatever their case and spacing. The person's name appears in a finding only
    when a session is given whose officer may read these declarations (the officer themself
    or professional standards); otherwise the message says only that a declared association
    matches. Writes nothing, so callers can run it inside their own transaction and audit the
    assignment it was for.
    """
    if isinstance(session_or_db, Session):
        db = session_or_db.db
        me = session_or_db.officer
        reveal = me.id == officer_id or me.has(Role.AUDITOR)
    else:
        db, reveal = session_or_db, False
    wanted = {normalise_name(n) for n in names if n.strip()}
    if not wanted:
        return []
    with db.reading():
        records = AssociationRepository(db.conn).for_officer(officer_id, active_only=True)
    findings = []
    for record in records:
        if normalise_name(record.person_name) not in wanted:
            continue
        if reveal:
            message = (
                f"The officer has declared a notifiable association with "
                f"{record.person_name} ({record.relationship}). Refer the assignment "
                "to professional standards."
            )
        else:
            message = (
                "The officer has declared a notifiable association with a person "
                "named here. Refer the assignment to professional standards before "
                "going ahead."
            )
        findings.append(
            ConflictFinding(CONFLICT_CODE, Severity.ERROR, message, officer_id, record.id)
        )
    return findings
