"""Password rules for officer accounts."""

from __future__ import annotations

from cim_desktop.domain.findings import violation
from cim_desktop.domain.text import check_storable

MIN_LENGTH = 12
MAX_LENGTH = 1024


def check_new_password(password: str, username: str) -> None:
    check_storable(password, "Password", controls=True, field="password")
    if len(password) < MIN_LENGTH:
        raise violation(
            "password.too-short",
            f"A password must be at least {MIN_LENGTH} characters long.",
            "password",
        )
    if len(password) > MAX_LENGTH:
        raise violation(
            "password.too-long",
            f"A password must be at most {MAX_LENGTH} characters long.",
            "password",
        )
    if not password.strip():
        raise violation("password.blank", "A password cannot be only spaces.", "password")
    name = username.strip().casefold()
    if name and (password.casefold() == name or (len(name) >= 4 and name in password.casefold())):
        raise violation(
            "password.contains-username",
            "A password must not be or contain the username.",
            "password",
        )
