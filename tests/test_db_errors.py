"""SQLite errors: the known result codes become plain user messages; any other code is a bug
and reaches the crash path as it is (never shown as a user error with a code number)."""

from __future__ import annotations

import pytest
import sqlcipher3

from cim_desktop.errors import CimError, StorageFull, VaultBusy
from cim_desktop.services.vault.lifecycle import NewVault
from cim_desktop.store.connection import error_code, map_error

SQLITE_CONSTRAINT = 19
SQLITE_MISUSE = 21


def _error(kind: type[Exception], code: int) -> Exception:
    exc = kind("what SQLite said")
    exc.sqlite_errorcode = code  # type: ignore[attr-defined]
    return exc


def test_known_codes_are_user_errors() -> None:
    assert isinstance(map_error(_error(sqlcipher3.dbapi2.OperationalError, 13)), StorageFull)
    assert isinstance(map_error(_error(sqlcipher3.dbapi2.OperationalError, 5)), VaultBusy)
    # Extended codes carry the primary code in their low byte (SQLITE_IOERR_WRITE here).
    io = map_error(_error(sqlcipher3.dbapi2.OperationalError, 10 | (3 << 8)))
    assert type(io) is CimError and "disk error" in io.message


def test_an_unlisted_code_is_raised_as_it_is() -> None:
    original = _error(sqlcipher3.dbapi2.InterfaceError, SQLITE_MISUSE)
    with pytest.raises(sqlcipher3.dbapi2.InterfaceError) as caught:
        map_error(original)
    assert caught.value is original


def test_a_real_unlisted_error_inside_a_transaction_is_a_bug(new_vault: NewVault) -> None:
    db = new_vault.session.db
    before = db.conn.execute("SELECT count(*) FROM audit").fetchone()[0]
    with pytest.raises(Exception) as caught, db.transaction():
        # Refused by the append-only trigger: SQLITE_CONSTRAINT, which no use case expects.
        db.conn.execute("UPDATE audit SET detail = '{}'")
    assert not isinstance(caught.value, CimError)
    assert error_code(caught.value) == SQLITE_CONSTRAINT
    # Rolled back, and the connection is usable afterwards.
    assert db.conn.execute("SELECT count(*) FROM audit").fetchone()[0] == before
    assert not db.conn.in_transaction
