"""Change sets: which kinds of record a piece of work changed, and which ones.

Screens refresh from these instead of calling each other. Every change to the vault commits
with its audit row, so the audit rows a transaction wrote say exactly what it changed: the
store turns each committed row into an entry here (see ``store.database``), which means a use
case cannot forget to report a change, and reading something (an audited view) reports only
that the audit trail grew.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from cim_desktop.domain.audit.rows import Action


class Kind(StrEnum):
    AUDIT = "audit"
    OFFICERS = "officers"
    POLICY = "policy"
    SOURCES = "sources"
    ACCESS = "access"  # break-glass grants and what they open
    REVIEW = "review"
    VAULT = "vault"


# The audit row's entity type says what kind of record it concerns.
_ENTITY_KINDS: Mapping[str, Kind] = MappingProxyType(
    {
        "officer": Kind.OFFICERS,
        "accreditation": Kind.OFFICERS,
        "association": Kind.OFFICERS,
        "policy": Kind.POLICY,
        "source": Kind.SOURCES,
        "source-team": Kind.SOURCES,
        "break-glass": Kind.ACCESS,
        "review": Kind.REVIEW,
        "vault": Kind.VAULT,
        "audit": Kind.AUDIT,
    }
)

# Actions that record a read or an attempt change no record of their own kind.
_READS = frozenset(
    {
        Action.VIEW,
        Action.EXPORT,
        Action.PRINT,
        Action.VERIFY,
        Action.LOGIN,
        Action.LOGOUT,
        Action.LOCK,
        Action.FAILED_LOGIN,
        Action.BACKUP,
    }
)

# Actions that put something in the controllers' review queue, whatever they concern.
_REVIEWED = frozenset(
    {
        Action.DENIED,
        Action.BREAK_GLASS,
        Action.ACCOUNT_LOCKED,
        Action.ACCOUNT_RELEASED,
    }
)


@dataclass(frozen=True)
class ChangeSet:
    """Kinds of record changed, each with the ids changed (empty: ids not known)."""

    changed: Mapping[Kind, frozenset[str]] = field(default_factory=dict)

    @property
    def kinds(self) -> frozenset[Kind]:
        return frozenset(self.changed)

    def __bool__(self) -> bool:
        return bool(self.changed)

    def touches(self, kinds: Iterable[Kind]) -> bool:
        return any(k in self.changed for k in kinds)

    def ids(self, kind: Kind) -> frozenset[str]:
        return self.changed.get(kind, frozenset())

    def merge(self, other: ChangeSet) -> ChangeSet:
        merged = dict(self.changed)
        for kind, ids in other.changed.items():
            merged[kind] = merged.get(kind, frozenset()) | ids
        return ChangeSet(MappingProxyType(merged))

    @classmethod
    def of(cls, *kinds: Kind, ids: Iterable[str] = ()) -> ChangeSet:
        chosen = frozenset(ids)
        return cls(MappingProxyType({k: chosen for k in kinds}))

    @classmethod
    def everything(cls) -> ChangeSet:
        """Something changed outside this window (another process): every kind may have."""
        return cls.of(*Kind)


EMPTY = ChangeSet()


def merged(sets: Iterable[ChangeSet]) -> ChangeSet:
    result = EMPTY
    for one in sets:
        result = result.merge(one)
    return result


def from_audit(action: str, entity_type: str, entity_id: str) -> ChangeSet:
    """What one committed audit row says changed."""
    kinds = {Kind.AUDIT}
    if action in _REVIEWED:
        kinds.add(Kind.REVIEW)
    if action == Action.BREAK_GLASS:
        kinds.add(Kind.ACCESS)
    if action not in _READS and action != Action.DENIED:
        kind = _ENTITY_KINDS.get(entity_type)
        if kind is not None:
            kinds.add(kind)
    ids = frozenset({entity_id}) if entity_id else frozenset()
    return ChangeSet(
        MappingProxyType({k: (frozenset() if k is Kind.AUDIT else ids) for k in kinds})
    )


@dataclass(frozen=True)
class Outcome[T]:
    """A use case's result together with what it changed."""

    value: T
    changes: ChangeSet
