"""Password rules for officer accounts."""

from __future__ import annotations

from cim_desktop.domain.text import check_storable
from cim_desktop.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 1024


def check_new_password(password: str, username: str) -> None:
    check_storable(password, "Password", controls=True)
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"A password must be at least {MIN_LENGTH} characters long.")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"A password must be at most {MAX_LENGTH} characters long.")
    if not password.strip():
        raise InvalidInput("A password cannot be only spaces.")
    name = username.strip().casefold()
    if name and (password.casefold() == name or (len(name) >= 4 and name in password.casefold())):
        raise InvalidInput("A password must not be or contain the username.")
