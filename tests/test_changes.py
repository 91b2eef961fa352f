"""Change sets: a use case's outcome names what it changed, gathered from the audit rows its
transactions committed; rolled-back work contributes nothing; an audited read only grows the
audit trail."""

from __future__ import annotations

from datetime import date

import pytest

from cim_desktop.domain.audit.rows import Action, AuditEvent
from cim_desktop.domain.changes import Kind
from cim_desktop.errors import InvalidInput, PermissionDenied
from cim_desktop.services.changes import FailedWithChanges, collect
from cim_desktop.services.officers import associations
from cim_desktop.services.officers import management as officers
from cim_desktop.services.review import queue as review
from cim_desktop.services.vault.lifecycle import NewVault


def _audit_rows(new_vault: NewVault) -> int:
    return int(new_vault.session.db.conn.execute("SELECT count(*) FROM audit").fetchone()[0])


def test_a_use_case_names_the_kinds_and_ids_it_changed(new_vault: NewVault) -> None:
    s = new_vault.session
    outcome = collect(s, lambda: associations.declare(s, "A. Person", "cousin", date(2020, 1, 1)))
    declared = outcome.value
    assert outcome.changes.kinds == {Kind.OFFICERS, Kind.AUDIT}
    assert outcome.changes.ids(Kind.OFFICERS) == {declared.id}

    withdrawn = collect(s, lambda: associations.withdraw(s, declared.id))
    assert withdrawn.changes.kinds == {Kind.OFFICERS, Kind.AUDIT}
    assert withdrawn.changes.ids(Kind.OFFICERS) == {declared.id}


def test_a_rolled_back_transaction_contributes_nothing(new_vault: NewVault) -> None:
    s = new_vault.session
    before = _audit_rows(new_vault)

    def half_done() -> None:
        # One committed change, then one that writes its audit row and is rolled back.
        associations.declare(s, "B. Person", "neighbour", date(2021, 5, 1))
        with s.db.transaction():
            s.db.audit.append(s.actor, AuditEvent(Action.UPDATE, "policy", "idle_lock_minutes"))
            raise InvalidInput("Refused half-way.")

    with pytest.raises(FailedWithChanges) as caught:
        collect(s, half_done)
    assert isinstance(caught.value.error, InvalidInput)
    assert caught.value.changes.kinds == {Kind.OFFICERS, Kind.AUDIT}  # no POLICY
    assert _audit_rows(new_vault) == before + 1

    with pytest.raises(FailedWithChanges) as nothing:
        collect(s, lambda: associations.declare(s, "", "cousin", date(2020, 1, 1)))
    assert not nothing.value.changes  # refused before any transaction
    assert _audit_rows(new_vault) == before + 1


def test_an_audited_read_yields_only_the_audit_trail(new_vault: NewVault) -> None:
    s = new_vault.session
    outcome = collect(s, lambda: officers.details(s, s.officer.id))
    assert outcome.value.officer.id == s.officer.id
    assert outcome.changes.kinds == {Kind.AUDIT}


def test_an_audited_denial_is_reported_with_the_refusal(new_vault: NewVault) -> None:
    s = new_vault.session  # an administrator: not a reader of the review queue
    with pytest.raises(FailedWithChanges) as caught:
        collect(s, lambda: review.pending(s))
    assert isinstance(caught.value.error, PermissionDenied)
    assert caught.value.changes.kinds == {Kind.AUDIT, Kind.REVIEW}


# Entity types that name no record a screen lists: a login session, a second officer's proof.
_NOT_RECORDS = {"session", "approval"}


def test_every_entity_type_the_services_audit_maps_to_a_kind() -> None:
    # A new entity type without a kind would change records that no screen hears about (the
    # sources screen missed team assignments this way, "source-team" having no kind).
    import re
    from pathlib import Path

    import cim_desktop
    from cim_desktop.domain import changes
    from cim_desktop.services.access import permissions
    from cim_desktop.services.sources import register

    named = {"SOURCE": permissions.SOURCE, "TEAM": register.TEAM}
    found: set[str] = set()
    for path in (Path(cim_desktop.__file__).parent / "services").rglob("*.py"):
        for m in re.finditer(r"AuditEvent\(\s*[^,]+,\s*([^,\)\s]+)", path.read_text()):
            token = m.group(1)
            if token.startswith('"'):
                found.add(token.strip('"'))
            elif token in named:
                found.add(named[token])
    assert {"officer", "policy", "source", "source-team"} <= found
    unmapped = {
        e
        for e in found - _NOT_RECORDS
        if changes.from_audit("create", e, "x").kinds == {Kind.AUDIT} and e != "audit"
    }
    assert not unmapped, f"entity types with no kind in domain/changes.py: {sorted(unmapped)}"
