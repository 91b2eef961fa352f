"""Damaged or edited vault.keys, checkpoints.jsonl and vault.pub: a clear answer, never a crash.

Two layers. Many examples in-process against the parsing functions themselves (each must
return or raise the application's own error, nothing else). A few dozen through the real
``cim`` in a subprocess per file: every mutation gives exit 0, or 1 or 2 with exactly one
line on stderr; never exit 3, never a traceback, never over 10 s or 1.5 GiB (address space
capped with RLIMIT_AS, peak resident size measured). A larger run: benchmarks/soak_files.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cim_desktop.errors import CimError
from cim_desktop.security.slotfile import SlotFile
from cim_desktop.store.audit import checkpoints
from cim_desktop.store.audit.checkpoints import load_public_key
from tests.conftest import ADMIN, ADMIN_PASSWORD, UNIT
from tests.file_mutations import Mutation, any_mutation, byte_level

REPO = Path(__file__).resolve().parents[1]
LIMIT_BYTES = 1536 * 1024 * 1024
LIMIT_SECONDS = 10.0
# Per file; each runs the real cim (about a second). benchmarks/soak_files.py raises both.
SUBPROCESS_EXAMPLES = int(os.environ.get("CIM_FILE_SOAK_SUBPROCESS", "12"))
IN_PROCESS_EXAMPLES = int(os.environ.get("CIM_FILE_SOAK_IN_PROCESS", "300"))
COMMANDS = {
    "verify": ["audit", "verify"],
    "doctor": ["doctor"],
    "login": ["policy", "show"],
}


@dataclass(frozen=True)
class Pristine:
    folder: Path  # holds home/ (the vault) and keyring.json
    keys: bytes
    checkpoints: bytes
    public: bytes


def _env(base: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHON_KEYRING_BACKEND="tests.file_keyring.FileKeyring",
        CIM_TEST_KEYRING_FILE=str(base / "keyring.json"),
        CIM_HOME=str(base / "home"),
        CIM_ARGON2_PROFILE="floor",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
    )
    return env


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str
    seconds: float


def _cim(base: Path, *argv: str, stdin: str = "") -> Ran:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "cim_desktop.cli", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(base),
        timeout=60,
        check=False,
        preexec_fn=_cap_memory,
    )
    return Ran(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Pristine:
    base = tmp_path_factory.mktemp("pristine")
    ran = _cim(
        base,
        "init",
        "--unit",
        UNIT,
        "--admin",
        ADMIN,
        "--password-stdin",
        stdin=ADMIN_PASSWORD + "\n",
    )
    assert ran.code == 0, ran.err
    # A failed login leaves a pending event, so the file has every part worth damaging.
    assert (
        _cim(base, "doctor", "--user", ADMIN, "--password-stdin", stdin="not the password\n").code
        == 2
    )
    assert (
        _cim(base, "doctor", "--user", ADMIN, "--password-stdin", stdin=ADMIN_PASSWORD + "\n").code
        == 0
    )  # signs a checkpoint at logout
    assert (
        _cim(
            base, "doctor", "--user", "nobody", "--password-stdin", stdin="not the password\n"
        ).code
        == 2
    )
    home = base / "home"
    return Pristine(
        base,
        (home / "vault.keys").read_bytes(),
        (home / "checkpoints.jsonl").read_bytes(),
        (home / "vault.pub").read_bytes(),
    )


@pytest.fixture
def scratch(pristine: Pristine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("scratch")


def _fresh_copy(pristine: Pristine, scratch: Path) -> Path:
    target = scratch / f"run-{time.monotonic_ns()}"
    shutil.copytree(pristine.folder, target)
    return target


def _check_answer(ran: Ran) -> None:
    assert ran.code in (0, 1, 2), (ran.code, ran.err)
    assert "Traceback" not in ran.err + ran.out
    if ran.code in (1, 2):
        lines = ran.err.splitlines()
        assert len(lines) == 1 or (ran.code == 1 and ran.err == ""), ran.err
    assert ran.seconds < LIMIT_SECONDS, ran.seconds
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert peak_kib * 1024 < LIMIT_BYTES


def _same_json(a: bytes, b: bytes) -> bool:
    try:
        return bool(json.loads(a) == json.loads(b))
    except (ValueError, RecursionError):  # the test's own comparison, not the app's parser
        return False


def _raw(pem: bytes) -> bytes | None:
    key = load_public_key(pem)
    return (
        None
        if key is None
        else key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def _run(base: Path, command: str, extra: tuple[str, ...] = ()) -> Ran:
    return _cim(
        base,
        *COMMANDS[command],
        *extra,
        "--user",
        ADMIN,
        "--password-stdin",
        stdin=ADMIN_PASSWORD + "\n",
    )


_SUBPROCESS = settings(
    max_examples=SUBPROCESS_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
_IN_PROCESS = settings(
    max_examples=IN_PROCESS_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


# -- through the real cim ------------------------------------------------------------------
@_SUBPROCESS
@given(data=st.data(), command=st.sampled_from(sorted(COMMANDS)))
def test_cim_answers_clearly_for_any_damage_to_vault_keys(
    pristine: Pristine, scratch: Path, data: st.DataObject, command: str
) -> None:
    mutation: Mutation = data.draw(any_mutation(pristine.keys))
    base = _fresh_copy(pristine, scratch)
    (base / "home" / "vault.keys").write_bytes(mutation.data)
    ran = _run(base, command)
    _check_answer(ran)
    if not _same_json(mutation.data, pristine.keys):
        # Any change to the document is refused: the MAC covers all of it.
        assert ran.code in (1, 2), mutation
    shutil.rmtree(base)


@_SUBPROCESS
@given(data=st.data(), command=st.sampled_from(["verify", "doctor"]))
def test_cim_answers_clearly_for_any_damage_to_checkpoints(
    pristine: Pristine, scratch: Path, data: st.DataObject, command: str
) -> None:
    mutation: Mutation = data.draw(any_mutation(pristine.checkpoints, lines=True))
    base = _fresh_copy(pristine, scratch)
    path = base / "home" / "checkpoints.jsonl"
    path.write_bytes(mutation.data)
    ran = _run(base, command, ("--checkpoint", str(path)) if command == "verify" else ())
    _check_answer(ran)
    if mutation.kind == "json":
        assert ran.code in (1, 2), mutation  # a changed value breaks the signature
    shutil.rmtree(base)


@_SUBPROCESS
@given(data=st.data(), command=st.sampled_from(sorted(COMMANDS)))
def test_cim_answers_clearly_for_any_damage_to_vault_pub(
    pristine: Pristine, scratch: Path, data: st.DataObject, command: str
) -> None:
    mutation: Mutation = data.draw(byte_level(pristine.public))
    base = _fresh_copy(pristine, scratch)
    (base / "home" / "vault.pub").write_bytes(mutation.data)
    ran = _run(base, command)
    _check_answer(ran)
    same = _raw(mutation.data) is not None and _raw(mutation.data) == _raw(pristine.public)
    if command == "doctor":
        assert ran.code == (0 if same else 1), (mutation, ran.out)
    shutil.rmtree(base)


# -- the parsers themselves, many more examples -------------------------------------------
@_IN_PROCESS
@given(data=st.data())
def test_the_slot_file_parser_accepts_or_refuses_cleanly(
    pristine: Pristine, data: st.DataObject
) -> None:
    mutation: Mutation = data.draw(any_mutation(pristine.keys))
    try:
        SlotFile.parse(mutation.data)
    except CimError as exc:
        assert "\n" not in exc.message
    with contextlib.suppress(CimError):
        SlotFile.parse(mutation.data, require_mac=False)


@_IN_PROCESS
@given(data=st.data())
def test_the_checkpoint_reader_accepts_or_refuses_cleanly(
    pristine: Pristine, scratch: Path, data: st.DataObject
) -> None:
    mutation: Mutation = data.draw(any_mutation(pristine.checkpoints, lines=True))
    path = scratch / "checkpoints.jsonl"
    path.write_bytes(mutation.data)
    try:
        found = checkpoints.read(path)
    except CimError as exc:
        assert "\n" not in exc.message
        return
    for cp in found:
        cp.message()  # what verification signs: must be encodable


@_IN_PROCESS
@given(data=st.data())
def test_the_public_key_loader_never_raises(pristine: Pristine, data: st.DataObject) -> None:
    mutation: Mutation = data.draw(byte_level(pristine.public))
    load_public_key(mutation.data)


def test_a_tampered_vault_keys_gives_one_line_and_exit_1(pristine: Pristine, scratch: Path) -> None:
    base = _fresh_copy(pristine, scratch)
    doc = json.loads(pristine.keys)
    doc["lockout_policy"]["max_failures"] = 20  # within bounds: only the MAC can tell
    (base / "home" / "vault.keys").write_text(json.dumps(doc))
    for command in sorted(COMMANDS):
        ran = _run(base, command)
        assert ran.code == 1 and ran.out == "", (command, ran)
        assert ran.err.startswith("cim: error: vault.keys was changed outside cim-desktop")
        assert len(ran.err.splitlines()) == 1 and "recovery code" in ran.err
