"""Officer accounts: creating them, passwords, lockouts and the officer list.

A password is never stored: an officer's key slot is their own key pair wrapped under it (and
the vault key sealed to that pair), so setting a password means re-wrapping that slot (with a
fresh Argon2id salt) while holding the key-slot file's lock. New officers and reset passwords
must be changed at the next login.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from cim_desktop.domain.audit.rows import Action, AuditEvent
from cim_desktop.domain.clock import iso_utc, utc_now
from cim_desktop.domain.officers.model import Officer, OfficerStatus
from cim_desktop.domain.officers.passwords import check_new_password
from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.officers.rules import (
    Accreditation,
    NewAccreditation,
    Particulars,
    check_accreditation,
    check_particulars,
)
from cim_desktop.errors import InvalidInput, WrongCredentials
from cim_desktop.security.keyslots import OfficerKeys, open_officer_keys, seal_user, signer_key_for
from cim_desktop.security.sealing import new_private_key, public_key
from cim_desktop.security.slotfile import check_username, exclusive
from cim_desktop.services.access.approval import Approval
from cim_desktop.services.officers.management import (
    ADMINS,
    OFFICER_READERS,
    PURPOSE_ADD,
    PURPOSE_RESET,
    accreditation_gap,
    approval_detail,
    current_policy,
    deny,
)
from cim_desktop.services.session import Session
from cim_desktop.services.vault import keying, signing_keys
from cim_desktop.services.vault.lifecycle import authenticate_with_signer, load_slots
from cim_desktop.store.officers.accreditations import AccreditationRepository

_ACCREDITATION_FIELDS = ["course", "completed_on", "hours", "expires_on"]


def add_officer(
    session: Session,
    username: str,
    password: str,
    roles: Iterable[Role],
    display_name: str = "",
    *,
    particulars: Particulars | None = None,
    accreditations: Sequence[NewAccreditation] = (),
    approval: Approval | None = None,
) -> Officer:
    """Create an officer with a temporary password they must change at first login.

    Roles given here are grants like any other: they need a second administrator's approval
    (bootstrap rule aside), and handler or controller needs the accreditation recorded in
    ``accreditations`` when the policy asks for it.
    """
    acting = session.require(ADMINS, "add an officer", "officer")
    username = check_username(username)
    roles = frozenset(roles)
    p = check_particulars(
        particulars or Particulars(display_name.strip() or username), current_policy(session).ranks
    )
    check_new_password(password, username)
    today = utc_now().date()
    checked = [check_accreditation(a, today) for a in accreditations]
    with session.db.reading():
        taken = session.db.officers.by_username(username)
        clash = session.db.officers.by_collar_number(p.collar_number) if p.collar_number else None
    if taken is not None:
        raise InvalidInput(f"An officer with the username '{username}' already exists.")
    if clash is not None:
        raise InvalidInput("Collar number: another officer already has this number.")
    officer = Officer(
        str(uuid.uuid4()),
        username,
        p.display_name,
        OfficerStatus.ACTIVE,
        roles,
        iso_utc(utc_now()),
        p.collar_number,
        p.rank,
        p.gender,
        must_change_password=True,
    )
    records = [
        Accreditation(
            str(uuid.uuid4()),
            officer.id,
            a.course,
            a.completed_on,
            a.hours,
            a.expires_on,
            session.officer.id,
            officer.created_at,
        )
        for a in checked
    ]
    with session.db.reading():
        gap = accreditation_gap(session, officer.id, roles, records)
    if gap:
        raise InvalidInput(gap)
    detail: dict[str, Any] = {
        "roles": sorted(r.value for r in roles),
        "fields": ["username", "display_name", "collar_number", "rank", "gender"],
    }
    if roles:
        detail |= approval_detail(session, approval, PURPOSE_ADD, officer.id)
    with exclusive(session.paths.keys):
        slots = load_slots(session.paths, session.keyring)
        if slots.find_user(username) is not None:
            raise InvalidInput(f"An officer with the username '{username}' already exists.")
        device_secret = session.keyring.get(session.vault_id)
        with session.change(AuditEvent(Action.CREATE, "officer", officer.id, detail), acting):
            session.db.officers.add(officer, granted_by=session.officer.id)
            private = new_private_key()
            slot = keying.new_officer_slot(
                session.db,
                session.vault_key,
                device_secret,
                password,
                officer_id=officer.id,
                username=username,
                private=private,
            )
            keys = OfficerKeys(private, public_key(keying.issuer(session.db)))
            new_signer = signing_keys.new_key()
            slots.users[officer.id] = signing_keys.seal_into(
                slot, signer_key_for(keys, session.vault_id), new_signer, session.vault_id
            )
            session.db.audit.append(
                session.actor_as(acting),
                signing_keys.record_event(
                    officer.id, new_signer, signing_keys.MADE_FOR_NEW_OFFICER
                ),
            )
            repo = AccreditationRepository(session.db.conn)
            for record in records:
                repo.add(record)
                session.db.audit.append(
                    session.actor_as(acting),
                    AuditEvent(
                        Action.CREATE,
                        "accreditation",
                        record.id,
                        {"officer_id": officer.id, "fields": _ACCREDITATION_FIELDS},
                    ),
                )
            # Written inside the transaction: if the slot cannot be saved, the officer row
            # and its audit row roll back with it.
            slots.save(session.paths.keys)
    return officer


def list_officers(session: Session) -> list[Officer]:
    acting = session.require(OFFICER_READERS, "list officers", "officer")
    return session.audited_read(
        AuditEvent(Action.VIEW, "officer", "*"), session.db.officers.all, acting
    )


# -- passwords ---------------------------------------------------------------------------
def change_password(session: Session, current: str, new: str) -> None:
    """Change the logged-in officer's own password: the current one must unwrap their slot.

    A wrong current password counts towards their lockout, as at login. The officer's
    checkpoint-signing key is re-sealed under the new password; after a temporary password
    (which an administrator knew) it is replaced by a new key, recorded in the chain.
    """
    officer = session.officer
    if not current:
        raise InvalidInput("Current password: enter your current password.")
    check_new_password(new, officer.username)
    if new == current:
        raise InvalidInput("The new password must differ from the current one.")
    with exclusive(session.paths.keys):
        slots = load_slots(session.paths, session.keyring)
        try:
            _, _, old_signer_key = authenticate_with_signer(
                session.paths, slots, officer.username, current, session.keyring
            )
        except WrongCredentials:
            raise InvalidInput("Current password: that is not your current password.") from None
        device_secret = session.keyring.get(session.vault_id)
        slot = slots.users[officer.id]
        keys = open_officer_keys(slot, device_secret, current, vault_id=session.vault_id)
        leaving_temporary = officer.must_change_password
        signer = (
            None
            if leaving_temporary
            else signing_keys.open_from(slot, old_signer_key, session.vault_id)
        )
        made = signer is None
        signer = signer or signing_keys.new_key()
        if leaving_temporary:
            # The administrator who set the temporary password could open the key pair
            # under it: a fresh pair, whose public key the vault records for re-keying.
            keys = OfficerKeys(new_private_key(), keys.issuer_public)
        # Otherwise the same key pair under the new password: the recorded public key stays.
        slot = seal_user(
            keys,
            session.vault_key,
            device_secret,
            new,
            vault_id=session.vault_id,
            user_id=officer.id,
            username=officer.username,
        )
        slots.users[officer.id] = signing_keys.seal_into(
            slot, signer_key_for(keys, session.vault_id), signer, session.vault_id
        )
        event = AuditEvent(
            Action.UPDATE,
            "officer",
            officer.id,
            {"change": "password", "forced": officer.must_change_password},
        )
        with session.change(event):
            if leaving_temporary:
                keying.slot_keys(session.db).set(officer.id, keys.public, iso_utc(utc_now()))
            session.db.officers.set_must_change_password(officer.id, False)
            if made:
                occasion = (
                    signing_keys.MADE_AFTER_TEMPORARY
                    if officer.must_change_password
                    else signing_keys.MADE_AT_PASSWORD_CHANGE
                )
                session.db.audit.append(
                    session.actor, signing_keys.record_event(officer.id, signer, occasion)
                )
            slots.save(session.paths.keys)
    session.officer = replace(session.officer, must_change_password=False)
    session.signer = signer


def reset_password(
    session: Session, officer_id: str, temporary: str, approval: Approval | None
) -> Officer:
    """Give another officer a temporary password they must change at their next login."""
    what = PURPOSE_RESET
    acting = session.require(ADMINS, what, "officer", officer_id)
    if officer_id == session.officer.id:
        raise InvalidInput("To change your own password, use My account (or cim user passwd).")
    with session.db.reading():
        officer = session.db.officers.get(officer_id)
    if officer is None:
        raise InvalidInput("There is no such officer.")
    if officer.status is OfficerStatus.LEFT:
        raise InvalidInput(f"'{officer.username}' has left; their password cannot be reset.")
    check_new_password(temporary, officer.username)
    detail: dict[str, Any] = {"change": "password-reset"}
    detail |= approval_detail(session, approval, what, officer_id, exclude=frozenset({officer_id}))
    with exclusive(session.paths.keys):
        slots = load_slots(session.paths, session.keyring)
        if officer_id not in slots.users:
            raise InvalidInput(f"'{officer.username}' has no key slot on this vault.")
        device_secret = session.keyring.get(session.vault_id)
        with session.change(AuditEvent(Action.UPDATE, "officer", officer_id, detail), acting):
            # A fresh key pair under the temporary password; a suspended officer's new slot
            # stays disabled until reinstatement.
            slots.users[officer_id] = keying.new_officer_slot(
                session.db,
                session.vault_key,
                device_secret,
                temporary,
                officer_id=officer_id,
                username=officer.username,
                enabled=officer.status is OfficerStatus.ACTIVE,
            )
            session.db.officers.set_must_change_password(officer_id, True)
            slots.save(session.paths.keys)
    return replace(officer, must_change_password=True)


# -- lockouts ----------------------------------------------------------------------------
def locked_usernames(session: Session) -> list[str]:
    slots = load_slots(session.paths, session.keyring)
    return sorted(
        slots.users[uid].username
        for uid, lock in slots.lockouts.items()
        if lock.locked_at is not None and uid in slots.users
    )


def release(session: Session, username: str, reason: str = "") -> None:
    """Release a locked account. Only another officer with the administrator role may."""
    acting = session.require(ADMINS, "release a locked account", "officer")
    with exclusive(session.paths.keys):
        _release(session, acting, username, reason)


def _release(session: Session, acting: Role, username: str, reason: str) -> None:
    slots = load_slots(session.paths, session.keyring)
    slot = slots.find_user(username)
    if slot is None:
        raise InvalidInput(f"There is no officer with the username '{username}'.")
    if slot.user_id == session.officer.id:
        raise deny(
            session,
            "release a locked account",
            slot.user_id,
            "An officer cannot release their own account.",
            "own account",
        )
    lock = slots.lockouts.get(slot.user_id)
    if lock is None or lock.locked_at is None:
        raise InvalidInput(f"The account '{slot.username}' is not locked.")
    event = AuditEvent(
        Action.ACCOUNT_RELEASED,
        "officer",
        slot.user_id,
        {"failures": len(lock.failures)},
        reason=reason,
    )
    with session.change(event, acting):
        lock.failures = []
        lock.locked_at = None
        slots.save(session.paths.keys)
