"""Audit events that happen while the database is closed, waiting in ``vault.keys``.

Only what can happen before the vault key is known waits here: failed logins, lockouts and
refused restores or recoveries. Everything else is written straight into the audit chain.
Each field is checked on read, because these events become audit rows at the next unlock:
an event that is not exactly what this module writes marks the file as damaged.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from cim_desktop.domain.audit.rows import Action
from cim_desktop.domain.clock import iso_utc, parse_iso_utc, utc_now
from cim_desktop.security.safe_json import int_in, text_ok

MAX_PENDING_EVENTS = 1_000
PENDING_ACTIONS = frozenset(
    {Action.FAILED_LOGIN, Action.ACCOUNT_LOCKED, Action.RESTORE_REFUSED, Action.RECOVERY_REFUSED}
)
_EVENT_KEYS = frozenset({"event_id", "action", "user_id", "username", "occurred_at", "detail"})
_EVENT_ID = re.compile(r"[0-9a-f]{32}")
# The detail a pending event may carry, each with its bound: text length or integer range.
# With at most MAX_PENDING_EVENTS events this also bounds their total size (about 400 KiB).
_DETAIL_TEXT = {"cause": 80, "method": 40}
_DETAIL_INT = {"failures": (0, 10_000)}
MAX_ID_CHARS = 64
MAX_USERNAME_CHARS = 64


class BadEvent(ValueError):
    pass


def new_event(action: Action, user_id: str, username: str, **detail: Any) -> dict[str, Any]:
    if action not in PENDING_ACTIONS:
        raise ValueError(f"{action} does not wait in vault.keys")
    event = {
        "event_id": uuid.uuid4().hex,
        "action": action.value,
        "user_id": user_id,
        "username": username,
        "occurred_at": iso_utc(utc_now()),
        "detail": detail,
    }
    check_event(event, {user_id: username} if user_id else {})
    return event


def _check_detail(detail: Any) -> None:
    if not isinstance(detail, dict):
        raise BadEvent("detail")
    for key, value in detail.items():
        if key in _DETAIL_TEXT:
            if not text_ok(value, _DETAIL_TEXT[key]):
                raise BadEvent(key)
        elif key in _DETAIL_INT:
            low, high = _DETAIL_INT[key]
            if not int_in(value, low, high):
                raise BadEvent(key)
        else:
            raise BadEvent("detail key")


def check_event(event: Any, usernames: Mapping[str, str]) -> dict[str, Any]:
    """Return ``event`` if every field is what ``new_event`` writes; else raise ``BadEvent``.

    ``usernames`` maps the officer ids that have a slot to their usernames: an event names
    one of them with that username, or nobody (an unknown username was tried).
    """
    if not isinstance(event, dict) or set(event) != _EVENT_KEYS:
        raise BadEvent("fields")
    if not isinstance(event["event_id"], str) or not _EVENT_ID.fullmatch(event["event_id"]):
        raise BadEvent("event_id")
    if event["action"] not in {a.value for a in PENDING_ACTIONS}:
        raise BadEvent("action")
    user_id, username = event["user_id"], event["username"]
    if not text_ok(user_id, MAX_ID_CHARS) or not text_ok(username, MAX_USERNAME_CHARS):
        raise BadEvent("officer")
    if (user_id or username) and usernames.get(user_id) != username:
        raise BadEvent("officer")
    when = event["occurred_at"]
    if not text_ok(when, 40):
        raise BadEvent("occurred_at")
    try:
        canonical = iso_utc(parse_iso_utc(when))
    except (ValueError, OverflowError):
        raise BadEvent("occurred_at") from None
    if canonical != when:
        raise BadEvent("occurred_at")
    _check_detail(event["detail"])
    return event


def check_events(events: Any, usernames: Mapping[str, str]) -> list[dict[str, Any]]:
    if not isinstance(events, list) or len(events) > MAX_PENDING_EVENTS:
        raise BadEvent("list")
    checked = [check_event(e, usernames) for e in events]
    if len({e["event_id"] for e in checked}) != len(checked):
        raise BadEvent("duplicate event_id")
    return checked


def orphaned(event: dict[str, Any], usernames: Mapping[str, str]) -> dict[str, Any]:
    """The event as it may be written once its officer's slot is gone: it names nobody."""
    if event["user_id"] in usernames:
        return event
    return {**event, "user_id": "", "username": ""}
