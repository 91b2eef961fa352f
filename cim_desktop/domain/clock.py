"""The one place the application reads the wall clock, so tests can move time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def utc_now() -> datetime:
    return _now()


def set_clock(fn: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests only); ``None`` restores the system clock."""
    global _now
    _now = fn if fn is not None else (lambda: datetime.now(UTC))


def iso_utc(moment: datetime) -> str:
    """UTC timestamp with microseconds, the audit chain's canonical time format."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso_utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
