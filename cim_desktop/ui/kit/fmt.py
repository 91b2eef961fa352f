"""Dates and times as the application shows them: one format, in the workstation's time.

Every screen, model and dialog formats through here, so a date reads the same everywhere:
``28 Nov 2026`` for a day, ``28 Nov 2026 14:05:09`` for a moment, ``14:05:09`` for a time
of day. Stored values stay UTC ISO 8601; only their display is local. A test scans ui/ for
date formatting anywhere else.
"""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtWidgets import QDateEdit

from cim_desktop.domain.clock import parse_iso_utc

DAY = "%d %b %Y"
TIME = "%H:%M:%S"
QT_DAY = "dd MMM yyyy"  # the same day format in Qt's notation, for date edits


def day(value: date) -> str:
    return value.strftime(DAY)


def moment(value: datetime) -> str:
    """A UTC moment in the workstation's local time, as officers read clocks."""
    return value.astimezone().strftime(f"{DAY} {TIME}")


def clock(value: datetime) -> str:
    """Only the local time of day (for today's events: a lock, a password change)."""
    return value.astimezone().strftime(TIME)


def stored_moment(text: str) -> str:
    """A stored UTC timestamp for display; a value that is not one is shown as it is."""
    try:
        return moment(parse_iso_utc(text))
    except (ValueError, OverflowError):  # not one of ours, or beyond the local clock's range
        return text


def stored_day(text: str) -> str:
    """The local day of a stored UTC timestamp (or of a stored ISO day)."""
    try:
        return day(parse_iso_utc(text).astimezone().date())
    except (ValueError, OverflowError):
        pass
    try:
        return day(date.fromisoformat(text[:10]))
    except ValueError:
        return text


def day_edit(edit: QDateEdit) -> QDateEdit:
    edit.setDisplayFormat(QT_DAY)
    return edit
