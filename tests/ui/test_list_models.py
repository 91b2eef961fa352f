"""The short in-memory table models pass Qt's model checks, over real rows.

Long lists page by keyset (``ui/kit/paged_model``; checked in the audit and sources
tests); these hold lists bounded by the size of the unit, loaded whole on the worker.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester

from cim_desktop.services.officers import accounts
from cim_desktop.services.review.queue import ReviewItem, ReviewKind
from cim_desktop.services.vault.lifecycle import NewVault
from cim_desktop.ui.kit.list_model import ListTableModel
from cim_desktop.ui.officers.model import Listed, OfficerFilter, OfficerModel
from cim_desktop.ui.review.screen import ReviewModel


class Pairs(ListTableModel[tuple[str, int]]):
    headers = ("Name", "Number")

    def display(self, row: tuple[str, int], column: int) -> Any:
        return row[column]

    def key(self, row: tuple[str, int]) -> Any:
        return row[0]


def test_the_list_model_passes_the_model_tester(qtmodeltester: ModelTester) -> None:
    model = Pairs()
    model.set_rows([("a", 1), ("b", 2)])
    qtmodeltester.check(model, force_py=True)
    model.set_rows([("c", 3)])  # a reset, watched by the tester
    assert model.data(model.index(0, 1)) == 3
    assert model.data(model.index(0, 0), Qt.ItemDataRole.UserRole) == "c"
    assert model.data(model.index(0, 0), Qt.ItemDataRole.DecorationRole) is None
    model.set_rows([])
    assert model.rowCount() == 0


def test_the_officers_model_passes_the_model_tester(
    qtmodeltester: ModelTester, new_vault: NewVault
) -> None:
    officers = accounts.list_officers(new_vault.session)
    model = OfficerModel()
    model.set_rows([Listed(o, locked=False) for o in officers])
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == len(officers) >= 1
    proxy = OfficerFilter()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy, force_py=True)


def test_the_review_model_passes_the_model_tester(qtmodeltester: ModelTester) -> None:
    items = [
        ReviewItem(
            ReviewKind.BREAK_GLASS,
            "g1",
            "o1",
            "someone",
            "2026-01-02T03:04:05.000000Z",
            "DSU-1",
            "opened",
        ),
        ReviewItem(ReviewKind.BREAK_GLASS, "g2", "o2", "", "not a time", "", "opened"),
    ]
    model = ReviewModel()
    model.set_items(items)
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 2 and model.item_at(1).ref == "g2"
    model.clear()
    assert model.rowCount() == 0
