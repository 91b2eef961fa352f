"""Managing officers: particulars, roles, status and accreditation, each change audited.

Role grants and revocations and every status change need a second administrator's approval
(``services.approval.second_officer``), except while the vault has no second active
administrator (the bootstrap rule: the change goes ahead alone and its audit row says so).
Nobody changes their own roles or status. Holding the administrator role grants no access to
source content: that comes only from a source's team (see the access model).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from cim_desktop.domain.audit.rows import Action, AuditEvent, Outcome
from cim_desktop.domain.clock import iso_utc, parse_iso_utc, utc_now
from cim_desktop.domain.officers.model import Officer, OfficerStatus
from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.officers.rules import (
    Accreditation,
    NewAccreditation,
    Particulars,
    RoleAssignment,
    accreditation_problem,
    check_accreditation,
    check_particulars,
)
from cim_desktop.domain.policy.settings import Policy
from cim_desktop.domain.text import check_storable
from cim_desktop.errors import InvalidInput, PermissionDenied
from cim_desktop.security.slotfile import exclusive
from cim_desktop.services.access.approval import Approval
from cim_desktop.services.session import Session
from cim_desktop.services.vault.keying import apply_status_to_slot
from cim_desktop.services.vault.lifecycle import load_slots
from cim_desktop.store.officers.accreditations import AccreditationRepository

ADMINS = frozenset({Role.ADMINISTRATOR})
# Who may see the officer list and an officer's details (never their declarations).
OFFICER_READERS = ADMINS | {Role.AUDITOR, Role.CONTROLLER}
APPROVAL_VALID_FOR = timedelta(minutes=10)
BOOTSTRAP = "bootstrap: no second administrator yet"
BOOTSTRAP_SUBJECT = "bootstrap: no administrator other than the officer concerned"
# What each approval is for; an approval given for one purpose is refused for another.
PURPOSE_ADD = "add an officer with roles"
PURPOSE_ROLES = "change an officer's roles"
PURPOSE_RESET = "reset an officer's password"


def current_policy(session: Session) -> Policy:
    """The policy in force; the one place officer services read it."""
    from cim_desktop.services.policy import settings as policy

    return policy.current(session)


class ApprovalRequired(PermissionDenied):
    """A change that needs a second administrator's approval was attempted without one."""


@dataclass(frozen=True)
class OfficerDetails:
    officer: Officer
    roles: list[RoleAssignment]
    accreditations: list[Accreditation]


# -- approval and refusals ---------------------------------------------------------------
def deny(
    session: Session,
    what: str,
    entity_id: str,
    message: str,
    cause: str = "",
    error: type[PermissionDenied] = PermissionDenied,
) -> PermissionDenied:
    """Audit a refused attempt and return the error to raise."""
    detail = {"attempted": what} | ({"cause": cause} if cause else {})
    session.record(AuditEvent(Action.DENIED, "officer", entity_id, detail, outcome=Outcome.DENIED))
    return error(message)


def eligible_approvers(session: Session, exclude: frozenset[str] = frozenset()) -> list[str]:
    """Active administrators other than the acting officer (and ``exclude``)."""
    with session.db.reading():
        holders = session.db.officers.active_holders(Role.ADMINISTRATOR)
    return [h for h in holders if h != session.officer.id and h not in exclude]


def second_officer_required(session: Session, exclude: frozenset[str] = frozenset()) -> bool:
    """True once another active administrator exists who could approve (bootstrap rule)."""
    return bool(eligible_approvers(session, exclude))


def approval_detail(
    session: Session,
    approval: Approval | None,
    what: str,
    target_id: str,
    exclude: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Check the approval for a change to ``target_id``; return what its audit row records.

    ``exclude``: officers who may not approve this change (the subject of a password reset).
    """
    eligible = eligible_approvers(session, exclude)
    if approval is None:
        if eligible:
            raise deny(
                session,
                what,
                target_id,
                "This change needs the approval of a second administrator.",
                "no approval",
                ApprovalRequired,
            )
        if eligible_approvers(session):
            # The only other administrator is the officer concerned (their own reset).
            return {"approval": BOOTSTRAP_SUBJECT}
        return {"approval": BOOTSTRAP}
    refusal = ""
    if approval.purpose != what:
        refusal = "approval for another purpose"
        message = "That approval was given for something else; ask again."
    elif approval.approver_id == session.officer.id:
        refusal = "same officer"
        message = "The approving officer must be a different person from you."
    elif approval.approver_id in exclude:
        refusal = "approver is the subject"
        message = "The officer this change is about cannot approve it."
    elif approval.approver_id not in eligible or approval.approver_role not in ADMINS:
        refusal = "approver not an active administrator"
        message = "The approving officer must be an active administrator."
    else:
        age = utc_now() - parse_iso_utc(approval.approved_at)
        if age > APPROVAL_VALID_FOR or age < -APPROVAL_VALID_FOR:
            refusal = "approval expired"
            message = "The approval has expired. Ask the second officer to approve again."
    if refusal:
        raise deny(session, what, target_id, message, refusal)
    return approval.detail()


def _target(session: Session, officer_id: str, what: str) -> Officer:
    """The officer to change: exists, and is not the one acting."""
    with session.db.reading():
        officer = session.db.officers.get(officer_id)
    if officer is None:
        raise InvalidInput("There is no such officer.")
    if officer.id == session.officer.id:
        raise deny(
            session,
            what,
            officer.id,
            "An officer cannot change their own roles, status or accreditation. "
            "Ask another administrator.",
            "own account",
        )
    return officer


def find(session: Session, username: str) -> Officer:
    """The officer with ``username`` (no audit row: the caller's action records it)."""
    with session.db.reading():
        officer = session.db.officers.by_username(username)
    if officer is None:
        raise InvalidInput(f"There is no officer with the username '{username.strip()}'.")
    return officer


# -- reading -----------------------------------------------------------------------------
def details(session: Session, officer_id: str) -> OfficerDetails:
    """An officer's particulars, role history and accreditation (an audited read)."""
    if officer_id == session.officer.id:
        acting = None
    else:
        acting = session.require(
            OFFICER_READERS, "view an officer's details", "officer", officer_id
        )

    def read() -> OfficerDetails:
        officer = session.db.officers.get(officer_id)
        if officer is None:
            raise InvalidInput("There is no such officer.")
        return OfficerDetails(
            officer,
            session.db.officers.role_history(officer_id),
            AccreditationRepository(session.db.conn).for_officer(officer_id),
        )

    return session.audited_read(AuditEvent(Action.VIEW, "officer", officer_id), read, acting)


def accreditation_gap(
    session: Session,
    officer_id: str,
    roles: frozenset[Role],
    extra: list[Accreditation] | None = None,
) -> str:
    """Why ``officer_id`` may not hold ``roles`` under the policy, or ''."""
    records = AccreditationRepository(session.db.conn).for_officer(officer_id) + (extra or [])
    return accreditation_problem(roles, records, current_policy(session), utc_now().date())


# -- particulars -------------------------------------------------------------------------
def update_particulars(session: Session, officer_id: str, particulars: Particulars) -> Officer:
    acting = session.require(ADMINS, "change an officer's particulars", "officer", officer_id)
    p = check_particulars(particulars, current_policy(session).ranks)
    with session.db.reading():
        officer = session.db.officers.get(officer_id)
        clash = session.db.officers.by_collar_number(p.collar_number) if p.collar_number else None
    if officer is None:
        raise InvalidInput("There is no such officer.")
    if clash is not None and clash.id != officer_id:
        raise InvalidInput("Collar number: another officer already has this number.")
    before = Particulars(officer.display_name, officer.collar_number, officer.rank, officer.gender)
    changed = [
        f
        for f in ("display_name", "collar_number", "rank", "gender")
        if getattr(before, f) != getattr(p, f)
    ]
    if not changed:
        return officer
    with session.change(
        AuditEvent(
            Action.UPDATE, "officer", officer_id, {"change": "particulars", "fields": changed}
        ),
        acting,
    ):
        session.db.officers.set_particulars(officer_id, p)
    updated = replace(
        officer,
        display_name=p.display_name,
        collar_number=p.collar_number,
        rank=p.rank,
        gender=p.gender,
    )
    if officer_id == session.officer.id:
        session.officer = replace(
            session.officer,
            display_name=p.display_name,
            collar_number=p.collar_number,
            rank=p.rank,
            gender=p.gender,
        )
    return updated


# -- roles -------------------------------------------------------------------------------
def change_roles(
    session: Session,
    officer_id: str,
    grant: frozenset[Role] | set[Role],
    revoke: frozenset[Role] | set[Role],
    approval: Approval | None,
) -> Officer:
    """Grant and revoke roles in one audited change. Revoking ends the holding (valid_to),
    it never deletes it."""
    acting = session.require(ADMINS, PURPOSE_ROLES, "officer", officer_id)
    grant, revoke = frozenset(grant), frozenset(revoke)
    if not grant and not revoke:
        raise InvalidInput("Choose a role to grant or revoke.")
    if grant & revoke:
        raise InvalidInput("A role cannot be granted and revoked at once.")
    officer = _target(session, officer_id, PURPOSE_ROLES)
    if grant and officer.status is not OfficerStatus.ACTIVE:
        raise InvalidInput(
            f"Roles can be granted only to an active officer; "
            f"'{officer.username}' is {officer.status.value}."
        )
    already = sorted(r.label for r in grant if officer.has(r))
    if already:
        raise InvalidInput(f"'{officer.username}' already holds: {', '.join(already)}.")
    missing = sorted(r.label for r in revoke if not officer.has(r))
    if missing:
        raise InvalidInput(f"'{officer.username}' does not hold: {', '.join(missing)}.")
    with session.db.reading():
        gap = accreditation_gap(session, officer_id, grant)
    if gap:
        raise InvalidInput(gap)
    detail: dict[str, Any] = {
        "change": "roles",
        "granted": sorted(r.value for r in grant),
        "revoked": sorted(r.value for r in revoke),
    }
    detail |= approval_detail(session, approval, PURPOSE_ROLES, officer_id)
    now = iso_utc(utc_now())
    with session.change(AuditEvent(Action.UPDATE, "officer", officer_id, detail), acting):
        for role in sorted(grant):
            session.db.officers.grant(officer_id, role, now, session.officer.id)
        for role in sorted(revoke):
            session.db.officers.revoke(officer_id, role, now, session.officer.id)
    return replace(officer, roles=(officer.roles | grant) - revoke)


def grant_role(session: Session, officer_id: str, role: Role, approval: Approval | None) -> Officer:
    return change_roles(session, officer_id, {role}, set(), approval)


def revoke_role(
    session: Session, officer_id: str, role: Role, approval: Approval | None
) -> Officer:
    return change_roles(session, officer_id, set(), {role}, approval)


# -- status ------------------------------------------------------------------------------
_MOVES = {
    OfficerStatus.SUSPENDED: ({OfficerStatus.ACTIVE}, "suspend an officer", "suspended"),
    OfficerStatus.ACTIVE: ({OfficerStatus.SUSPENDED}, "reinstate an officer", "reinstated"),
    OfficerStatus.LEFT: (
        {OfficerStatus.ACTIVE, OfficerStatus.SUSPENDED},
        "mark an officer as left",
        "marked as left",
    ),
}


def status_purpose(status: OfficerStatus) -> str:
    """The approval purpose for moving an officer to ``status``."""
    return _MOVES[status][1]


def set_status(
    session: Session,
    officer_id: str,
    status: OfficerStatus,
    approval: Approval | None,
    reason: str = "",
) -> Officer:
    """Suspend, reinstate or mark as left. Leaving ends every role the officer holds and
    cannot be undone (a returning officer gets a new account)."""
    sources, what, done = _MOVES[status]
    acting = session.require(ADMINS, what, "officer", officer_id)
    officer = _target(session, officer_id, what)
    if officer.status not in sources:
        raise InvalidInput(f"'{officer.username}' is {officer.status.value} and cannot be {done}.")
    reason = " ".join(check_storable(reason, "Reason").split())
    if len(reason) > 500:
        raise InvalidInput("Reason: at most 500 characters.")
    detail: dict[str, Any] = {"change": "status", "from": officer.status.value, "to": status.value}
    detail |= approval_detail(session, approval, what, officer_id)
    now = iso_utc(utc_now())
    ended = sorted(officer.roles) if status is OfficerStatus.LEFT else []
    if ended:
        detail["roles_ended"] = [r.value for r in ended]
    with exclusive(session.paths.keys):
        slots = load_slots(session.paths, session.keyring)
        with session.change(
            AuditEvent(Action.UPDATE, "officer", officer_id, detail, reason=reason), acting
        ):
            session.db.officers.set_status(officer_id, status)
            for role in ended:
                session.db.officers.revoke(officer_id, role, now, session.officer.id)
            # The slot follows the status in the same transaction: if the slot file cannot
            # be saved, the status change rolls back with it.
            detail["key_slot"] = apply_status_to_slot(
                session.db, slots, officer_id, status, session.vault_key, now
            )
            slots.save(session.paths.keys)
    return replace(officer, status=status, roles=officer.roles - set(ended))


# -- accreditation -----------------------------------------------------------------------
def record_accreditation(session: Session, officer_id: str, new: NewAccreditation) -> Accreditation:
    acting = session.require(ADMINS, "record an accreditation", "officer", officer_id)
    checked = check_accreditation(new, utc_now().date())
    _target(session, officer_id, "record an accreditation")
    record = Accreditation(
        str(uuid.uuid4()),
        officer_id,
        checked.course,
        checked.completed_on,
        checked.hours,
        checked.expires_on,
        session.officer.id,
        iso_utc(utc_now()),
    )
    event = AuditEvent(
        Action.CREATE,
        "accreditation",
        record.id,
        {"officer_id": officer_id, "fields": ["course", "completed_on", "hours", "expires_on"]},
    )
    with session.change(event, acting):
        AccreditationRepository(session.db.conn).add(record)
    return record
