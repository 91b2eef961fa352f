"""Source particulars are versioned: changes append, nothing is altered, history is readable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cim_desktop.domain import clock
from cim_desktop.domain.access.rules import TeamRole
from cim_desktop.domain.sources.model import SourceStatus
from cim_desktop.errors import PermissionDenied
from cim_desktop.services.sources import register as sources
from cim_desktop.store import versioned
from cim_desktop.store.connection import DatabaseError, connect
from cim_desktop.store.migrations import ladder as schema
from cim_desktop.store.migrations.m008_source_versions import SOURCE_VERSIONS
from cim_desktop.store.sources.register import SourceRepository
from tests.access_world import World, build

LATER = datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build(tmp_path_factory.mktemp("versions") / "vault", "ctrl", "handler1", "auditor")
    yield built
    built.close()


def _source(world: World, pseudonym: str) -> str:
    urn = sources.register_source(world["ctrl"], pseudonym).urn
    sources.assign_team_role(world["ctrl"], urn, "handler1", TeamRole.HANDLER)
    return urn


def test_a_pseudonym_change_is_a_new_version_by_its_author(world: World) -> None:
    ctrl, handler = world["ctrl"], world["handler1"]
    urn = _source(world, "Kite")
    clock.set_clock(lambda: LATER)
    sources.update_pseudonym(handler, urn, "Red Kite")
    assert sources.view_content(ctrl, urn).pseudonym == "Red Kite"  # read via the view

    first, second = sources.history(ctrl, urn)
    assert (first.version, first.author, first.pseudonym) == (1, ctrl.officer.id, "Kite")
    assert first.changed == ()
    assert (second.version, second.author, second.pseudonym) == (2, handler.officer.id, "Red Kite")
    assert second.created_at == clock.iso_utc(LATER) and second.changed == ("pseudonym",)
    # The change's audit row names the field, never the value; reading history is audited.
    rows = [r for r in ctrl.db.audit.iter_all() if r.entity_id == urn]
    assert all("Red Kite" not in r.detail for r in rows)
    assert json.loads(rows[-1].detail) == {"tier": "content", "history": True}


def test_changed_since_names_the_fields_that_differ(world: World) -> None:
    ctrl, handler = world["ctrl"], world["handler1"]
    urn = _source(world, "Merlin")
    sources.update_status(ctrl, urn, SourceStatus.AUTHORISED.value)
    sources.update_pseudonym(handler, urn, "Blue Merlin")
    conn = ctrl.db.conn
    assert versioned.changed_since(conn, SOURCE_VERSIONS, urn, 1) == ["pseudonym", "status"]
    assert versioned.changed_since(conn, SOURCE_VERSIONS, urn, 2) == ["pseudonym"]
    assert versioned.changed_since(conn, SOURCE_VERSIONS, urn, 3) == []
    current = versioned.current(conn, SOURCE_VERSIONS, urn)
    assert current is not None and current.version == 3
    assert [(v.status.value, v.changed) for v in sources.history(ctrl, urn)] == [
        ("prospect", ()),
        ("authorised", ("status",)),
        ("authorised", ("pseudonym",)),
    ]


def test_history_needs_content_access(world: World) -> None:
    urn = _source(world, "Hobby")
    with pytest.raises(PermissionDenied):
        sources.history(world["auditor"], urn)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE source_versions SET pseudonym = 'Forged' WHERE urn = ?",
        "DELETE FROM source_versions WHERE urn = ?",
    ],
)
def test_versions_cannot_be_altered_or_removed(world: World, statement: str) -> None:
    ctrl = world["ctrl"]
    urn = _source(world, "Osprey")
    with pytest.raises(DatabaseError, match="append-only"):
        ctrl.db.conn.execute(statement, (urn,))
    assert sources.view_content(ctrl, urn).pseudonym == "Osprey"


def test_migration_carries_sources_from_a_version_7_vault(tmp_path: Path) -> None:
    key = bytes(range(32))
    conn = connect(tmp_path / "vault.db", key, create=True)
    for step in schema.MIGRATIONS[:7]:
        schema.apply(conn, step)
    conn.executemany(
        "INSERT INTO sources (urn, pseudonym, status, created_at, created_by) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            ("DSU-2025-0001", "Swift", "authorised", "2025-01-02T03:04:05Z", "o-ctrl"),
            ("DSU-2025-0002", "Wren", "cancelled", "2025-02-03T04:05:06Z", ""),
        ],
    )
    schema.apply(conn, schema.MIGRATIONS[7])
    repo = SourceRepository(conn)
    swift, wren = repo.all()
    assert (swift.pseudonym, swift.status, swift.created_by) == (
        "Swift",
        SourceStatus.AUTHORISED,
        "o-ctrl",
    )
    assert (wren.pseudonym, wren.status) == ("Wren", SourceStatus.CANCELLED)
    (v1,) = repo.history("DSU-2025-0001")
    assert (v1.version, v1.author, v1.created_at) == (1, "o-ctrl", "2025-01-02T03:04:05Z")
    assert repo.history("DSU-2025-0002")[0].author == "migration"  # creator not known
    conn.close()
