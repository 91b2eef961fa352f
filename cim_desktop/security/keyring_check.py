"""What to tell the user when this workstation's keyring cannot be used, and how to fix it.

``DeviceSecretStore.require_usable`` asks before anyone types a password (the first-run
wizard, the login window, ``cim init``), so that a missing or locked keyring is named up front
instead of after every step has been filled in. The text is plain words for the person at the
desk: what is missing and how to fix it on their platform and desktop, never the name of a
Python backend class. The GUI and the command line share it, so it lives here, free of Qt.
"""

from __future__ import annotations

import os
import sys
from enum import Enum


class Problem(Enum):
    MISSING = "missing"
    LOCKED = "locked"
    FAILED = "failed"


_WHAT = {
    Problem.MISSING: "There is no secure keyring available on this workstation. The vault keeps "
    "its device secret in the operating system's password store, so it cannot "
    "be created or opened without one.",
    Problem.LOCKED: "This workstation's keyring is locked, so the vault's device secret cannot "
    "be read or stored.",
    Problem.FAILED: "This workstation's keyring did not answer, so the vault's device secret "
    "cannot be read or stored.",
}

_GNOME = (
    "On GNOME the password store is GNOME Keyring (the Secret Service): install it "
    '(sudo apt install gnome-keyring), log out and back in, and make sure the "Login" '
    "keyring is unlocked (open Passwords and Keys and unlock it)."
)
_KDE = (
    "On KDE the password store is KWallet: in System Settings, KDE Wallet, enable the "
    "wallet subsystem, then open (unlock) the default wallet."
)
_WINDOWS = (
    "On Windows the password store is Credential Manager: log in to Windows with your "
    "own account (not a temporary profile) and make sure the Credential Manager "
    "service is running."
)
_MACOS = (
    "On macOS the password store is the Keychain: open Keychain Access, unlock the "
    '"login" keychain, and allow cim-desktop when the Keychain asks.'
)
_OTHER_LINUX = (
    "On Linux, run a password store that offers the Secret Service: GNOME Keyring "
    '(sudo apt install gnome-keyring, then log out and back in, with the "Login" '
    "keyring unlocked) or, on KDE, KWallet with the default wallet open."
)


def advice(platform: str | None = None, desktop: str | None = None) -> str:
    """How to fix the keyring here: Windows, macOS, KDE, GNOME, or both Linux routes when the
    desktop cannot be told (``XDG_CURRENT_DESKTOP`` may list several names, ``KDE:GNOME``)."""
    platform = sys.platform if platform is None else platform
    desktop = os.environ.get("XDG_CURRENT_DESKTOP", "") if desktop is None else desktop
    if platform == "win32":
        return _WINDOWS
    if platform == "darwin":
        return _MACOS
    names = {name.strip().upper() for name in desktop.split(":") if name.strip()}
    if "KDE" in names:
        return _KDE
    # Desktops built on GNOME's stack use its keyring too.
    if names & {"GNOME", "UNITY", "CINNAMON", "MATE", "BUDGIE", "POP", "XFCE", "LXDE", "LXQT"}:
        return _GNOME
    return _OTHER_LINUX


def message(problem: Problem, platform: str | None = None, desktop: str | None = None) -> str:
    return (
        f"{_WHAT[problem]} To fix it: {advice(platform, desktop)} "
        "Then try again. Nothing was created or changed."
    )
