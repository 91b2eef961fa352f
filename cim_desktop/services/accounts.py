"""Officer accounts as far as the vault foundation needs them: add and release a lockout."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from cim_desktop.domain.audit import Action, AuditEvent
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.domain.officers import Officer, OfficerStatus
from cim_desktop.domain.passwords import check_new_password
from cim_desktop.domain.roles import Role
from cim_desktop.errors import InvalidInput
from cim_desktop.security.keyslots import wrap_for_user
from cim_desktop.security.slotfile import check_username, exclusive
from cim_desktop.services.session import Session
from cim_desktop.services.vault import load_slots

ADMINS = frozenset({Role.ADMINISTRATOR})


def add_officer(session: Session, username: str, password: str, roles: Iterable[Role],
                display_name: str = "") -> Officer:
    acting = session.require(ADMINS, "add an officer", "officer")
    username = check_username(username)
    roles = frozenset(roles)
    if not roles:
        raise InvalidInput("Give the officer at least one role.")
    check_new_password(password, username)
    with exclusive(session.paths.keys):
        return _add_officer(session, acting, username, password, roles, display_name)


def _add_officer(session: Session, acting: Role, username: str, password: str,
                 roles: frozenset[Role], display_name: str) -> Officer:
    slots = load_slots(session.paths)
    if slots.find_user(username) is not None or session.db.officers.by_username(username):
        raise InvalidInput(f"An officer with the username '{username}' already exists.")
    officer = Officer(str(uuid.uuid4()), username, display_name.strip() or username,
                      OfficerStatus.ACTIVE, roles, iso_utc(utc_now()))
    device_secret = session.keyring.get(session.vault_id)
    slots.users[officer.id] = wrap_for_user(
        session.vault_key, device_secret, password,
        vault_id=session.vault_id, user_id=officer.id, username=username,
    )
    event = AuditEvent(Action.CREATE, "officer", officer.id,
                       {"roles": sorted(r.value for r in roles)})
    with session.change(event, acting):
        session.db.officers.add(officer, granted_by=session.officer.id)
        # Written inside the transaction: if the slot cannot be saved, the officer row and
        # its audit row roll back with it.
        slots.save(session.paths.keys)
    return officer


def list_officers(session: Session) -> list[Officer]:
    acting = session.require(ADMINS | {Role.AUDITOR, Role.CONTROLLER}, "list officers",
                             "officer")
    return session.audited_read(AuditEvent(Action.VIEW, "officer", "*"),
                                session.db.officers.all, acting)


def locked_usernames(session: Session) -> list[str]:
    slots = load_slots(session.paths)
    return sorted(slots.users[uid].username for uid, lock in slots.lockouts.items()
                  if lock.locked_at is not None and uid in slots.users)


def release(session: Session, username: str, reason: str = "") -> None:
    """Release a locked account. Only another officer with the administrator role may."""
    acting = session.require(ADMINS, "release a locked account", "officer")
    with exclusive(session.paths.keys):
        _release(session, acting, username, reason)


def _release(session: Session, acting: Role, username: str, reason: str) -> None:
    slots = load_slots(session.paths)
    slot = slots.find_user(username)
    if slot is None:
        raise InvalidInput(f"There is no officer with the username '{username}'.")
    if slot.user_id == session.officer.id:
        raise InvalidInput("An officer cannot release their own account.")
    lock = slots.lockouts.get(slot.user_id)
    if lock is None or lock.locked_at is None:
        raise InvalidInput(f"The account '{slot.username}' is not locked.")
    event = AuditEvent(Action.ACCOUNT_RELEASED, "officer", slot.user_id,
                       {"failures": len(lock.failures)}, reason=reason)
    with session.change(event, acting):
        lock.failures = []
        lock.locked_at = None
        slots.save(session.paths.keys)
