"""The audit trail as a person reads it: officers and records by name, details as text.

Rows store ids (an officer's id, a policy key) and a JSON detail document; reading them
here turns each into labelled text once, on the worker, with the officer names read in one
query per page. The stored row is kept alongside, unchanged, for export and the tooltip.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cim_desktop.domain.access.rules import TeamRole
from cim_desktop.domain.audit.rows import AuditRow
from cim_desktop.domain.officers.roles import Role
from cim_desktop.security import safe_json

# Detail keys whose value is an officer id (shown as the officer's name).
_OFFICER_KEYS = frozenset({"officer", "officer_id", "target", "approver", "signer"})
_KEY_LABELS = {
    "fields": "Fields changed",
    "tier": "Part",
    "listed": "Rows listed",
    "after": "After",
    "attempted": "Attempted",
    "cause": "Cause",
    "grant": "Break-glass grant",
    "break_glass": "Under break-glass grant",
    "minutes": "Minutes",
    "team_role": "Team role",
    "history": "History",
    "format": "Format",
    "rows": "Rows",
    "ended": "Ended",
    "shown": "Rows exported",
}
_RECORD_KINDS = {
    "source": "Source",
    "source-team": "Team of",
    "break-glass": "Break-glass on",
    "officer": "Officer",
    "accreditation": "Accreditation of",
    "association": "Associations of",
    "policy": "Local policy",
    "review": "Review",
    "vault": "Vault",
    "audit": "Audit",
    "session": "Session",
    "approval": "Approval",
}
_ROLE_VALUES = {r.value for r in Role}
_TEAM_ROLES = {r.value for r in TeamRole}
_OFFICER_ENTITIES = frozenset({"officer", "accreditation", "association"})


@dataclass(frozen=True)
class AuditLine:
    """One audit row with its labels."""

    row: AuditRow
    officer: str  # "Display Name (username)", or the username recorded
    record: str  # "Source DSU-2026-0001", "Officer Jo Bloggs (jbloggs)", "Local policy: ..."
    detail: str  # "Fields changed: pseudonym, status"


def officer_label(names: Mapping[str, tuple[str, str]], officer_id: str, recorded: str) -> str:
    if officer_id == "system":
        return "System"
    known = names.get(officer_id)
    if known is None:
        return recorded or (f"unknown officer ({officer_id[:8]})" if officer_id else "unknown")
    display, username = known
    return username if display == username else f"{display} ({username})"


def record_label(row: AuditRow, names: Mapping[str, tuple[str, str]]) -> str:
    kind = _RECORD_KINDS.get(row.entity_type, row.entity_type.replace("-", " ").capitalize())
    entity = row.entity_id
    owner = entity if entity in names else _detail_officer(row.detail)
    if row.entity_type in _OFFICER_ENTITIES and owner in names:
        # A declaration or an accreditation is filed under its own id; name whose it is.
        entity = officer_label(names, owner, "")
    elif row.entity_type == "policy":
        return f"{kind}: {entity.replace('_', ' ')}" if entity and entity != "*" else kind
    elif entity == "*":
        entity = "(list)"
    elif row.entity_type == "session" or (len(entity) > 24 and " " not in entity):
        entity = entity[:8] + ("…" if len(entity) > 8 else "")  # an internal id: its start
        # tells rows apart; the tooltip and the export hold it whole
    return f"{kind} {entity}".strip()


def _detail_officer(detail: str) -> str:
    """The officer a row's detail names (``officer_id`` or ``officer``), if it names one."""
    raw = str(detail).encode("utf-8", "replace")
    try:
        data = None if safe_json.nesting_too_deep(raw, 32) else json.loads(raw)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    found = data.get("officer_id", data.get("officer", ""))
    return found if isinstance(found, str) else ""


def role_label(role: str) -> str:
    if role in _ROLE_VALUES:
        return Role(role).label
    return {"none": "—", "system": "System", "": "—"}.get(role, role)


def _value_text(key: str, value: Any, names: Mapping[str, tuple[str, str]]) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        if key == "status" and len(value) == 2:
            return f"{value[0]} → {value[1]}"
        return ", ".join(str(v).replace("_", " ") for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if key in _OFFICER_KEYS and isinstance(value, str):
        return officer_label(names, value, value[:8])
    if key == "team_role" and value in _TEAM_ROLES:
        return TeamRole(value).label.lower()
    return str(value)


def describe(detail: str, reason: str = "", names: Mapping[str, tuple[str, str]] = {}) -> str:
    """The detail document as labelled text, whatever text the row holds."""
    try:
        raw = str(detail).encode("utf-8", "replace")
        # Depth checked first: json.loads would raise RecursionError on deep nesting.
        if safe_json.nesting_too_deep(raw, 32):
            raise ValueError("too deep")
        data = json.loads(raw) if detail else {}
    except ValueError:  # JSONDecodeError and UnicodeDecodeError too
        data = {"detail": detail}
    parts: list[str] = []
    if isinstance(data, dict):
        # Internal identifiers last; empty values add nothing to read.
        for key, value in sorted(data.items(), key=lambda kv: kv[0].endswith("_id")):
            if value is None:
                continue
            label = _KEY_LABELS.get(key, key.replace("_", " ").capitalize())
            parts.append(f"{label}: {_value_text(key, value, names)}")
    else:
        parts.append(str(data))
    if reason:
        parts.append(f"Reason: {reason}")
    return "; ".join(parts)


def officer_ids(row: AuditRow) -> set[str]:
    """The officer ids a row's labels need."""
    ids = {row.user_id}
    if row.entity_type in _OFFICER_ENTITIES:
        ids.add(row.entity_id)
    raw = str(row.detail).encode("utf-8", "replace")
    try:
        data = None if safe_json.nesting_too_deep(raw, 32) else json.loads(raw)
    except ValueError:
        data = None
    if isinstance(data, dict):
        ids |= {str(v) for k, v in data.items() if k in _OFFICER_KEYS and isinstance(v, str)}
    return ids


def label(rows: list[AuditRow], names: Mapping[str, tuple[str, str]]) -> list[AuditLine]:
    return [
        AuditLine(
            row,
            officer_label(names, row.user_id, row.username),
            record_label(row, names),
            describe(row.detail, "", names),
        )
        for row in rows
    ]
