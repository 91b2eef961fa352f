"""The notifiable associations register: declare, withdraw, who may read, conflict checks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from cim_desktop.domain import clock
from cim_desktop.domain.officers.roles import Role
from cim_desktop.domain.officers.rules import Severity
from cim_desktop.errors import InvalidInput, PermissionDenied
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.officers import associations
from cim_desktop.services.session import Session
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from tests.officer_helpers import add_officer

PERSON = "Dwayne O'Connor"


@dataclass
class Logged:
    admin: Session
    hank: Session  # a handler, who declares
    pat: Session  # professional standards (auditor)


@pytest.fixture
def logged(
    new_vault: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> Iterator[Logged]:
    admin = new_vault.session
    add_officer(admin, "hank", "a handler password", [Role.HANDLER])
    add_officer(admin, "pat", "professional standards", [Role.AUDITOR])
    hank = unlock(vault_dir, "hank", "a handler password", keyring_store)
    pat = unlock(vault_dir, "pat", "professional standards", keyring_store)
    yield Logged(admin, hank, pat)
    hank.close()
    pat.close()


def _last(session: Session) -> tuple[str, str, dict[str, object]]:
    row = session.db.audit.page(limit=1)[0]
    return row.action, row.outcome, json.loads(row.detail)


def test_a_declaration_is_audited_by_field_names_only(logged: Logged) -> None:
    made = associations.declare(
        logged.hank,
        PERSON,
        "cousin",
        date(2019, 5, 1),
        "Met at family events; known to deal drugs.",
    )
    action, outcome, detail = _last(logged.hank)
    assert (action, outcome) == ("create", "ok")
    assert detail["fields"] == ["person_name", "relationship", "association_date", "notes"]
    everything = json.dumps([r.detail + r.reason for r in logged.hank.db.audit.page(limit=50)])
    assert "Connor" not in everything and "cousin" not in everything
    assert [a.id for a in associations.declarations(logged.hank)] == [made.id]


def test_only_the_officer_and_professional_standards_see_declarations(logged: Logged) -> None:
    associations.declare(logged.hank, PERSON, "former partner", date(2020, 1, 1))
    hank_id = logged.hank.officer.id
    seen = associations.declarations(logged.pat, hank_id)
    assert [a.person_name for a in seen] == [PERSON]
    row = logged.pat.db.audit.page(limit=1)[0]
    assert (row.action, row.role, row.entity_id) == ("view", "auditor", hank_id)

    with pytest.raises(PermissionDenied, match="professional standards"):
        associations.declarations(logged.admin, hank_id)
    action, outcome, detail = _last(logged.admin)
    assert (action, outcome) == ("denied", "denied")
    assert detail == {"attempted": "read declared associations"}


def test_withdrawing_keeps_the_record_and_only_the_declarer_may(logged: Logged) -> None:
    made = associations.declare(logged.hank, PERSON, "neighbour", date(2021, 3, 3))
    with pytest.raises(PermissionDenied):
        associations.withdraw(logged.pat, made.id)
    gone = associations.withdraw(logged.hank, made.id, "moved away in 2024")
    assert gone.withdrawn_at is not None and not gone.active
    kept = associations.declarations(logged.hank)
    assert [(a.id, a.active) for a in kept] == [(made.id, False)]
    with pytest.raises(InvalidInput, match="already been withdrawn"):
        associations.withdraw(logged.hank, made.id)
    # A withdrawn declaration no longer raises a conflict.
    assert associations.conflicts(logged.admin.db, logged.hank.officer.id, [PERSON]) == []


def test_conflicts_match_names_loosely_and_hide_them_from_others(logged: Logged) -> None:
    made = associations.declare(logged.hank, PERSON, "cousin", date(2019, 5, 1))
    associations.declare(logged.hank, "Someone Else", "friend", date(2019, 5, 1))
    hank_id = logged.hank.officer.id
    names = ["  dwayne   o'CONNOR ", "Unrelated Person"]
    hidden = associations.conflicts(logged.admin.db, hank_id, names)
    assert len(hidden) == 1
    finding = hidden[0]
    assert (finding.code, finding.severity) == ("declared-association", Severity.ERROR)
    assert finding.association_id == made.id and "Connor" not in finding.message
    by_admin = associations.conflicts(logged.admin, hank_id, names)
    assert "Connor" not in by_admin[0].message
    for allowed in (logged.pat, logged.hank):
        shown = associations.conflicts(allowed, hank_id, names)
        assert PERSON in shown[0].message
    assert associations.conflicts(logged.admin, hank_id, ["Dwayne"]) == []
    assert associations.conflicts(logged.admin, logged.pat.officer.id, [PERSON]) == []


def test_a_declaration_is_checked_before_it_is_saved(logged: Logged) -> None:
    before = logged.hank.db.audit.head()
    tomorrow = clock.utc_now().date() + timedelta(days=1)
    for args, message in [
        ((" ", "cousin", date(2020, 1, 1)), "Name"),
        ((PERSON, "", date(2020, 1, 1)), "Relationship"),
        ((PERSON, "cousin", tomorrow), "future"),
        ((PERSON, "x" * 121, date(2020, 1, 1)), "at most 120"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            associations.declare(logged.hank, *args)
    assert logged.hank.db.audit.head() == before
