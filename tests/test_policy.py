"""The local policy: validation, two-person approval, audit with old and new values, the
lockout mirror in the key-slot file, and the ``cim policy`` commands."""

from __future__ import annotations

import io
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cim_desktop import cli
from cim_desktop.domain import clock
from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.policy.settings import (
    BY_KEY,
    RANKS,
    SETTINGS,
    Policy,
    Setting,
    SettingInvalid,
    check_changes,
    display,
    parse_text,
)
from cim_desktop.errors import AccountLocked, InvalidInput, PermissionDenied, WrongCredentials
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.security.slotfile import SlotFile
from cim_desktop.services.access import approval
from cim_desktop.services.access.approval import Approval
from cim_desktop.services.policy import settings as policy
from cim_desktop.services.session import Session
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from cim_desktop.store.policy.values import PolicyRepository
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.officer_helpers import add_officer

ADMINS = frozenset({Role.ADMINISTRATOR})
CAROL = "carol"
CAROL_PASSWORD = "second admin on nights"
AUDREY = "audrey"
AUDREY_PASSWORD = "an auditor password"


def _other_value(setting: Setting) -> Any:
    """A valid value different from the shipped default."""
    if setting.kind is bool:
        return not setting.default
    if setting.kind is int:
        up = setting.default + 1
        return up if setting.maximum is None or up <= setting.maximum else setting.default - 1
    if setting.kind is tuple:
        return (*setting.default, "Commissioner")
    if setting.is_rank:
        return next(r for r in RANKS if r != setting.default)
    return "CHS/{year}/{number:05d}"


def _audit(session: Session, action: str = "update") -> list[dict[str, Any]]:
    rows = session.db.audit.page(limit=200)
    return [
        {"entity": r.entity_id, "user": r.username, "outcome": r.outcome, **json.loads(r.detail)}
        for r in rows
        if r.action == action and r.entity_type != "officer"
    ]  # not officer set-up rows


def _stored(session: Session) -> dict[str, Any]:
    return {k: r.value for k, r in PolicyRepository(session.db.conn).all().items()}


@pytest.fixture
def two_admins(new_vault: NewVault) -> NewVault:
    # The auditor first: while there is one administrator, neither needs an approval.
    add_officer(new_vault.session, AUDREY, AUDREY_PASSWORD, [Role.AUDITOR])
    add_officer(new_vault.session, CAROL, CAROL_PASSWORD, [Role.ADMINISTRATOR])
    return new_vault


def _carol(session: Session) -> Approval:
    return approval.second_officer(session, CAROL, CAROL_PASSWORD, ADMINS, policy.PURPOSE)


# -- values -------------------------------------------------------------------------------
def test_every_setting_round_trips_and_restores_its_default(
    new_vault: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    session = new_vault.session
    assert policy.current(session) == Policy.defaults()
    wanted = {s.key: _other_value(s) for s in SETTINGS}
    changed = policy.change_many(session, wanted, None)
    assert sorted(changed) == sorted(wanted)
    assert policy.current(session).values == wanted
    session.lock()

    again = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)
    try:
        assert policy.current(again).values == wanted
        view = policy.refresh_view(again)
        assert all(not s.is_default and s.changed_by == ADMIN for s in view.states)
        # Restoring the defaults keeps who did it, but stores no value of its own.
        policy.change_many(again, {s.key: s.default for s in SETTINGS}, None)
        assert policy.current(again) == Policy.defaults()
        assert set(_stored(again).values()) == {None}
        assert all(
            s.is_default and s.changed_by == ADMIN for s in policy.refresh_view(again).states
        )
    finally:
        again.close()


REFUSED: list[tuple[str, Any, str]] = [
    ("idle_lock_minutes", 0, "at least 1"),
    ("idle_lock_minutes", 61, "at most 60"),
    ("lockout_max_failures", "5", "whole number"),
    ("lockout_max_failures", True, "whole number"),
    ("same_gender_officer", "yes", "yes or no"),
    ("ranks", [], "at least one"),
    ("ranks", ["Constable", "constable"], "distinct"),
    ("ranks", ["Constable", "Sergeant, Acting"], "without commas"),
    ("ao_rank_standard", "Commissioner", "choose one of"),
    ("urn_format", "DSU-{year}", "must contain {number}"),
    ("urn_format", "DSU-{number:999999999d}", "zero-padding"),
    ("urn_format", "DSU {number}", "letters, digits"),
    ("urn_format", "DSU-{name}-{number}", "only {year} and {number}"),
    ("urn_format", "DSU-{number", "pairs"),
    ("payment_controller_limit", 3_000, "must not exceed 2,500"),
    ("payment_lifetime_limit", 9_999, "must be at least 10,000"),
]


def test_bad_values_are_refused_naming_the_setting_and_nothing_changes(
    new_vault: NewVault,
) -> None:
    session = new_vault.session
    head = session.db.audit.head()
    for key, value, message in REFUSED:
        with pytest.raises(SettingInvalid) as caught:
            policy.change(session, key, value, None)
        assert caught.value.key == key
        assert BY_KEY[key].label in caught.value.message
        assert message in caught.value.message
    # A good change in the same batch as a bad one does not go through either.
    with pytest.raises(SettingInvalid, match="Lock after idle"):
        policy.change_many(session, {"meeting_min_officers": 3, "idle_lock_minutes": 0}, None)
    with pytest.raises(InvalidInput, match="no policy setting called 'colour'"):
        policy.change(session, "colour", "blue", None)
    assert policy.current(session) == Policy.defaults()
    assert _stored(session) == {}
    assert session.db.audit.head() == head


def test_removing_a_rank_in_use_is_refused(new_vault: NewVault) -> None:
    session = new_vault.session
    without = tuple(r for r in RANKS if r != "Superintendent")
    with pytest.raises(SettingInvalid) as caught:
        policy.change(session, "ranks", without, None)
    assert caught.value.key == "ao_rank_standard"
    assert "'Superintendent' is no longer a rank" in caught.value.message
    # Together with a new standard rank it is fine.
    policy.change_many(
        session, {"ranks": without, "ao_rank_standard": "Chief Superintendent"}, None
    )
    assert policy.current(session).ranks == without
    # A rank an officer holds cannot go.
    with session.db.transaction():
        session.db.conn.execute("UPDATE officers SET rank = 'Sergeant'")
    with pytest.raises(SettingInvalid, match="'Sergeant' is held by 1 officer"):
        policy.change(session, "ranks", tuple(r for r in without if r != "Sergeant"), None)


def test_check_changes_and_text_parsing() -> None:
    base = Policy.defaults()
    clean, errors = check_changes(
        base,
        {
            "ranks": ["Constable", " Chief Constable "],
            "ao_rank_standard": "Chief Constable",
            "ao_rank_urgent": "Constable",
        },
    )
    assert clean["ranks"] == ("Constable", "Chief Constable")
    assert set(errors) == {"ao_rank_juvenile_vulnerable"}
    assert parse_text(BY_KEY["payment_yearly_limit"], "£12,500") == 12_500
    assert parse_text(BY_KEY["same_gender_officer"], "No") is False
    assert parse_text(BY_KEY["ranks"], "A, B") == ("A", "B")
    with pytest.raises(InvalidInput, match="whole number"):
        parse_text(BY_KEY["idle_lock_minutes"], "ten")
    with pytest.raises(InvalidInput, match="yes or no"):
        parse_text(BY_KEY["same_gender_officer"], "maybe")
    for setting in SETTINGS:
        assert parse_text(setting, display(setting, setting.default)) == setting.default
    # A stored value a newer rule refuses gives way to the default.
    assert Policy.overlay({"idle_lock_minutes": 600, "meeting_min_officers": 3}).values == {
        **Policy.defaults().values,
        "meeting_min_officers": 3,
    }


def test_no_change_when_nothing_differs(two_admins: NewVault) -> None:
    session = two_admins.session
    head = session.db.audit.head()
    # No approval is asked for a change that changes nothing.
    assert policy.change_many(session, {"idle_lock_minutes": 5, "ranks": list(RANKS)}, None) == []
    assert session.db.audit.head() == head
    assert _stored(session) == {}


# -- who may change it ----------------------------------------------------------------------
def test_only_an_administrator_changes_the_policy(
    two_admins: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    audrey = unlock(vault_dir, AUDREY, AUDREY_PASSWORD, keyring_store)
    try:
        view = policy.open_view(audrey)  # any officer reads it
        assert not view.can_change and view.state("idle_lock_minutes").value == 5
        with pytest.raises(PermissionDenied, match="Administrator"):
            policy.change(audrey, "idle_lock_minutes", 10, _carol(audrey))
        denied = _audit(audrey, "denied")
        assert denied[0]["user"] == AUDREY and denied[0]["attempted"] == policy.PURPOSE
        assert policy.current(audrey) == Policy.defaults()
    finally:
        audrey.close()


def test_a_second_administrator_must_approve(two_admins: NewVault) -> None:
    session = two_admins.session
    with pytest.raises(PermissionDenied, match="second administrator's approval"):
        policy.change(session, "idle_lock_minutes", 10, None)
    assert _audit(session, "denied")[0]["cause"] == "no second administrator's approval"

    # The same officer twice: refused when asked, and a hand-made approval is refused too.
    with pytest.raises(InvalidInput, match="different person"):
        approval.second_officer(session, ADMIN, ADMIN_PASSWORD, ADMINS, policy.PURPOSE)
    mine = Approval(
        session.officer.id,
        ADMIN,
        Role.ADMINISTRATOR,
        policy.PURPOSE,
        clock.iso_utc(clock.utc_now()),
    )
    with pytest.raises(PermissionDenied, match="different person"):
        policy.change(session, "idle_lock_minutes", 10, mine)

    # An approver without the administrator role.
    with pytest.raises(PermissionDenied, match="Administrator"):
        approval.second_officer(session, AUDREY, AUDREY_PASSWORD, ADMINS, policy.PURPOSE)
    audrey_officer = session.db.officers.by_username(AUDREY)
    assert audrey_officer is not None
    forged = Approval(
        audrey_officer.id,
        AUDREY,
        Role.ADMINISTRATOR,
        policy.PURPOSE,
        clock.iso_utc(clock.utc_now()),
    )
    with pytest.raises(PermissionDenied, match="active administrator"):
        policy.change(session, "idle_lock_minutes", 10, forged)

    # An approval given for something else, or long ago, does not do.
    other = approval.second_officer(session, CAROL, CAROL_PASSWORD, ADMINS, "role grant")
    with pytest.raises(PermissionDenied, match="something else"):
        policy.change(session, "idle_lock_minutes", 10, other)
    stale = _carol(session)
    later = clock.utc_now() + timedelta(minutes=11)
    clock.set_clock(lambda: later)
    with pytest.raises(PermissionDenied, match="expired"):
        policy.change(session, "idle_lock_minutes", 10, stale)
    clock.set_clock(None)

    assert policy.current(session) == Policy.defaults()
    assert _stored(session) == {} and _audit(session) == []
    causes = {d["cause"] for d in _audit(session, "denied")}
    assert causes >= {
        "same officer",
        "approver not an active administrator",
        "approval given for another purpose",
        "approval expired",
    }


def test_an_approved_change_is_audited_with_old_and_new_values(two_admins: NewVault) -> None:
    session = two_admins.session
    changed = policy.change_many(
        session,
        {"idle_lock_minutes": 10, "ranks": (*RANKS, "Commissioner"), "same_gender_officer": True},
        _carol(session),
    )
    assert sorted(changed) == ["idle_lock_minutes", "ranks"]
    rows = {r["entity"]: r for r in _audit(session)}
    assert set(rows) == {"idle_lock_minutes", "ranks"}
    assert rows["idle_lock_minutes"]["old"] == 5 and rows["idle_lock_minutes"]["new"] == 10
    assert rows["ranks"]["old"] == list(RANKS)
    assert rows["ranks"]["new"] == [*RANKS, "Commissioner"]
    for row in rows.values():
        assert row["user"] == ADMIN and row["approved_by_username"] == CAROL
        assert row["approved_by_role"] == "administrator" and "approval" not in row
    state = policy.refresh_view(session).state("idle_lock_minutes")
    assert (state.changed_by, state.approved_by, state.bootstrap) == (ADMIN, CAROL, False)
    assert policy.idle_lock_ms(session) == 10 * 60_000


def test_a_single_administrator_changes_alone_and_it_is_marked(new_vault: NewVault) -> None:
    session = new_vault.session
    policy.change(session, "break_glass_minutes", 30, None)
    (row,) = _audit(session)
    assert row["entity"] == "break_glass_minutes" and (row["old"], row["new"]) == (60, 30)
    assert row["approval"] == "bootstrap: no second administrator yet"
    assert "approved_by" not in row
    state = policy.refresh_view(session).state("break_glass_minutes")
    assert state.bootstrap and state.approved_by == "" and state.changed_by == ADMIN


def test_reading_the_policy_screen_is_audited_once(new_vault: NewVault) -> None:
    session = new_vault.session
    policy.open_view(session)
    policy.refresh_view(session)
    policy.current(session)
    views = _audit(session, "view")
    assert [v["entity"] for v in views] == ["*"]


# -- the lockout mirror -----------------------------------------------------------------------
def test_a_changed_lockout_count_applies_at_the_next_logins(
    two_admins: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    session = two_admins.session
    policy.change_many(
        session, {"lockout_max_failures": 3, "lockout_window_minutes": 30}, _carol(session)
    )
    mirrored = SlotFile.load(vault_dir / "vault.keys").lockout_policy
    assert (mirrored.max_failures, mirrored.window_minutes) == (3, 30)
    for _ in range(2):
        with pytest.raises(WrongCredentials):
            unlock(vault_dir, AUDREY, "not the password", keyring_store)
    with pytest.raises(AccountLocked):  # the third, where the default would allow five
        unlock(vault_dir, AUDREY, "not the password", keyring_store)


# -- the command line ---------------------------------------------------------------------------
def _cim(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    keyring: DeviceSecretStore,
    vault: Path,
    *argv: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = cli.main([*argv, "--vault", str(vault)], keyring=keyring)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and CAROL_PASSWORD not in out + err
    return code, out, err


def test_cim_policy_set_and_show(
    two_admins: NewVault,
    vault_dir: Path,
    keyring_store: DeviceSecretStore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    two_admins.session.lock()

    def cim(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        return _cim(monkeypatch, capsys, keyring_store, vault_dir, *argv, stdin=stdin)

    login = ("--user", ADMIN, "--password-stdin")
    code, _, err = cim(
        "policy", "set", "idle_lock_minutes", "10", *login, stdin=f"{ADMIN_PASSWORD}\n"
    )
    assert code == 2 and "second administrator's approval" in err
    code, _, err = cim(
        "policy",
        "set",
        "idle_lock_minutes",
        "10",
        *login,
        "--approver",
        ADMIN,
        stdin=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n",
    )
    assert code == 2 and "different person" in err
    code, _, err = cim(
        "policy",
        "set",
        "idle_lock_minutes",
        "10",
        *login,
        "--approver",
        AUDREY,
        stdin=f"{ADMIN_PASSWORD}\n{AUDREY_PASSWORD}\n",
    )
    assert code == 2 and "must hold the role: Administrator" in err
    code, _, err = cim("policy", "set", "idle_lock_minutes", "ten", *login)
    assert code == 2 and "Lock after idle (minutes): enter a whole number" in err
    code, _, err = cim(
        "policy",
        "set",
        "idle_lock_minutes",
        "90",
        *login,
        "--approver",
        CAROL,
        stdin=f"{ADMIN_PASSWORD}\n{CAROL_PASSWORD}\n",
    )
    assert code == 2 and "must be at most 60" in err
    code, _, err = cim(
        "policy",
        "set",
        "idle_lock_minutes",
        "10",
        "--user",
        AUDREY,
        "--password-stdin",
        "--approver",
        CAROL,
        stdin=f"{AUDREY_PASSWORD}\n{CAROL_PASSWORD}\n",
    )
    assert code == 2 and "not permitted" in err

    code, out, _ = cim(
        "policy",
        "set",
        "idle_lock_minutes",
        "10",
        *login,
        "--approver",
        CAROL,
        stdin=f"{ADMIN_PASSWORD}\n{CAROL_PASSWORD}\n",
    )
    assert code == 0, out
    assert "changed from 5 to 10" in out and "Approved by carol" in out
    code, out, _ = cim(
        "policy", "set", "idle_lock_minutes", "10", *login, stdin=f"{ADMIN_PASSWORD}\n"
    )
    assert code == 0 and "Nothing changed" in out

    code, out, _ = cim(
        "policy", "show", "--user", AUDREY, "--password-stdin", stdin=f"{AUDREY_PASSWORD}\n"
    )
    assert code == 0
    line = next(i for i, text in enumerate(out.splitlines()) if "idle_lock_minutes" in text)
    assert out.splitlines()[line].split() == ["idle_lock_minutes", "10"]
    assert "by admin, approved by carol" in out.splitlines()[line + 1]
    assert "urn_format" in out and "shipped default" in out and "cim policy set" not in out

    code, out, _ = cim(
        "policy",
        "set",
        "idle_lock_minutes",
        "--default",
        *login,
        "--approver",
        CAROL,
        stdin=f"{ADMIN_PASSWORD}\n{CAROL_PASSWORD}\n",
    )
    assert code == 0 and "changed from 10 to 5" in out
    code, _, err = cim("policy", "set", "idle_lock_minutes", "7", "--default", *login)
    assert code == 2 and "either" in err
