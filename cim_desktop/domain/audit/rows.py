"""What an audit row says, independent of how it is stored or chained."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    VAULT_CREATE = "vault-create"
    LOGIN = "login"
    LOGOUT = "logout"
    LOCK = "lock"
    FAILED_LOGIN = "failed-login"
    ACCOUNT_LOCKED = "account-locked"
    ACCOUNT_RELEASED = "account-released"
    RECOVERY = "recovery"
    RECOVERY_REFUSED = "recovery-refused"
    RESTORE_REFUSED = "restore-refused"
    # vault.keys failed its authentication code; recorded by the recovery that re-seals it.
    TAMPERING_FOUND = "tampering-found"
    # Events that waited in vault.keys beyond its cap, counted rather than kept.
    EVENTS_DROPPED = "events-dropped"
    VIEW = "view"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    EXPORT = "export"
    PRINT = "print"
    APPROVE = "approve"
    BREAK_GLASS = "break-glass"
    DENIED = "denied"
    BACKUP = "backup"
    RESTORE = "restore"
    MIGRATE = "migrate"
    VERIFY = "verify"
    STATE_MISMATCH = "state-mismatch"
    STATE_RECONCILED = "state-reconciled"
    # An officer's checkpoint-signing public key, recorded when it is made (store.checkpoint_keys)
    CHECKPOINT_KEY = "checkpoint-key"
    REKEY = "rekey"


class Outcome(StrEnum):
    OK = "ok"
    DENIED = "denied"
    FAILED = "failed"


@dataclass(frozen=True)
class AuditEvent:
    """One thing that happened, before it is given a place in the chain.

    ``entity_id`` is a URN or an internal id, never an identity. ``detail`` holds field names
    and safe values only.
    """

    action: Action
    entity_type: str = ""
    entity_id: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    outcome: Outcome = Outcome.OK


@dataclass(frozen=True)
class AuditRow:
    seq: int
    ts: str
    user_id: str
    username: str
    role: str
    session_id: str
    action: str
    entity_type: str
    entity_id: str
    detail: str
    reason: str
    outcome: str
    prev_hash: bytes
    hash: bytes
    state: str | None = None  # digest of the granting rows after this row (store.state)
    bound: str | None = None  # JSON: the granting rows this row changed, as they now stand


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    rows_checked: int
    head_seq: int
    head_hash: bytes
    first_bad_seq: int | None = None
    problem: str = ""
