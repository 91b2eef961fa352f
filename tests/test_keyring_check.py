"""The keyring is checked before anyone is asked for a password, and the user is told in plain
words what is missing and how to fix it on their platform."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from keyring.backends import fail

from cim_desktop.errors import NoUsableKeyring
from cim_desktop.security import keyring_check
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.security.keyring_check import Problem
from tests.conftest import ADMIN, UNIT
from tests.memory_keyring import MemoryKeyring
from tests.test_keyring_failures import FAILING

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("platform", "desktop", "says", "not_says"),
    [
        ("win32", "", "Credential Manager", "Keychain"),
        ("darwin", "", "Keychain", "Credential Manager"),
        ("linux", "KDE", "KWallet", "GNOME"),
        ("linux", "ubuntu:GNOME", "GNOME Keyring", "KWallet"),
        ("linux", "X-Cinnamon:Cinnamon", "unlocked", "KWallet"),
        ("linux", "", "GNOME Keyring", "Credential Manager"),
    ],
)
def test_advice_fits_the_platform_and_desktop(
    platform: str, desktop: str, says: str, not_says: str
) -> None:
    text = keyring_check.advice(platform, desktop)
    assert says in text and not_says not in text


def test_advice_for_an_unknown_linux_desktop_names_both_stores() -> None:
    text = keyring_check.advice("linux", "")
    assert "GNOME Keyring" in text and "KWallet" in text and "Secret Service" in text


def test_advice_defaults_to_the_running_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CURRENT_DESKTOP", "KDE")
    assert keyring_check.advice() == keyring_check.advice("linux", "KDE")
    monkeypatch.setattr(sys, "platform", "win32")
    assert "Credential Manager" in keyring_check.advice()


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        ("no backend", Problem.MISSING),
        ("locked", Problem.LOCKED),
        ("backend error", Problem.FAILED),
        ("plain-text backend", Problem.MISSING),
    ],
)
def test_each_unusable_keyring_is_named_without_its_class(case: str, problem: Problem) -> None:
    store = DeviceSecretStore(FAILING[case][0])
    assert store.problem() is problem
    with pytest.raises(NoUsableKeyring) as info:
        store.require_usable()
    text = info.value.message
    assert "keyring" in text and "To fix it:" in text and "Nothing was created" in text
    # The user reads plain words: no Python module or class names, and no recovery code,
    # which cannot help a workstation that has no keyring at all.
    backend = FAILING[case][0]
    assert type(backend).__module__ not in text
    assert type(backend).__qualname__ not in text.replace("GNOME Keyring", "the store")
    assert re.search(r"\b[a-z_]+\.[a-z_]+\b", text) is None, "a dotted module name"
    assert "recovery" not in text


def test_a_working_keyring_passes_and_keeps_nothing() -> None:
    backend = MemoryKeyring()
    DeviceSecretStore(backend).require_usable()
    assert backend.entries == {}


def test_cim_init_without_a_keyring_exits_2_before_reading_stdin(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.update(
        PYTHON_KEYRING_BACKEND=f"{fail.Keyring.__module__}.Keyring",
        CIM_HOME=str(tmp_path / "home"),
        XDG_CURRENT_DESKTOP="GNOME",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
    )
    # Standard input stays open and empty: a command that read its password first would
    # wait here until the timeout.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cim_desktop.cli",
            "init",
            "--unit",
            UNIT,
            "--admin",
            ADMIN,
            "--password-stdin",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        code = proc.wait(timeout=60)
        out, err = proc.communicate()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert code == 2 and out == ""
    assert err.startswith("cim: error: There is no secure keyring") and err.count("\n") == 1
    assert "GNOME Keyring" in err and "keyring.backends" not in err
    assert not (tmp_path / "home").exists()
