"""The key-slot file ``vault.keys``: slots, lockout counters and audit events in waiting.

Failed logins happen while the database is closed, so they are counted here and carried into
the audit chain at the next successful unlock. The file holds no secret in the clear: slots are
AES-GCM ciphertexts, the rest is usernames, times and counters.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from cim_desktop.domain.clock import iso_utc, parse_iso_utc
from cim_desktop.domain.lockout import LockoutPolicy
from cim_desktop.errors import InvalidInput, VaultBusy, VaultCorrupt
from cim_desktop.security.atomic import atomic_write
from cim_desktop.security.keyslots import RecoverySlot, UserSlot

FORMAT = "cim-desktop-keyslots"
FORMAT_VERSION = 1
MAX_PENDING_EVENTS = 10_000
LOCK_TIMEOUT_SECONDS = 15.0


@dataclass
class Lockout:
    failures: list[datetime] = field(default_factory=list)
    locked_at: datetime | None = None


@dataclass
class SlotFile:
    vault_id: str
    recovery: RecoverySlot
    users: dict[str, UserSlot] = field(default_factory=dict)  # by user id
    lockouts: dict[str, Lockout] = field(default_factory=dict)  # by user id
    pending_events: list[dict[str, Any]] = field(default_factory=list)
    lockout_policy: LockoutPolicy = field(default_factory=LockoutPolicy)
    # The site policy's SQLCipher memory security, mirrored like the lockout settings: it
    # must be known before the database is opened.
    memory_security: bool = False

    def find_user(self, username: str) -> UserSlot | None:
        wanted = username.strip().casefold()
        for slot in self.users.values():
            if slot.username.casefold() == wanted:
                return slot
        return None

    def lockout(self, user_id: str) -> Lockout:
        return self.lockouts.setdefault(user_id, Lockout())

    def add_pending(self, event: dict[str, Any]) -> None:
        # Bounded so that a scripted guessing attack cannot fill the disk; the newest events
        # and a count of what was dropped are kept.
        self.pending_events.append(event)
        if len(self.pending_events) > MAX_PENDING_EVENTS:
            dropped = len(self.pending_events) - MAX_PENDING_EVENTS
            self.pending_events = self.pending_events[dropped:]

    # -- persistence -------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "vault_id": self.vault_id,
            "recovery": self.recovery.to_json(),
            "users": [slot.to_json() for slot in self.users.values()],
            "lockouts": {
                uid: {
                    "failures": [iso_utc(t) for t in lock.failures],
                    "locked_at": iso_utc(lock.locked_at) if lock.locked_at else None,
                }
                for uid, lock in self.lockouts.items()
                if lock.failures or lock.locked_at
            },
            "pending_events": self.pending_events,
            "lockout_policy": {
                "max_failures": self.lockout_policy.max_failures,
                "window_minutes": self.lockout_policy.window_minutes,
            },
            "memory_security": self.memory_security,
        }

    def save(self, path: Path) -> None:
        data = json.dumps(self.to_json(), indent=1, sort_keys=True).encode("utf-8")
        atomic_write(path, data)

    @classmethod
    def load(cls, path: Path) -> SlotFile:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise VaultCorrupt(f"The key-slot file {path.name} is missing beside the vault.") \
                from None
        return cls.parse(raw, path.name)

    @classmethod
    def parse(cls, raw: bytes, name: str = "vault.keys") -> SlotFile:
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise VaultCorrupt(f"The key-slot file {name} is damaged or not a key-slot file.") \
                from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise VaultCorrupt(f"{name} is not a cim-desktop key-slot file.")
        if data.get("version") != FORMAT_VERSION:
            raise VaultCorrupt(f"{name} has an unsupported format version.")
        try:
            users = [UserSlot.from_json(u) for u in data["users"]]
            lockouts = {
                str(uid): Lockout(
                    [parse_iso_utc(t) for t in entry["failures"]],
                    parse_iso_utc(entry["locked_at"]) if entry["locked_at"] else None,
                )
                for uid, entry in data.get("lockouts", {}).items()
            }
            policy = data.get("lockout_policy", {})
            memory_security = data.get("memory_security", False)
            if not isinstance(memory_security, bool):
                raise TypeError("memory_security")
            slot_file = cls(
                vault_id=str(data["vault_id"]),
                recovery=RecoverySlot.from_json(data["recovery"]),
                users={u.user_id: u for u in users},
                lockouts=lockouts,
                pending_events=list(data.get("pending_events", [])),
                lockout_policy=LockoutPolicy(
                    int(policy.get("max_failures", 5)), int(policy.get("window_minutes", 15))
                ),
                memory_security=memory_security,
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise VaultCorrupt(f"The key-slot file {name} is damaged.") from None
        if len({u.username.casefold() for u in users}) != len(users):
            raise VaultCorrupt(f"The key-slot file {name} is damaged (duplicate usernames).")
        return slot_file


@contextlib.contextmanager
def exclusive(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the slot file's lock across a read-modify-write.

    Without it, a login failure counted in one process could save an older copy of the file
    over a slot another process just added, and that officer could no longer log in.
    """
    wait = LOCK_TIMEOUT_SECONDS if timeout is None else timeout
    lock = FileLock(str(path.with_name(path.name + ".lock")), timeout=wait)
    try:
        with lock:
            yield
    except Timeout:
        raise VaultBusy(
            "The vault's key-slot file is in use by another cim-desktop process. Try again."
        ) from None


def check_username(username: str) -> str:
    name = username.strip()
    if not 2 <= len(name) <= 64 or not all(ch.isalnum() or ch in "._-" for ch in name):
        raise InvalidInput(
            "A username is 2 to 64 letters, digits, dots, hyphens or underscores."
        )
    return name
