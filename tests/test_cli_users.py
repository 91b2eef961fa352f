"""``cim user ...`` enforces the same rules as the services and the GUI: who may act,
two-person approval, accreditation, forced password change."""

from __future__ import annotations

from pathlib import Path

import pytest

from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.vault.lifecycle import unlock
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.test_cli import Cim, Ran, as_admin, init_vault, make_cim

CAROL_TEMP, CAROL_PW = "first-day password C", "second admin on nights"
HANK_TEMP, HANK_PW = "first-day password H", "handling sources well"
HANK_RESET = "reset given on monday"


@pytest.fixture
def cim(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    keyring_store: DeviceSecretStore,
    vault_dir: Path,
) -> Cim:
    return make_cim(monkeypatch, capsys, keyring_store, vault_dir)


@pytest.fixture
def code(cim: Cim) -> str:
    return init_vault(cim)


def _as(cim: Cim, user: str, password: str, *argv: str, stdin: str = "") -> Ran:
    return cim(*argv, "--user", user, "--password-stdin", stdin=f"{password}\n{stdin}")


def _settle(cim: Cim, user: str, temporary: str, chosen: str) -> None:
    ran = _as(cim, user, temporary, "user", "passwd", stdin=f"{chosen}\n{chosen}\n")
    assert ran.code == 0, ran.err


def test_grants_need_an_admin_and_a_distinct_approver(cim: Cim, code: str) -> None:
    # A lone administrator adds a second one (bootstrap) and a future handler.
    assert (
        as_admin(
            cim, "user", "add", "carol", "--role", "administrator", stdin=CAROL_TEMP + "\n"
        ).code
        == 0
    )
    assert (
        as_admin(cim, "user", "add", "hank", "--rank", "Constable", stdin=HANK_TEMP + "\n").code
        == 0
    )
    _settle(cim, "carol", CAROL_TEMP, CAROL_PW)
    _settle(cim, "hank", HANK_TEMP, HANK_PW)

    ran = _as(cim, "hank", HANK_PW, "user", "grant", "hank", "--role", "auditor")
    assert ran.code == 2 and "not permitted" in ran.err

    ran = as_admin(
        cim,
        "user",
        "grant",
        "hank",
        "--role",
        "handler",
        "--approver",
        "carol",
        stdin=CAROL_PW + "\n",
    )
    assert ran.code == 2 and "accreditation" in ran.err
    ran = as_admin(
        cim,
        "user",
        "accredit",
        "hank",
        "--course",
        "Source handling",
        "--date",
        "2024-02-01",
        "--hours",
        "75",
    )
    assert ran.code == 0 and "75 hours" in ran.out

    ran = as_admin(cim, "user", "grant", "hank", "--role", "handler")
    assert ran.code == 2 and "--approver" in ran.err
    ran = as_admin(
        cim,
        "user",
        "grant",
        "hank",
        "--role",
        "handler",
        "--approver",
        ADMIN,
        stdin=ADMIN_PASSWORD + "\n",
    )
    assert ran.code == 2 and "different person" in ran.err
    ran = as_admin(
        cim,
        "user",
        "grant",
        "hank",
        "--role",
        "handler",
        "--approver",
        "carol",
        stdin=CAROL_PW + "\n",
    )
    assert ran.code == 0 and "now holds: Handler" in ran.out

    listed = as_admin(cim, "user", "list")
    assert listed.code == 0
    lines = {line.split()[0]: line for line in listed.out.splitlines()[1:]}
    assert "handler" in lines["hank"] and "Constable" in lines["hank"]
    assert "administrator" in lines["carol"]


def test_reset_suspend_and_the_forced_change(
    cim: Cim, code: str, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    assert (
        as_admin(
            cim, "user", "add", "carol", "--role", "administrator", stdin=CAROL_TEMP + "\n"
        ).code
        == 0
    )
    assert (
        as_admin(
            cim,
            "user",
            "add",
            "hank",
            "--role",
            "auditor",
            "--approver",
            "carol",
            stdin=f"{CAROL_TEMP}\n{HANK_TEMP}\n",
        ).code
        == 2
    )  # temp pw
    _settle(cim, "carol", CAROL_TEMP, CAROL_PW)
    assert (
        as_admin(
            cim,
            "user",
            "add",
            "hank",
            "--role",
            "auditor",
            "--approver",
            "carol",
            stdin=f"{CAROL_PW}\n{HANK_TEMP}\n",
        ).code
        == 0
    )

    ran = _as(cim, "hank", HANK_TEMP, "audit", "verify")
    assert ran.code == 2 and "cim user passwd --user hank" in ran.err
    ran = _as(
        cim, "hank", HANK_TEMP, "user", "passwd", stdin=f"{HANK_PW}\nsomething else entirely\n"
    )
    assert ran.code == 2 and "do not match" in ran.err
    _settle(cim, "hank", HANK_TEMP, HANK_PW)
    assert _as(cim, "hank", HANK_PW, "audit", "verify").code == 0

    ran = as_admin(
        cim, "user", "reset", "hank", "--approver", "hank", stdin=f"{HANK_PW}\n{HANK_RESET}\n"
    )
    assert ran.code == 2 and "must hold the role: Administrator" in ran.err
    ran = as_admin(
        cim, "user", "reset", "hank", "--approver", "carol", stdin=f"{CAROL_PW}\n{HANK_RESET}\n"
    )
    assert ran.code == 0 and "must change it" in ran.out
    assert HANK_RESET not in ran.out + ran.err
    hank = unlock(vault_dir, "hank", HANK_RESET, keyring_store)
    assert hank.officer.must_change_password
    hank.close()

    ran = as_admin(cim, "user", "suspend", "hank", "--reason", "inquiry")
    assert ran.code == 2 and "--approver" in ran.err
    ran = as_admin(cim, "user", "suspend", "hank", "--approver", "carol", stdin=CAROL_PW + "\n")
    assert ran.code == 0 and "suspended" in ran.out
    ran = _as(cim, "hank", HANK_RESET, "user", "passwd", stdin=f"{HANK_PW}\n{HANK_PW}\n")
    assert ran.code == 2 and "This account is suspended" in ran.err


def test_user_add_takes_the_accreditation_a_handler_needs(cim: Cim, code: str) -> None:
    ran = as_admin(cim, "user", "add", "hank", "--role", "handler", stdin=HANK_TEMP + "\n")
    assert ran.code == 2 and "accreditation" in ran.err
    ran = as_admin(
        cim,
        "user",
        "add",
        "hank",
        "--role",
        "handler",
        "--course",
        "Handling",
        "--hours",
        "80",
        stdin=HANK_TEMP + "\n",
    )
    assert ran.code == 2 and "--course, --date and --hours together" in ran.err
    ran = as_admin(
        cim,
        "user",
        "add",
        "hank",
        "--role",
        "handler",
        "--course",
        "Handling",
        "--date",
        "2024-02-01",
        "--hours",
        "80",
        stdin=HANK_TEMP + "\n",
    )
    assert ran.code == 0, ran.err
    assert "Handler" in ran.out and "Accreditation recorded: Handling" in ran.out
