"""A vault with officers in each role and a session for each, built once per test module.

Tests of the access model share one because every officer costs a key derivation to add and
another to log in. Tests that change things use their own sources, so they stay independent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cim_desktop.domain.officers.roles import Role
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.session import Session
from cim_desktop.services.vault.lifecycle import create_vault, unlock
from tests.conftest import ADMIN, ADMIN_PASSWORD, UNIT
from tests.memory_keyring import MemoryKeyring
from tests.officer_helpers import add_officer

OFFICERS: dict[str, list[Role]] = {
    "ctrl": [Role.CONTROLLER],
    "ctrl2": [Role.CONTROLLER],
    "keeper": [Role.RECORD_KEEPER],
    "handler1": [Role.HANDLER],
    "handler2": [Role.HANDLER],
    "ao": [Role.AUTHORISING_OFFICER],
    "auditor": [Role.AUDITOR],
}


def password(username: str) -> str:
    # Never containing the username (the password rules refuse that).
    return "pw " + "-".join(str(ord(c)) for c in username) + " long enough"


@dataclass
class World:
    root: Path
    keyring: DeviceSecretStore
    sessions: dict[str, Session] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # ids a test wants to keep

    def __getitem__(self, username: str) -> Session:
        return self.sessions[username]

    def login(self, username: str) -> Session:
        """A fresh session (a second login) for ``username``."""
        return unlock(self.root, username, password(username), self.keyring)

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()


def build(root: Path, *usernames: str, extra: dict[str, list[Role]] | None = None) -> World:
    """A vault with the named officers of ``OFFICERS`` (all by default) and ``extra``."""
    officers = {name: OFFICERS[name] for name in usernames or OFFICERS} | (extra or {})
    keyring = DeviceSecretStore(MemoryKeyring())
    admin = create_vault(
        root, unit_name=UNIT, admin_username=ADMIN, admin_password=ADMIN_PASSWORD, keyring=keyring
    ).session
    world = World(root, keyring, {ADMIN: admin})
    for username, roles in officers.items():
        add_officer(admin, username, password(username), roles)
    for username in officers:
        world.sessions[username] = world.login(username)
    return world
