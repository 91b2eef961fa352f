"""The register list paged and filtered in SQL gives exactly the old whole-table answer.

The old list read every source and decided each in Python (``list_sources``); the paged
list narrows in SQL (status, text, and for officers who see nothing outside their team only
the records they are linked to) and still decides each row with the same rule table. Both
are compared here, page by page, for officers of every kind and several filters.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cim_desktop.domain.access.rules import TeamRole
from cim_desktop.domain.sources.model import SourceStatus
from cim_desktop.services.access import permissions as access
from cim_desktop.services.policy import settings as policy
from cim_desktop.services.sources import register as sources
from cim_desktop.services.sources.register import SourceFilter, SourceSummary, status_label
from tests.access_world import World, build, password
from tests.conftest import ADMIN

COUNT = 450
PAGE = 100
FILTERS = [
    SourceFilter(),
    SourceFilter(text="kestrel"),
    SourceFilter(text="0004"),  # URNs ...0004, ...0040-0049, ...0400-0449
    SourceFilter(text="bird 1"),  # pseudonyms, hidden from some officers
    SourceFilter(text="authorised"),  # a status by its name
    SourceFilter(status=SourceStatus.AUTHORISED),
    SourceFilter(status=SourceStatus.PROSPECT, text="kestrel"),
    SourceFilter(text="50%_"),  # LIKE's wildcards match literally
    SourceFilter(text="émile"),
    SourceFilter(text="ÉMILE 3"),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build(
        tmp_path_factory.mktemp("paging") / "vault",
        "ctrl",
        "keeper",
        "handler1",
        "handler2",
        "auditor",
        "ao",
    )
    keeper = built["keeper"]
    for number in range(COUNT):
        name = "Kestrel" if number % 10 == 0 else f"Bird {number}"
        if number in (3, 33):
            name = f"Émile {number}"  # SQLite's LIKE folds the case of ASCII letters only
        urn = sources.register_source(keeper, name).urn
        if number % 3 == 0:
            sources.assign_team_role(keeper, urn, "handler1", TeamRole.HANDLER)
        if number % 7 == 0:
            sources.assign_team_role(keeper, urn, "handler2", TeamRole.HANDLER)
        if number % 4 == 0:
            sources.update_status(keeper, urn, SourceStatus.AUTHORISED.value)
    # One source open to handler2 by break-glass only.
    outside = next(
        s.urn
        for s in sources.list_sources(keeper)
        if s.urn not in {t.urn for t in sources.list_sources(built["handler2"])}
    )
    access.break_glass(built["handler2"], outside, password("handler2"), "x" * 60)
    yield built
    built.close()


def _old(session: object, flt: SourceFilter) -> list[SourceSummary]:
    """The old screen's answer: the whole table, filtered in Python."""
    needle = flt.text.strip().casefold()
    return [
        r
        for r in sources.list_sources(session)  # type: ignore[arg-type]
        if (flt.status is None or r.status is flt.status)
        and (
            not needle
            or any(
                needle in part.casefold()
                for part in (r.urn, r.pseudonym or "", status_label(r.status))
            )
        )
    ]


def _paged(session: object, flt: SourceFilter) -> list[SourceSummary]:
    rows: list[SourceSummary] = []
    after: str | None = None
    while True:
        page = sources.list_page(session, flt, after, PAGE)  # type: ignore[arg-type]
        rows += page
        if len(page) < PAGE:
            return rows
        after = page[-1].urn


@pytest.mark.parametrize("metadata_outside_team", [False, True])
@pytest.mark.parametrize("username", [ADMIN, "ctrl", "keeper", "handler1", "handler2", "auditor"])
def test_paged_list_matches_the_whole_table_answer(
    world: World, username: str, metadata_outside_team: bool
) -> None:
    policy.change(world[ADMIN], "metadata_outside_team", metadata_outside_team, None)
    try:
        session = world[username]
        for flt in FILTERS:
            old = _old(session, flt)
            assert _paged(session, flt) == old, (username, flt)
            assert sources.count_visible(session, flt) == len(old)
    finally:
        policy.change(world[ADMIN], "metadata_outside_team", False, None)


def test_the_lists_are_not_trivial(world: World) -> None:
    """Guards the comparison above: it covers long lists, short ones and hidden content."""
    assert len(_old(world["keeper"], SourceFilter())) == COUNT
    handler1 = _paged(world["handler1"], SourceFilter())
    assert len(handler1) == COUNT // 3 and all(r.pseudonym for r in handler1)
    handler2 = _paged(world["handler2"], SourceFilter())
    assert sum(r.break_glass for r in handler2) == 1
    assert _paged(world[ADMIN], SourceFilter()) == []
    policy.change(world[ADMIN], "metadata_outside_team", True, None)
    try:
        hidden = [
            r for r in _paged(world["handler2"], SourceFilter(text="bird 1")) if not r.pseudonym
        ]
        assert hidden == [], "a pseudonym the officer may not see never matches their search"
        assert len(_paged(world["handler2"], SourceFilter())) == COUNT
    finally:
        policy.change(world[ADMIN], "metadata_outside_team", False, None)


def test_each_page_listed_is_audited(world: World) -> None:
    session = world["handler1"]
    before = session.db.audit.head()[0]
    _paged(session, SourceFilter())
    rows = session.db.audit.page(before_seq=None, limit=10)
    listed = [r for r in rows if r.seq > before and r.action == "view" and r.entity_id == "*"]
    assert len(listed) == 2  # 150 rows: a page of 100 and one of 50
