"""Failed-login lockout: a pure rule over the times of recent failures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    window_minutes: int = 15


def recent_failures(
    failures: list[datetime], now: datetime, policy: LockoutPolicy
) -> list[datetime]:
    horizon = now - timedelta(minutes=policy.window_minutes)
    return [t for t in failures if t > horizon]


def should_lock(failures: list[datetime], now: datetime, policy: LockoutPolicy) -> bool:
    return len(recent_failures(failures, now, policy)) >= policy.max_failures
