"""``scripts/secret-service-env``, the Secret Service that ``scripts/run-tests`` starts, keeps
out of the user's home.

Before it, run-tests started gnome-keyring on the user's real HOME: it wrote
``~/.local/share/keyrings/login.keyring`` with a fixed password, and failed when the user
already had one. Here a fake home holding a login keyring (and a fake runtime folder) must come
out byte-identical after a real keyring round trip, and the throwaway home must be gone.

These tests start a real gnome-keyring in a private D-Bus session (nested inside run-tests' own
session when run there), so they carry the ``secret_service`` mark.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.secret_service

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "secret-service-env"

# Stores, reads back and deletes a secret through the Secret Service, then reports the home
# it ran in and the process id of the daemon that served it.
ROUND_TRIP = """
import os, subprocess
from keyring.backends import SecretService
backend = SecretService.Keyring()
backend.set_password("cim-desktop-isolation", "probe", "s3cret")
assert backend.get_password("cim-desktop-isolation", "probe") == "s3cret"
backend.delete_password("cim-desktop-isolation", "probe")
print(os.environ["HOME"])
print(os.environ["XDG_RUNTIME_DIR"])
print(subprocess.run(
    ["dbus-send", "--session", "--print-reply=literal", "--dest=org.freedesktop.DBus",
     "/org/freedesktop/DBus", "org.freedesktop.DBus.GetConnectionUnixProcessID",
     "string:org.freedesktop.secrets"], capture_output=True, text=True, check=True
).stdout.split()[-1])
"""


def _need_tools() -> None:
    tools = ("dbus-run-session", "dbus-send", "gnome-keyring-daemon")
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        if os.environ.get("CIM_REQUIRE_SECRET_SERVICE") == "1":
            pytest.fail(f"missing {', '.join(missing)}")
        pytest.skip(f"missing {', '.join(missing)}")


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every path under root with its bytes (None for a folder)."""
    return {
        str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes())
        for p in sorted(root.rglob("*"))
    }


def _running(pid: int) -> bool:
    """Whether the process exists and is not a zombie (a container's init may not reap)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A TMPDIR short enough for socket paths (pytest's tmp_path can be too long for them)."""
    path = Path(tempfile.mkdtemp(prefix="cim-t.", dir="/tmp"))
    yield path
    shutil.rmtree(path)


def _user_env(home: Path, runtime: Path, tmp: Path) -> dict[str, str]:
    """The environment of a user whose desktop already has a keyring and a runtime folder."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "DBUS_", "GNOME_KEYRING"))
    }
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime), TMPDIR=str(tmp))
    return env


@pytest.fixture
def user_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    keyrings = home / ".local" / "share" / "keyrings"
    keyrings.mkdir(parents=True)
    # The user's own login keyring (its password is not the script's) and some settings.
    (keyrings / "login.keyring").write_bytes(b"GnomeKeyring\n\r\x00\n" + os.urandom(300))
    (keyrings / "default").write_text("login\n")
    (home / ".config").mkdir()
    (home / ".config" / "user-dirs.dirs").write_text('XDG_DESKTOP_DIR="$HOME/Desktop"\n')
    return home


def test_the_user_keyring_is_byte_identical_after_a_secret_service_session(
    user_home: Path, tmp_path: Path, short_tmp: Path
) -> None:
    _need_tools()
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    tmp = short_tmp
    before_home, before_runtime = _tree(user_home), _tree(runtime)

    done = subprocess.run(
        [str(SCRIPT), sys.executable, "-c", ROUND_TRIP],
        env=_user_env(user_home, runtime, tmp),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert _tree(user_home) == before_home
    assert _tree(runtime) == before_runtime
    home, runtime_dir, daemon = done.stdout.split()
    session_home, session_runtime = Path(home), Path(runtime_dir)
    assert session_home != user_home and session_runtime != runtime
    # The daemon stopped with the session instead of living on.
    assert not _running(int(daemon))
    # The throwaway home was made under TMPDIR and removed with everything in it.
    assert session_home.is_relative_to(tmp)
    assert not session_home.exists()
    assert list(tmp.iterdir()) == []


def test_the_command_exit_status_comes_back(
    user_home: Path, tmp_path: Path, short_tmp: Path
) -> None:
    _need_tools()
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    done = subprocess.run(
        [str(SCRIPT), "sh", "-c", "exit 7"],
        env=_user_env(user_home, runtime, short_tmp),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 7
