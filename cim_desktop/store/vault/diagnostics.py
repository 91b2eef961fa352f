"""What the health check (``cim doctor``) compares the open database against."""

from __future__ import annotations

from cim_desktop.store.connection import _EXPECTED, PINNED_SQLCIPHER


def expected_pragmas() -> dict[str, str]:
    """The hardening pragmas every connection must read back, with their required values."""
    return dict(_EXPECTED)


def pinned_sqlcipher() -> tuple[int, ...]:
    return PINNED_SQLCIPHER


def parse_version(text: str) -> tuple[int, ...]:
    """``"4.19.0 community"`` -> ``(4, 19, 0)``."""
    first = text.split()[0] if text.split() else ""
    return tuple(int(part) for part in first.split(".") if part.isdigit())
