"""SQLCipher's memory security: the site policy, its copy beside the vault, and what is in force.

The engine's switch is one per process and cannot be turned off once on, so a process takes
the value from the copy in ``vault.keys`` before its first connection (``start``) and keeps
it until it ends: a change of policy takes effect at the next start. Once the database is
open, ``reconcile`` compares the value in force with the database's policy, which is the
authority: a copy that drifted from it is put right for the next start, and a login that runs
with a value other than the policy's says so in its audit row. ``cim doctor`` reports the same
comparison (``check``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cim_desktop.domain.policy.settings import Policy
from cim_desktop.security.slotfile import SlotFile
from cim_desktop.store.connection import choose_memory_security
from cim_desktop.store.database import VaultDatabase
from cim_desktop.store.policy.values import PolicyRepository

KEY = "cipher_memory_security"


def _word(on: bool) -> str:
    return "on" if on else "off"


@dataclass(frozen=True)
class MemorySecurity:
    in_force: bool  # as the engine reads it back on this process's connection
    policy: bool  # the site policy in the database
    mirrored: bool  # the copy in vault.keys, which the next start applies
    mirror_repaired: bool = False  # reconcile put the copy right

    @property
    def as_policy(self) -> bool:
        return self.in_force == self.policy

    def login_detail(self) -> dict[str, Any]:
        """What a login row records: nothing when the policy is in force."""
        if self.as_policy:
            return {}
        return {"memory_security": _word(self.in_force), "policy": _word(self.policy)}

    def describe(self) -> str:
        text = f"SQLCipher memory security {_word(self.in_force)}"
        if self.as_policy:
            return f"{text}, as the site policy says"
        return (
            f"{text}, but the site policy says {_word(self.policy)}: it takes effect when "
            "the application next starts"
        )


def start(slots: SlotFile) -> bool:
    """Before the first connection: fix this process's value from the mirrored policy."""
    return choose_memory_security(slots.memory_security)


def policy_value(db: VaultDatabase) -> bool:
    with db.reading():
        return Policy.overlay(PolicyRepository(db.conn).values()).flag(KEY)


def in_force(db: VaultDatabase) -> bool:
    return db.pragmas().get(KEY) == "1"


def check(db: VaultDatabase, slots: SlotFile) -> MemorySecurity:
    return MemorySecurity(in_force(db), policy_value(db), slots.memory_security)


def reconcile(db: VaultDatabase, slots: SlotFile) -> MemorySecurity:
    """Compare after opening; correct ``slots``' copy of the policy (the caller holds the
    slot file's lock and saves it when ``mirror_repaired``)."""
    state = check(db, slots)
    if state.mirrored == state.policy:
        return state
    slots.memory_security = state.policy
    return MemorySecurity(state.in_force, state.policy, state.mirrored, mirror_repaired=True)
