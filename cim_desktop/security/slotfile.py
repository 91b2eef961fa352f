"""The key-slot file ``vault.keys``: slots, lockout counters and audit events in waiting.

Failed logins happen while the database is closed, so they are counted here and carried into
the audit chain at the next successful unlock. The file holds no secret in the clear: slots are
AES-GCM ciphertexts, the rest is usernames, times and counters.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from cim_desktop.domain.clock import iso_utc, parse_iso_utc
from cim_desktop.domain.officers.lockout import LockoutPolicy
from cim_desktop.domain.policy.settings import BY_KEY
from cim_desktop.errors import InvalidInput, VaultBusy, VaultCorrupt, VaultTampered
from cim_desktop.security import safe_json
from cim_desktop.security.atomic import atomic_write
from cim_desktop.security.kdf import hkdf
from cim_desktop.security.keyslots import RecoverySlot, UserSlot
from cim_desktop.security.pending_events import (
    MAX_PENDING_EVENTS,
    BadEvent,
    check_events,
    orphaned,
)
from cim_desktop.security.safe_json import int_in, text_ok

FORMAT = "cim-desktop-keyslots"
# Version 2 carries "mac": HMAC-SHA256 over the rest of the document, under a key derived
# from the device secret. Version 1 had none; it is refused, or stripping the MAC and the
# version number would be a way round it.
FORMAT_VERSION = 2
LOCK_TIMEOUT_SECONDS = 15.0
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 16
MAX_FAILURES_KEPT = 100
MAX_DROPPED = 10**12
_MAC_INFO = b"cim-desktop/v1/slotfile-mac|"
_USERNAME = re.compile(r"[\w.-]{2,64}")

__all__ = [
    "FORMAT_VERSION",
    "MAX_PENDING_EVENTS",
    "Lockout",
    "SlotFile",
    "check_username",
    "exclusive",
]


def _mac_key(device_secret: bytes, vault_id: str) -> bytes:
    return hkdf(device_secret, _MAC_INFO + vault_id.encode())


def _mac(document: dict[str, Any], key: bytes) -> str:
    """HMAC over the canonical encoding of everything but the MAC itself, so any field
    added to the file later (slots included) is covered without touching this code."""
    body = {k: v for k, v in document.items() if k != "mac"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, canonical.encode("ascii"), hashlib.sha256).hexdigest()


def _lockout_bounds(key: str) -> tuple[int, int]:
    setting = BY_KEY[key]
    assert setting.minimum is not None and setting.maximum is not None  # declared in policy
    return setting.minimum, setting.maximum


def check_lockout_policy(policy: LockoutPolicy) -> LockoutPolicy:
    """The lockout settings within the bounds the policy table declares; else ValueError."""
    if not (
        int_in(policy.max_failures, *_lockout_bounds("lockout_max_failures"))
        and int_in(policy.window_minutes, *_lockout_bounds("lockout_window_minutes"))
    ):
        raise ValueError("lockout settings out of bounds")
    return policy


@dataclass
class Lockout:
    failures: list[datetime] = field(default_factory=list)
    locked_at: datetime | None = None


UNIT_NAME_MAX = 120


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
    # The unit's name, mirrored from the database so that the login window can say whose vault
    # this is before it opens (shown only when the file's MAC checks with this workstation's
    # device secret). Not secret; docs/security.md says what a copy of the folder reveals.
    unit_name: str = ""
    pending_dropped: int = 0  # events the cap pushed out, not yet counted in the chain
    # The MAC as read and the document it claims to cover; None for a file made in memory.
    stored_mac: str | None = field(default=None, repr=False, compare=False)
    _read_doc: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    # Set once the device secret is known (verified or freshly created): needed to save.
    _key: bytes | None = field(default=None, repr=False, compare=False)

    def find_user(self, username: str) -> UserSlot | None:
        wanted = username.strip().casefold()
        for slot in self.users.values():
            if slot.username.casefold() == wanted:
                return slot
        return None

    def lockout(self, user_id: str) -> Lockout:
        return self.lockouts.setdefault(user_id, Lockout())

    def add_pending(self, event: dict[str, Any]) -> None:
        # Bounded so that a scripted guessing attack cannot fill the disk or make the next
        # unlock slow; the newest events are kept and what was dropped is counted.
        self.pending_events.append(event)
        if len(self.pending_events) > MAX_PENDING_EVENTS:
            dropped = len(self.pending_events) - MAX_PENDING_EVENTS
            self.pending_events = self.pending_events[dropped:]
            self.pending_dropped = min(self.pending_dropped + dropped, MAX_DROPPED)

    # -- authentication ------------------------------------------------------------------
    def mac_matches(self, device_secret: bytes) -> bool:
        """True if the file as read carries a MAC made with ``device_secret``."""
        if self._read_doc is None or self.stored_mac is None:
            return False
        expected = _mac(self._read_doc, _mac_key(device_secret, self.vault_id))
        return hmac.compare_digest(expected, self.stored_mac)

    def verify(self, device_secret: bytes, name: str = "vault.keys") -> None:
        """Check the MAC with the device secret and allow saving; ``VaultTampered`` if not."""
        if self._read_doc is not None and not self.mac_matches(device_secret):
            raise VaultTampered(name)
        self.bind(device_secret)

    def bind(self, device_secret: bytes) -> None:
        """Save under ``device_secret`` from now on, without checking what was read (for a
        file made in memory, or re-sealed by recovery after it reported what it found)."""
        self._key = _mac_key(device_secret, self.vault_id)

    # -- persistence -------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        names = {uid: slot.username for uid, slot in self.users.items()}
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "vault_id": self.vault_id,
            "recovery": self.recovery.to_json(),
            "users": [slot.to_json() for slot in self.users.values()],
            "lockouts": {
                uid: {
                    "failures": [iso_utc(t) for t in lock.failures[-MAX_FAILURES_KEPT:]],
                    "locked_at": iso_utc(lock.locked_at) if lock.locked_at else None,
                }
                for uid, lock in self.lockouts.items()
                if (lock.failures or lock.locked_at) and uid in self.users
            },
            "pending_events": [orphaned(e, names) for e in self.pending_events],
            "pending_dropped": self.pending_dropped,
            "lockout_policy": {
                "max_failures": self.lockout_policy.max_failures,
                "window_minutes": self.lockout_policy.window_minutes,
            },
            "memory_security": self.memory_security,
            "unit_name": self.unit_name,
        }

    def save(self, path: Path) -> None:
        if self._key is None:
            raise RuntimeError("vault.keys was not verified with the device secret")
        check_lockout_policy(self.lockout_policy)
        document = self.to_json()
        document["mac"] = _mac(document, self._key)
        data = json.dumps(document, indent=1, sort_keys=True).encode("utf-8")
        if len(data) > MAX_FILE_BYTES:
            raise InvalidInput("The key-slot file would grow beyond its size limit.")
        atomic_write(path, data)
        self.stored_mac, self._read_doc = document["mac"], None

    @classmethod
    def load(cls, path: Path, *, require_mac: bool = True) -> SlotFile:
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            raise VaultCorrupt(
                f"The key-slot file {path.name} is missing beside the vault."
            ) from None
        return cls.parse(raw, path.name, require_mac=require_mac)

    @classmethod
    def parse(cls, raw: bytes, name: str = "vault.keys", *, require_mac: bool = True) -> SlotFile:
        """Read a key-slot file, checking every field and bound but not yet the MAC (that
        needs the device secret: ``verify``). ``require_mac=False`` also reads a file
        without one (recovery, which reports it; a backup manifest, which is signed)."""
        data = safe_json.loads(
            raw, max_bytes=MAX_FILE_BYTES, max_depth=MAX_DEPTH, what=f"The key-slot file {name}"
        )
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise VaultCorrupt(f"{name} is not a cim-desktop key-slot file.")
        version, mac = data.get("version"), data.get("mac")
        sealed = (
            version == FORMAT_VERSION
            and isinstance(mac, str)
            and re.fullmatch(r"[0-9a-f]{64}", mac) is not None
        )
        if not sealed and (require_mac or version not in (1, FORMAT_VERSION)):
            if version not in (1, FORMAT_VERSION):
                raise VaultCorrupt(f"{name} has an unsupported format version.")
            raise VaultTampered(name, unsealed=True)
        try:
            slot_file = cls._from_document(data)
        except (KeyError, TypeError, ValueError, AttributeError, BadEvent):
            raise VaultCorrupt(f"The key-slot file {name} is damaged.") from None
        slot_file.stored_mac = mac if sealed else None
        slot_file._read_doc = data
        return slot_file

    @classmethod
    def _from_document(cls, data: dict[str, Any]) -> SlotFile:
        vault_id = data["vault_id"]
        if not isinstance(vault_id, str) or str(uuid.UUID(vault_id)) != vault_id:
            raise ValueError("vault_id")
        if not isinstance(data["users"], list):
            raise TypeError("users")
        for entry in data["users"]:
            # Checked here as well as in the slot: these strings reach messages and rows.
            if not text_ok(entry["user_id"], 64, empty=False) or not (
                isinstance(entry["username"], str) and _USERNAME.fullmatch(entry["username"])
            ):
                raise ValueError("user")
        users = {u.user_id: u for u in (UserSlot.from_json(e) for e in data["users"])}
        if len(users) != len(data["users"]):
            raise ValueError("duplicate user id")
        if len({u.username.casefold() for u in users.values()}) != len(users):
            raise ValueError("duplicate username")
        lockouts: dict[str, Lockout] = {}
        for uid, entry in data["lockouts"].items():
            failures, locked_at = entry["failures"], entry["locked_at"]
            if not isinstance(failures, list) or len(failures) > MAX_FAILURES_KEPT:
                raise ValueError("failures")
            if uid in users:  # an officer whose slot was removed leaves nothing to lock
                lockouts[uid] = Lockout(
                    [_time(t) for t in failures],
                    _time(locked_at) if locked_at is not None else None,
                )
        policy = data["lockout_policy"]
        dropped = data.get("pending_dropped", 0)
        if not int_in(dropped, 0, MAX_DROPPED):
            raise ValueError("pending_dropped")
        names = {uid: u.username for uid, u in users.items()}
        memory_security = data.get("memory_security", False)
        if not isinstance(memory_security, bool):
            raise TypeError("memory_security")
        unit_name = data.get("unit_name", "")
        if not text_ok(unit_name, UNIT_NAME_MAX):
            raise ValueError("unit_name")
        return cls(
            vault_id=vault_id,
            recovery=RecoverySlot.from_json(data["recovery"]),
            users=users,
            lockouts=lockouts,
            pending_events=check_events(data["pending_events"], names),
            lockout_policy=check_lockout_policy(
                LockoutPolicy(policy["max_failures"], policy["window_minutes"])
            ),
            pending_dropped=dropped,
            memory_security=memory_security,
            unit_name=unit_name,
        )


def _time(text: Any) -> datetime:
    if not text_ok(text, 40):
        raise ValueError("time")
    moment = parse_iso_utc(text)
    if iso_utc(moment) != text:
        raise ValueError("time")
    return moment


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
        raise InvalidInput("A username is 2 to 64 letters, digits, dots, hyphens or underscores.")
    return name
