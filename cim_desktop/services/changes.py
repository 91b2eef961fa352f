"""Running a use case so that it returns what it changed (a typed change set).

Use cases return their own value; what they changed is gathered by the transaction from the
audit rows it commits (``store.database.VaultDatabase.recording``). ``collect`` joins the two,
so the GUI's operation helper and the command line get one ``Outcome`` from any use case,
including one that committed an audited denial and then refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from cim_desktop.domain import changes
from cim_desktop.domain.changes import EMPTY, ChangeSet, Outcome

if TYPE_CHECKING:
    # Only named here: the operation helper (and so the login window) imports this module
    # before any session exists, and the session's module is slow to import.
    from cim_desktop.services.session import Session


class FailedWithChanges(Exception):
    """A use case refused or failed after committing something (an audited denial)."""

    def __init__(self, error: BaseException, changed: ChangeSet) -> None:
        super().__init__(str(error))
        self.error = error
        self.changes = changed


def collect[T](session: Session | None, fn: Callable[[], T]) -> Outcome[T]:
    if session is None:
        return Outcome(fn(), EMPTY)
    with session.db.recording() as recorded:
        try:
            value = fn()
        except Exception as exc:
            raise FailedWithChanges(exc, changes.merged(recorded)) from exc
    return Outcome(value, changes.merged(recorded))
