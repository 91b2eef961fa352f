"""The real entry point in a subprocess: it reaches the right first window and exits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pytestqt.qtbot import QtBot

from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.vault.lifecycle import NewVault
from cim_desktop.ui.shell.flow import AppFlow
from cim_desktop.ui.vault.login import LoginDialog
from tests.conftest import ADMIN, ADMIN_PASSWORD, UNIT
from tests.ui.conftest import OFFSCREEN_NOTICE

# Runs the real main(); the only addition is a line naming the first window it showed.
PROBE = """
import sys
from cim_desktop.ui import app
from cim_desktop.ui.shell import flow

original = flow.AppFlow.start

def start(self):
    window = original(self)
    print("first-window", type(window).__name__, window.isVisible(), flush=True)
    return window

flow.AppFlow.start = start
sys.exit(app.main(sys.argv[1:]))
"""


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(QT_QPA_PLATFORM="offscreen", CIM_HOME=str(home))
    env.pop("PYTHON_KEYRING_BACKEND", None)
    return env


def _unexpected(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip() and line != OFFSCREEN_NOTICE]


def _run(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_module_entry_reaches_the_wizard_and_quits(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = _run(["-m", "cim_desktop.ui", "--quit-after-ms", "150"], home)
    assert done.returncode == 0, done.stderr
    assert _unexpected(done.stderr) == []
    assert not (home / "vault.db").exists()

    probed = _run(["-c", PROBE, "--quit-after-ms", "100"], home)
    assert probed.returncode == 0, probed.stderr
    assert "first-window FirstRunWizard True" in probed.stdout
    assert _unexpected(probed.stderr) == []


def test_existing_vault_reaches_login_and_reports_startup(tmp_path: Path) -> None:
    vault = tmp_path / "elsewhere"
    vault.mkdir()
    (vault / "vault.keys").write_text("{}")  # enough for "a vault is here"
    probed = _run(["-c", PROBE, "--vault", str(vault), "--report-startup"], tmp_path / "home")
    assert probed.returncode == 0, probed.stderr
    lines = probed.stdout.splitlines()
    assert lines[0] == "first-window LoginDialog True"
    assert lines[1].startswith("startup_ms=")
    assert 0 < float(lines[1].removeprefix("startup_ms=")) < 60_000
    assert lines[2] == "first_window=LoginDialog"
    assert _unexpected(probed.stderr) == []


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    done = _run(["-m", "cim_desktop.ui", "--idle-minutes", "0"], tmp_path)
    assert done.returncode == 2
    assert "--idle-minutes must be above zero" in done.stderr


def test_flow_from_login_to_main_window(
    qtbot: QtBot, new_vault: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    new_vault.session.close()
    app_flow = AppFlow(vault_dir, keyring_store, idle_ms=60_000)
    try:
        login = app_flow.start()
        qtbot.addWidget(login)
        assert isinstance(login, LoginDialog) and login.isVisible()
        login.form.username.setText(ADMIN)
        login.form.password.setText(ADMIN_PASSWORD)
        login.form.attempt()
        qtbot.waitUntil(lambda: app_flow.main_window is not None, timeout=10_000)
        main = app_flow.main_window
        assert main is not None
        qtbot.addWidget(main)
        assert main.isVisible() and not login.isVisible()
        assert main.windowTitle() == f"{UNIT} — cim-desktop"
        session = main.session
        assert session is not None and not session.closed
    finally:
        app_flow.shutdown()
    assert session.closed and main.session is None  # logged out on shutdown
