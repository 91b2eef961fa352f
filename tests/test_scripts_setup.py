"""``scripts/setup`` and ``scripts/find-python``: one install for every caller, and a Python
chosen the same way each time and named.

Before, run-app, run-tests and build-app each asked setup for different extras, so every switch
between them reinstalled with pip; and setup took whichever interpreter a pyenv shim gave.

The scripts run for real, in a copy of the repository's scripts and pyproject.toml, against
fake interpreters (shell scripts) that log how they are called: pip, pytest, PyInstaller and
the app are edges here, and a real venv would take minutes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# A venv's python: logs every call; pip and pytest succeed at once, anything else (setup's own
# version probe) runs on the real interpreter.
VENV_PYTHON = """#!/bin/sh
echo "python $*" >>"$CIM_FAKE_LOG"
case "$1 $2" in "-m pip"|"-m pytest") exit 0 ;; esac
exec {real} "$@"
"""


def _executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def _interpreter(path: Path, version: str, venv_python: Path | None = None) -> Path:
    """A fake Python reporting ``version`` to find-python's probe; ``-m venv DIR`` makes a venv
    whose python is ``venv_python``."""
    make_venv = (
        (
            f'if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin"; '
            f'cp {venv_python} "$3/bin/python"; exit 0; fi\n'
        )
        if venv_python
        else ""
    )
    return _executable(
        path,
        f'#!/bin/sh\necho "{path.name} $*" >>"$CIM_FAKE_LOG"\n'
        f'{make_venv}echo "{version} final $(readlink -f "$0")"\n',
    )


@pytest.fixture
def fake_repo(tmp_path: Path) -> Path:
    """The real scripts and pyproject.toml, with a .venv and tools that only log."""
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "scripts", repo / "scripts")
    shutil.copy(REPO / "pyproject.toml", repo)
    venv_bin = repo / ".venv" / "bin"
    stub = _executable(tmp_path / "venv-python", VENV_PYTHON.format(real=sys.executable))
    venv_bin.mkdir(parents=True)
    shutil.copy(stub, venv_bin / "python")
    _executable(venv_bin / "cim-desktop", '#!/bin/sh\necho "cim-desktop $*" >>"$CIM_FAKE_LOG"\n')
    _executable(venv_bin / "pyinstaller", "#!/bin/sh\nmkdir -p dist/cim-desktop\n")
    # The Secret Service session is tested in test_scripts_secret_service.py.
    _executable(repo / "scripts" / "secret-service-env", '#!/bin/sh\nexec "$@"\n')
    for tool in ("dbus-run-session", "gnome-keyring-daemon"):
        _executable(tmp_path / "bin" / tool, "#!/bin/sh\nexit 1\n")
    return repo


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CIM_PYTHON", "PYENV_ROOT")}
    env.update(
        PATH=f"{tmp_path / 'bin'}:/usr/bin:/bin",
        CIM_FAKE_LOG=str(tmp_path / "calls.log"),
        PYENV_ROOT=str(tmp_path / "pyenv"),
        **extra,
    )
    return env


def _run(
    repo: Path, script: str, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(repo / "scripts" / script), *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _calls(tmp_path: Path, prefix: str) -> list[str]:
    log = tmp_path / "calls.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return [line for line in lines if line.startswith(prefix)]


def test_switching_between_run_app_run_tests_and_build_app_installs_once(
    fake_repo: Path, tmp_path: Path
) -> None:
    env = _env(tmp_path)
    for script in ("run-tests", "run-app", "build-app", "run-tests", "run-app", "build-app"):
        done = _run(fake_repo, script, env)
        assert done.returncode == 0, f"{script}: {done.stderr}"
        # setup names the Python each time, in one line.
        named = [line for line in done.stderr.splitlines() if "uses Python 3." in line]
        assert len(named) == 1, done.stderr

    assert _calls(tmp_path, "python -m pip install") == [
        "python -m pip install --quiet -e .[test,dev,package]"
    ]
    assert len(_calls(tmp_path, "python -m pytest")) == 2
    assert len(_calls(tmp_path, "cim-desktop")) == 2
    assert len(list((fake_repo / ".venv").glob(".installed-*"))) == 1

    # An edited pyproject.toml reinstalls, once.
    with (fake_repo / "pyproject.toml").open("a") as pyproject:
        pyproject.write("# edited\n")
    for script in ("run-app", "run-tests"):
        assert _run(fake_repo, script, env).returncode == 0
    assert len(_calls(tmp_path, "python -m pip install")) == 2


def test_setup_refuses_the_old_extras_argument(fake_repo: Path, tmp_path: Path) -> None:
    done = _run(fake_repo, "setup", _env(tmp_path), "test,dev")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "setup: takes no arguments (it installs every extra: test, dev, package)"
    )
    assert _calls(tmp_path, "python") == []


@pytest.fixture
def pythons(tmp_path: Path, fake_repo: Path) -> dict[str, Path]:
    """A machine like the one in the issue: a pyenv shim that runs nothing for python3.13, a
    3.11 python3, a 3.12 on PATH, and pyenv versions 3.12, 3.13 and 3.14."""
    venv_python = tmp_path / "venv-python"
    fake_bin, versions = tmp_path / "bin", tmp_path / "pyenv" / "versions"
    _executable(
        fake_bin / "python3.13",
        '#!/bin/sh\necho "pyenv: python3.13: command not found" >&2\nexit 127\n',
    )
    return {
        "3.11": _interpreter(fake_bin / "python3", "3.11.7"),
        "3.12-path": _interpreter(fake_bin / "python3.12", "3.12.50", venv_python),
        "3.12-pyenv": _interpreter(versions / "3.12.2" / "bin" / "python3", "3.12.2"),
        "3.13": _interpreter(versions / "3.13.40" / "bin" / "python3", "3.13.40", venv_python),
        "3.14": _interpreter(versions / "3.14.0" / "bin" / "python3", "3.14.0"),
    }


def test_find_python_takes_the_newest_3_12_or_3_13_and_says_why(
    pythons: dict[str, Path], fake_repo: Path, tmp_path: Path
) -> None:
    outputs = {_run(fake_repo, "find-python", _env(tmp_path)).stdout for _ in range(2)}
    assert len(outputs) == 1  # the same choice every time
    path, why = outputs.pop().splitlines()
    assert path == str(pythons["3.13"])
    assert why == (
        f"Python 3.13.40 at {path}, the newest 3.12/3.13 found "
        "(3.13.40, 3.12.50, 3.12.2); set CIM_PYTHON to choose another"
    )


def test_cim_python_wins_and_a_too_old_one_is_refused(
    pythons: dict[str, Path], fake_repo: Path, tmp_path: Path
) -> None:
    wanted, too_old = pythons["3.12-pyenv"], pythons["3.11"]
    chosen = _run(fake_repo, "find-python", _env(tmp_path, CIM_PYTHON=str(wanted)))
    assert chosen.stdout.splitlines() == [
        str(wanted),
        f"Python 3.12.2 at {wanted}, chosen by CIM_PYTHON",
    ]

    old = _run(fake_repo, "find-python", _env(tmp_path, CIM_PYTHON=str(too_old)))
    assert old.returncode == 2
    assert old.stderr == f"CIM_PYTHON={too_old} is Python 3.11.7; cim-desktop needs 3.12 or newer\n"


def test_setup_creates_the_venv_with_the_chosen_python_and_names_it(
    pythons: dict[str, Path], fake_repo: Path, tmp_path: Path
) -> None:
    shutil.rmtree(fake_repo / ".venv")
    done = _run(fake_repo, "setup", _env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == (
        f"setup: no usable .venv; creating it with Python 3.13.40 at {pythons['3.13']}, the newest"
        " 3.12/3.13 found (3.13.40, 3.12.50, 3.12.2); set CIM_PYTHON to choose another"
    )
    assert _calls(tmp_path, "python3 -m venv") == ["python3 -m venv .venv"]
    assert len(_calls(tmp_path, "python -m pip install --quiet -e")) == 1
