"""Free text that cannot be stored: a lone surrogate (or a control character) in any field a
person types into gets a one-line message naming the field, never the value, and nothing is
changed. Before, a lone surrogate ended deep in the database as ``UnicodeEncodeError``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cim_desktop.domain.access.rules import ReviewKind, TeamRole
from cim_desktop.domain.officers.model import OfficerStatus
from cim_desktop.domain.officers.rules import NewAccreditation, Particulars
from cim_desktop.domain.text import check_storable
from cim_desktop.errors import InvalidInput, PermissionDenied, WrongCredentials
from cim_desktop.security.slotfile import SlotFile
from cim_desktop.services.officers import accounts, associations
from cim_desktop.services.officers import management as officers
from cim_desktop.services.policy import settings as policy
from cim_desktop.services.review import queue as review
from cim_desktop.services.session import Session
from cim_desktop.services.sources import register as sources
from cim_desktop.services.vault.lifecycle import create_vault, unlock
from tests.access_world import World, build, password
from tests.conftest import ADMIN, ADMIN_PASSWORD, UNIT

REPO = Path(__file__).resolve().parent.parent
# Stands for a source's name with one unpaired surrogate in it.
BAD = "Jane\ud800Sealed"
REASON = "Confirming the address before deployment"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build(tmp_path_factory.mktemp("text") / "vault", "ctrl", "keeper", "handler1")
    yield built
    built.close()


@pytest.fixture(scope="module")
def urn(world: World) -> str:
    record = sources.register_source(world["ctrl"], "Kestrel")
    sources.assign_team_role(world["ctrl"], record.urn, "keeper", TeamRole.RECORD_KEEPER)
    return record.urn


def _officer_id(world: World, username: str) -> str:
    return next(o.id for o in world[ADMIN].db.officers.all() if o.username == username)


def _head(session: Session) -> int:
    return session.db.audit.head()[0]


Case = Callable[[World, str], object]
CASES: dict[str, tuple[str, Case]] = {
    "identity field": (
        "Full name",
        lambda w, u: sources.update_identity(
            w["keeper"], u, {"full_name": BAD, "address": "7 Hidden Row"}, REASON
        ),
    ),
    "identity reason": (
        "Reason",
        lambda w, u: sources.update_identity(w["keeper"], u, {"full_name": "Jane Sealed"}, BAD),
    ),
    "view reason": ("Reason", lambda w, u: sources.view_identity(w["keeper"], u, BAD)),
    "pseudonym": ("Pseudonym", lambda w, u: sources.update_pseudonym(w["ctrl"], u, BAD)),
    "new source": ("Pseudonym", lambda w, u: sources.register_source(w["ctrl"], BAD)),
    "officer name": (
        "Display name",
        lambda w, u: officers.update_particulars(
            w[ADMIN], _officer_id(w, "handler1"), Particulars(BAD)
        ),
    ),
    "new officer name": (
        "Display name",
        lambda w, u: accounts.add_officer(
            w[ADMIN], "newbie", "a long enough password", [], display_name=BAD
        ),
    ),
    "new password": (
        "Password",
        lambda w, u: accounts.add_officer(w[ADMIN], "newbie", "long enough " + BAD, []),
    ),
    "accreditation": (
        "Course",
        lambda w, u: officers.record_accreditation(
            w[ADMIN], _officer_id(w, "handler1"), NewAccreditation(BAD, date(2024, 1, 5), 80.0)
        ),
    ),
    "status reason": (
        "Reason",
        lambda w, u: officers.set_status(
            w[ADMIN], _officer_id(w, "handler1"), OfficerStatus.SUSPENDED, None, BAD
        ),
    ),
    "declaration name": (
        "Name",
        lambda w, u: associations.declare(w["handler1"], BAD, "cousin", date(2020, 1, 1)),
    ),
    "declaration notes": (
        "Notes",
        lambda w, u: associations.declare(
            w["handler1"], "Jane Sealed", "cousin", date(2020, 1, 1), BAD
        ),
    ),
    "review note": ("Note", lambda w, u: review.sign_off(w["ctrl"], ReviewKind.DENIED, "1", BAD)),
    "policy text": (
        "URN format",
        lambda w, u: policy.change(w[ADMIN], "urn_format", "DSU-{number}" + BAD, None),
    ),
    "policy list": (
        "Ranks, lowest first",
        lambda w, u: policy.change(w[ADMIN], "ranks", ("Constable", BAD), None),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_lone_surrogate_gets_a_field_message_and_changes_nothing(
    world: World, urn: str, case: str
) -> None:
    label, attempt = CASES[case]
    before = {name: _head(s) for name, s in world.sessions.items()}
    keys = (world.root / "vault.keys").read_bytes()
    with pytest.raises(InvalidInput) as refused:
        attempt(world, urn)
    message = refused.value.message
    assert message.startswith(f"{label}: ") and "surrogate" in message
    assert "Jane" not in message and "Sealed" not in message and "\n" not in message
    assert {name: _head(s) for name, s in world.sessions.items()} == before
    assert (world.root / "vault.keys").read_bytes() == keys
    assert sources.view_identity(world["keeper"], urn, REASON) == {}


def test_a_refusal_with_an_unstorable_reason_is_still_recorded(world: World, urn: str) -> None:
    handler = world["handler1"]
    head = _head(handler)
    with pytest.raises(PermissionDenied):
        sources.view_identity(handler, urn, BAD)
    (row,) = [r for r in handler.db.audit.page(after_seq=head, limit=10) if r.action == "denied"]
    assert row.entity_id == urn and row.reason == ""
    assert json.loads(row.detail)["reason"].startswith("not recorded")


def test_a_lone_surrogate_password_is_a_wrong_password(world: World) -> None:
    with pytest.raises(WrongCredentials):
        unlock(world.root, "ctrl", password("ctrl") + "\ud800", world.keyring)
    lock = SlotFile.load(world.root / "vault.keys").lockouts[_officer_id(world, "ctrl")]
    assert len(lock.failures) == 1  # counted like any other wrong password
    unlock(world.root, "ctrl", password("ctrl"), world.keyring).close()


def test_a_new_vault_with_an_unstorable_unit_name_is_refused(tmp_path: Path, world: World) -> None:
    with pytest.raises(InvalidInput, match=r"^Unit name: "):
        create_vault(
            tmp_path / "v",
            unit_name="DSU " + BAD,
            admin_username=ADMIN,
            admin_password=ADMIN_PASSWORD,
            keyring=world.keyring,
        )
    assert not (tmp_path / "v").exists()


@pytest.mark.parametrize("text", ["tab\tand\nnew line\r\n", "Zoë Ó Súilleabháin 张伟 🙂", ""])
def test_ordinary_text_passes(text: str) -> None:
    assert check_storable(text, "Notes") == text


@pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "esc\x1b[31m", "del\x7f", "\udcff"])
def test_control_characters_and_surrogates_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"^Notes: contains"):
        check_storable(text, "Notes")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_whatever_passes_can_be_stored(text: str) -> None:
    try:
        check_storable(text, "Notes")
    except InvalidInput as exc:
        assert exc.message.startswith("Notes: ")
        return
    text.encode("utf-8")  # never UnicodeEncodeError once accepted


def test_bytes_that_are_not_text_on_the_command_line(tmp_path: Path) -> None:
    """Undecodable bytes in an argument or on standard input (decoded with surrogateescape)
    are a one-line user error, exit 2; before, an internal error, exit 3."""
    env = dict(os.environ)
    env.update(
        PYTHON_KEYRING_BACKEND="tests.file_keyring.FileKeyring",
        CIM_TEST_KEYRING_FILE=str(tmp_path / "keyring.json"),
        CIM_HOME=str(tmp_path / "home"),
        LC_ALL="C.UTF-8",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
    )

    def cim(*argv: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "cim_desktop.cli", *argv],
            input=stdin,
            capture_output=True,
            env=env,
            timeout=120,
            check=False,
        )

    pw = ADMIN_PASSWORD.encode()
    assert (
        cim(
            "init", "--unit", UNIT, "--admin", ADMIN, "--password-stdin", stdin=pw + b"\n"
        ).returncode
        == 0
    )
    # "\udcff" reaches the child's argv as the single byte 0xff.
    added = cim(
        "user",
        "add",
        "bob",
        "--display-name",
        "Bob \udcff",
        "--user",
        ADMIN,
        "--password-stdin",
        stdin=pw + b"\nbobs temporary password\n",
    )
    assert (added.returncode, added.stdout) == (2, b"")
    assert added.stderr.splitlines() == [
        b"cim: error: Display name: contains a character "
        b"that is not valid text (an unpaired surrogate); "
        b"retype it."
    ]
    wrong = cim("doctor", "--user", ADMIN, "--password-stdin", stdin=pw + b"\xff\n")
    assert (wrong.returncode, wrong.stderr) == (2, b"cim: error: Wrong username or password.\n")
