"""Opening the SQLCipher vault database: raw key, hardened pragmas, safe failure.

Nothing is written to a file until it has been proven to decrypt with the key: a wrong,
foreign or damaged file is left byte-identical, with no ``-wal``/``-shm`` beside it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, cast

import sqlcipher3
from sqlcipher3 import dbapi2

from cim_desktop.errors import CimError, StorageFull, VaultBusy, VaultCorrupt

PINNED_SQLCIPHER = (4, 19, 0)
PAGE_SIZE = 4096
SQLITE_HEADER = b"SQLite format 3\x00"

# SQLite primary result codes (the low byte of an extended code).
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_NOMEM = 7
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26

DatabaseError: type[Exception] = dbapi2.DatabaseError


class Cursor(Protocol):
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The part of the sqlcipher3 connection the store uses (the module ships no types)."""

    @property
    def in_transaction(self) -> bool: ...
    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...
    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...
    def backup(self, target: Connection) -> None: ...
    def close(self) -> None: ...


_PRAGMAS = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA secure_delete = ON",
    "PRAGMA cache_size = -65536",
    "PRAGMA busy_timeout = 5000",
)

_EXPECTED = {
    "foreign_keys": "1",
    "journal_mode": "wal",
    "synchronous": "2",
    "secure_delete": "1",
}


class UnsafeEnvironment(CimError):
    exit_code = 1


# SQLCipher's memory security (wiping and locking every allocation it frees) is one switch
# for the whole process, and once on it cannot be turned off again until the process ends.
# So it is chosen once a process, from the copy of the site policy beside the vault, before
# the first connection; every later connection in the process applies that same value.
_memory_security: bool | None = None


def choose_memory_security(wanted: bool) -> bool:
    """Fix this process's memory security at ``wanted`` unless a connection already fixed
    it; return the value in force (a change of policy takes effect at the next start)."""
    global _memory_security
    if _memory_security is None:
        _memory_security = bool(wanted)
    return _memory_security


def memory_security_in_force() -> bool:
    """The value this process applies to its connections (off until one is chosen)."""
    return bool(_memory_security)


def error_code(exc: BaseException) -> int:
    code = getattr(exc, "sqlite_errorcode", None)
    return int(code) & 0xFF if isinstance(code, int) else -1


def map_error(exc: BaseException, what: str = "the vault") -> CimError:
    """Translate a SQLite error into a user-facing one, by result code only.

    Only the codes below are the user's or the environment's problem (a damaged file, a full
    disk, another process, permissions, the disk, memory). Any other code (a constraint, a
    misuse, a schema mismatch) means the program did something wrong: the original error is
    raised again here, so that it reaches the crash path with its own stack, instead of being
    shown to the user as a code number."""
    code = error_code(exc)
    if code in (SQLITE_NOTADB, SQLITE_CORRUPT):
        return VaultCorrupt(
            f"{what} is damaged, is not a cim-desktop vault, or belongs to another key. "
            "It was left untouched. Restore it from a backup."
        )
    if code == SQLITE_FULL:
        return StorageFull()
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return VaultBusy(f"{what} is in use by another cim-desktop process. Try again shortly.")
    if code in (SQLITE_READONLY, SQLITE_CANTOPEN):
        return CimError(f"{what} cannot be written: check the folder's permissions.")
    if code == SQLITE_IOERR:
        return CimError(f"A disk error occurred while reading or writing {what}.")
    if code == SQLITE_NOMEM:
        return CimError(f"The computer ran out of memory while working on {what}.")
    raise exc


@contextlib.contextmanager
def mapped_errors(what: str = "the vault") -> Iterator[None]:
    try:
        yield
    except DatabaseError as exc:
        raise map_error(exc, what) from None


def precheck_file(path: Path, what: str = "The vault file") -> None:
    """Cheap checks that need no key; they give the most precise message."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        raise VaultCorrupt(f"{what} {path.name} does not exist.") from None
    except OSError as exc:
        raise VaultCorrupt(f"{what} {path.name} cannot be read ({exc.strerror}).") from None
    if size == 0:
        raise VaultCorrupt(f"{what} {path.name} is empty (zero length). It was left untouched.")
    if head == SQLITE_HEADER:
        raise VaultCorrupt(
            f"{what} {path.name} is a plain, unencrypted SQLite file, not a cim-desktop vault. "
            "It was left untouched."
        )
    if size % PAGE_SIZE:
        raise VaultCorrupt(
            f"{what} {path.name} is truncated or damaged (its size is not a whole number of "
            "pages). It was left untouched. Restore it from a backup."
        )


def _sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def connect(
    path: Path | str,
    key: bytes,
    *,
    create: bool = False,
    check: bool = True,
    verify_pages: bool = False,
) -> Connection:
    """Open ``path`` with the raw 32-byte key and the vault's pragmas, or raise.

    With ``create`` the file must not exist yet. Otherwise the file must already decrypt;
    on failure any side file this call created is removed again. ``verify_pages`` checks the
    HMAC of every page before anything else happens, so a damaged page anywhere is reported
    at open rather than in the middle of someone's work.
    """
    if len(key) != 32:
        raise ValueError("the vault key must be 32 bytes")
    path = Path(path)
    if create:
        if path.exists():
            raise VaultCorrupt(f"{path.name} already exists.")
    else:
        precheck_file(path)
    existing_sidecars = {p for p in _sidecars(path) if p.exists()}
    conn = cast(
        Connection,
        sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False),
    )
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        wanted = choose_memory_security(False)
        conn.execute(f"PRAGMA cipher_memory_security = {'ON' if wanted else 'OFF'}")
        # The first read is where a wrong key or a damaged first page shows.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if verify_pages:
            damaged = conn.execute("PRAGMA cipher_integrity_check").fetchall()
            if damaged:
                raise VaultCorrupt(
                    f"The vault file {path.name} is damaged ({len(damaged)} page(s) fail their "
                    "authentication check). It was left untouched. Restore it from a backup."
                )
        for pragma in _PRAGMAS:
            conn.execute(pragma).fetchall()
        if check:
            check_pragmas(conn, memory_security=wanted)
    except BaseException as exc:
        conn.close()
        for side in _sidecars(path):
            if side not in existing_sidecars:
                with contextlib.suppress(OSError):
                    side.unlink()
        if create:
            with contextlib.suppress(OSError):
                path.unlink()
        if isinstance(exc, DatabaseError):
            raise map_error(exc) from None
        raise
    return conn


def read_pragmas(conn: Connection) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in (
        *_EXPECTED,
        "cipher_memory_security",
        "cipher_version",
        "cipher_provider",
        "user_version",
        "cache_size",
    ):
        row = conn.execute(f"PRAGMA {name}").fetchone()
        values[name] = "" if row is None else str(row[0])
    return values


def sqlcipher_version(conn: Connection) -> tuple[int, ...]:
    text = str(conn.execute("PRAGMA cipher_version").fetchone()[0]).split()[0]
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def check_pragmas(conn: Connection, *, memory_security: bool) -> None:
    """Refuse to run on a connection without the hardening the vault relies on, or whose
    memory security reads back other than what was asked for."""
    values = read_pragmas(conn)
    wanted = {**_EXPECTED, "cipher_memory_security": "1" if memory_security else "0"}
    wrong = [f"{k}={values[k]!r}" for k, want in wanted.items() if values[k].lower() != want]
    if wrong:
        raise UnsafeEnvironment(
            "The encrypted database engine is not configured safely ("
            + ", ".join(wrong)
            + "); cim-desktop will not run."
        )
    if sqlcipher_version(conn) < PINNED_SQLCIPHER:
        pinned = ".".join(map(str, PINNED_SQLCIPHER))
        raise UnsafeEnvironment(
            f"SQLCipher {values['cipher_version']} is older than the required {pinned}."
        )


def integrity_problems(conn: Connection) -> list[str]:
    """Run SQLCipher's page-HMAC check and SQLite's structural check; empty means sound."""
    problems: list[str] = []
    try:
        problems += [str(r[0]) for r in conn.execute("PRAGMA cipher_integrity_check")]
        rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
        if rows != ["ok"]:
            problems += rows
    except DatabaseError as exc:
        problems.append(f"the database could not be read (code {error_code(exc)})")
    return problems


def close_quietly(conn: Any) -> None:
    with contextlib.suppress(Exception):
        conn.close()
