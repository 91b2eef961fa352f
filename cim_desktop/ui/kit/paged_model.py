"""A table model over a long list, read a keyset page at a time on the database worker.

A screen hands the model a ``PageQuery``: a function that, given the key of the last row
held (``None`` for the first page) and a limit, returns the next rows in order. Keys are
the list's own order (the audit sequence number, a source's URN), never ``OFFSET``: a page
costs the same wherever the view is, and rows added meanwhile do not shift it.

* ``fetchMore`` runs the next page through the operation helper (the single DB worker,
  never the GUI thread); ``canFetchMore`` is false while one is on its way, so a view that
  scrolls fast asks once.
* ``reset`` (a new filter, a reload) begins and ends a model reset and starts a new
  generation: a page asked for under an older query is dropped when it arrives.
* Each row is turned into its cells once, when its page arrives (``present``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from cim_desktop.ui.kit.operation import Operation

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from cim_desktop.errors import CimError
    from cim_desktop.services.session import Session
    from cim_desktop.ui.kit.worker import DbWorker

AnyIndex = QModelIndex | QPersistentModelIndex
PageQuery = Callable[[Any, int], list[Any]]  # (key after which, limit) -> rows


class PagedTableModel[R](QAbstractTableModel):
    """Subclasses say what a row shows (``display``) and what orders it (``key``)."""

    headers: tuple[str, ...] = ()
    page_arrived = Signal(int)  # rows added by the page just shown
    page_failed = Signal(str)  # a user error while reading a further page

    def __init__(self, owner: QWidget, worker: DbWorker, page_size: int = 200) -> None:
        super().__init__(owner)
        self._owner = owner
        self._worker = worker
        self.page_size = page_size
        self._query: PageQuery | None = None
        self._session: Session | None = None
        self._rows: list[R] = []
        self._cells: list[tuple[Any, ...]] = []
        self._exhausted = True
        self._loading = False
        self._generation = 0
        self.pages_fetched = 0

    # -- what subclasses say --------------------------------------------------------------
    def key(self, row: R) -> Hashable:
        raise NotImplementedError

    def display(self, row: R) -> tuple[Any, ...]:
        """The row's cells, one per header."""
        raise NotImplementedError

    def tooltip(self, row: R, column: int) -> Any:
        return None

    def role_data(self, row: R, column: int, role: int) -> Any:
        """Any other role a subclass answers (alignment, colour); None otherwise."""
        return None

    # -- loading --------------------------------------------------------------------------
    def reset(self, session: Session | None, query: PageQuery | None, first: list[R]) -> None:
        """Show a new list whose first page (read on the worker) is ``first``."""
        self.beginResetModel()
        self._generation += 1
        self._session, self._query = session, query
        self._rows, self._cells = [], []
        self._loading = False
        self.pages_fetched = 0
        self._take(first)
        self.endResetModel()

    def load(self, session: Session, query: PageQuery) -> None:
        """Empty the list and read its first page on the worker."""
        self.reset(session, query, [])
        self._exhausted = False
        self.fetchMore()

    def clear(self) -> None:
        self.reset(None, None, [])

    def _take(self, page: list[R]) -> None:
        self.pages_fetched += 1
        self._rows.extend(page)
        self._cells.extend(self.display(r) for r in page)
        self._exhausted = self._query is None or len(page) < self.page_size

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        return (
            not parent.isValid()
            and self._query is not None
            and not self._exhausted
            and not self._loading
        )

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent):
            return
        query, limit, generation = self._query, self.page_size, self._generation
        assert query is not None
        after = self.key(self._rows[-1]) if self._rows else None
        self._loading = True
        (
            Operation(self._owner, self._worker, lambda: query(after, limit), session=self._session)
            .success(lambda page: self._arrived(generation, page))
            .handle(lambda exc: self._refused(generation, exc))
            .run()
        )

    def _arrived(self, generation: int, page: list[R]) -> None:
        if generation != self._generation:
            return  # asked for under a query that has since been replaced
        if page:
            first = len(self._rows)
            # Still "loading" until the rows are in: a view or tester asking for more from
            # inside the insertion signals would otherwise ask for this same page again.
            self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
            self._take(page)
            self.endInsertRows()
        else:
            self._exhausted = True
        self._loading = False
        self.page_arrived.emit(len(page))

    def _refused(self, generation: int, exc: CimError) -> bool:
        if generation == self._generation:
            self._loading = False
            self._exhausted = True
            self.page_failed.emit(exc.message)
        return True

    # -- reading it -----------------------------------------------------------------------
    @property
    def loading(self) -> bool:
        return self._loading

    @property
    def rows(self) -> list[R]:
        return self._rows

    def row_at(self, row: int) -> R:
        return self._rows[row]

    def index_of(self, key: Hashable) -> int | None:
        for number, row in enumerate(self._rows):
            if self.key(row) == key:
                return number
        return None

    # -- the model contract ---------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation is Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.headers)
        ):
            return self.headers[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        column = index.column()
        if not 0 <= column < len(self.headers):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cells[index.row()][column]
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return self.key(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(row, column)
        return self.role_data(row, column, role)
