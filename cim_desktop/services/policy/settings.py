"""The local policy: read it, and change it with a second administrator's approval.

Any officer may read the policy; only an administrator may change it, and once the vault has
two active administrators every change needs the second one's approval. Each changed setting
gets its own audit row with its old and new value (policy values are neither secrets nor
identities), in the same transaction as the change. The lockout settings and SQLCipher's
memory security are also copied into the key-slot file, because login reads them there, before
the database is open.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cim_desktop.domain.audit.rows import Action, AuditEvent, Outcome
from cim_desktop.domain.clock import iso_utc, parse_iso_utc, utc_now
from cim_desktop.domain.findings import blocking
from cim_desktop.domain.officers.lockout import LockoutPolicy
from cim_desktop.domain.officers.model import OfficerStatus
from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.policy.settings import (
    BY_KEY,
    SETTINGS,
    Policy,
    Setting,
    SettingInvalid,
    check_findings,
)
from cim_desktop.errors import PermissionDenied
from cim_desktop.security.slotfile import exclusive
from cim_desktop.services.access.approval import Approval
from cim_desktop.services.session import Session
from cim_desktop.services.vault.lifecycle import load_slots
from cim_desktop.store.policy.values import PolicyRepository

ADMINS = frozenset({Role.ADMINISTRATOR})
PURPOSE = "change the local policy"
MEMORY_SECURITY = "cipher_memory_security"
BOOTSTRAP = f"bootstrap: no second {Role.ADMINISTRATOR.label.lower()} yet"
# An approval is for the change in front of both officers, not one to keep for later.
APPROVAL_MAX_AGE = timedelta(minutes=10)


@dataclass(frozen=True)
class SettingState:
    """One setting as the policy screen shows it: value in force and its last change."""

    setting: Setting
    value: Any
    changed_at: str = ""  # ISO UTC; '' if never changed
    changed_by: str = ""  # username
    approved_by: str = ""  # username; '' if never changed or a bootstrap change
    bootstrap: bool = False

    @property
    def is_default(self) -> bool:
        return bool(self.value == self.setting.default)


@dataclass(frozen=True)
class PolicyView:
    policy: Policy
    states: tuple[SettingState, ...]
    can_change: bool  # the officer holds the administrator role
    approval_needed: bool  # a second administrator exists, so changes need their approval

    def state(self, key: str) -> SettingState:
        return next(s for s in self.states if s.setting.key == key)


def current(session: Session) -> Policy:
    """The policy in force: shipped defaults overlaid with the unit's changes."""
    _check_open(session)
    with session.db.reading():
        return Policy.overlay(PolicyRepository(session.db.conn).values())


def lockout_of(policy: Policy) -> LockoutPolicy:
    return LockoutPolicy(
        policy.number("lockout_max_failures"), policy.number("lockout_window_minutes")
    )


def idle_lock_ms(session: Session) -> int:
    """How long the GUI waits without input before it locks, in milliseconds."""
    return current(session).number("idle_lock_minutes") * 60_000


def open_view(session: Session) -> PolicyView:
    """The policy screen's content; the read is audited."""
    return session.audited_read(
        AuditEvent(Action.VIEW, "policy", "*"), lambda: _build_view(session)
    )


def refresh_view(session: Session) -> PolicyView:
    """The same content again after a change (the change itself was audited)."""
    _check_open(session)
    with session.db.reading():
        return _build_view(session)


def approval_needed(session: Session) -> bool:
    """True once the vault has two active administrators (the bootstrap rule)."""
    _check_open(session)
    with session.db.reading():
        admins = [
            o
            for o in session.db.officers.all()
            if o.status is OfficerStatus.ACTIVE and o.has(Role.ADMINISTRATOR)
        ]
    return len(admins) >= 2


def prepare(session: Session, changes: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Validate ``changes``; return (old, new) for each setting that would really change.

    Raises ``SettingInvalid`` naming every refused setting. Changes nothing.
    """
    base = current(session)
    clean, found = check_findings(base, changes)
    if "ranks" in clean and all(f.field != "ranks" for f in found):
        problem = _ranks_in_use(session, base.ranks, clean["ranks"])
        if problem:
            found.append(blocking("policy.rank-in-use", problem, "ranks"))
    if found:
        raise SettingInvalid(found)
    return {key: (base[key], value) for key, value in clean.items() if value != base[key]}


def change(session: Session, key: str, value: Any, approval: Approval | None) -> None:
    change_many(session, {key: value}, approval)


def change_many(
    session: Session, changes: Mapping[str, Any], approval: Approval | None
) -> list[str]:
    """Change settings together; return the keys that changed (none if nothing differs).

    Restoring a setting's shipped default is changing it to ``setting.default``.
    """
    acting = session.require(ADMINS, PURPOSE, "policy")
    diffs = prepare(session, changes)
    if not diffs:
        return []
    approver_id, approval_detail = _check_approval(session, approval)
    with exclusive(session.paths.keys):
        _apply(session, acting, diffs, approver_id, approval_detail)
    return list(diffs)


# -- internals -------------------------------------------------------------------------------
def _check_open(session: Session) -> None:
    if session.closed:
        raise PermissionDenied("The vault is locked. Log in again to continue.")


def _build_view(session: Session) -> PolicyView:
    stored = PolicyRepository(session.db.conn).all()
    policy = Policy.overlay({k: row.value for k, row in stored.items() if row.value is not None})
    names = {o.id: o.username for o in session.db.officers.all()}
    states = []
    for setting in SETTINGS:
        row = stored.get(setting.key)
        if row is None:
            states.append(SettingState(setting, policy[setting.key]))
            continue
        states.append(
            SettingState(
                setting,
                policy[setting.key],
                row.changed_at,
                names.get(row.changed_by, "an unknown officer"),
                names.get(row.approved_by, "an unknown officer") if row.approved_by else "",
                bootstrap=not row.approved_by,
            )
        )
    admins = [
        o
        for o in session.db.officers.all()
        if o.status is OfficerStatus.ACTIVE and o.has(Role.ADMINISTRATOR)
    ]
    return PolicyView(
        policy, tuple(states), session.officer.has(Role.ADMINISTRATOR), len(admins) >= 2
    )


def _ranks_in_use(session: Session, old: tuple[str, ...], new: tuple[str, ...]) -> str:
    removed = set(old) - set(new)
    if not removed:
        return ""
    with session.db.reading():
        holders = [o.rank for o in session.db.officers.all() if o.rank in removed]
    if not holders:
        return ""
    rank = sorted(set(holders))[0]
    count = holders.count(rank)
    return (
        f"{BY_KEY['ranks'].label}: '{rank}' is held by {count} officer(s); give them "
        "another rank first."
    )


def _deny(session: Session, cause: str) -> None:
    session.record(
        AuditEvent(
            Action.DENIED,
            "policy",
            "",
            {"attempted": PURPOSE, "cause": cause},
            outcome=Outcome.DENIED,
        )
    )


def _check_approval(session: Session, approval: Approval | None) -> tuple[str, dict[str, Any]]:
    """(approver id or '' for bootstrap, what goes into each audit row's detail)."""
    if approval is None:
        if approval_needed(session):
            _deny(session, "no second administrator's approval")
            raise PermissionDenied(
                "A policy change needs a second administrator's approval: another active "
                "administrator must enter their username and password."
            )
        return "", {"approval": BOOTSTRAP}
    if approval.purpose != PURPOSE:
        _deny(session, "approval given for another purpose")
        raise PermissionDenied("That approval was given for something else; ask again.")
    age = utc_now() - parse_iso_utc(approval.approved_at)
    if age > APPROVAL_MAX_AGE or age < -APPROVAL_MAX_AGE:
        _deny(session, "approval expired")
        raise PermissionDenied("The second administrator's approval has expired; ask again.")
    if approval.approver_id == session.officer.id:
        _deny(session, "same officer")
        raise PermissionDenied("The approving officer must be a different person from you.")
    with session.db.reading():
        approver = session.db.officers.get(approval.approver_id)
    if (
        approver is None
        or approver.status is not OfficerStatus.ACTIVE
        or not approver.has(Role.ADMINISTRATOR)
    ):
        _deny(session, "approver not an active administrator")
        raise PermissionDenied("The approving officer must be an active administrator.")
    return approver.id, approval.detail()


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _apply(
    session: Session,
    acting: Role,
    diffs: dict[str, tuple[Any, Any]],
    approver_id: str,
    approval_detail: dict[str, Any],
) -> None:
    """Write the changes and their audit rows in one transaction; the caller holds the
    slot file's lock."""
    slots = load_slots(session.paths, session.keyring)
    old_mirror = (slots.lockout_policy, slots.memory_security)
    values = dict(current(session).values)
    values.update({key: new for key, (_, new) in diffs.items()})
    wanted = (lockout_of(Policy(values)), Policy(values).flag(MEMORY_SECURITY))
    repo = PolicyRepository(session.db.conn)
    actor = session.actor_as(acting)
    now = iso_utc(utc_now())
    saved = False
    try:
        with session.db.transaction():
            for key, (old, new) in diffs.items():
                stored = None if new == BY_KEY[key].default else _jsonable(new)
                repo.put(key, stored, now, session.officer.id, approver_id)
                detail = {"old": _jsonable(old), "new": _jsonable(new), **approval_detail}
                session.db.audit.append(actor, AuditEvent(Action.UPDATE, "policy", key, detail))
            # Also re-copied when the file has drifted from the database (a change whose
            # commit failed after the file was written and could not be put back).
            if (slots.lockout_policy, slots.memory_security) != wanted:
                slots.lockout_policy, slots.memory_security = wanted
                slots.save(session.paths.keys)
                saved = True
    except BaseException:
        if saved:
            slots.lockout_policy, slots.memory_security = old_mirror
            with contextlib.suppress(Exception):
                slots.save(session.paths.keys)
        raise
