"""One open vault database: connection, transactions, repositories, migrations, copies."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from cim_desktop.domain import changes
from cim_desktop.domain.audit.rows import AuditRow, ChainReport
from cim_desktop.domain.changes import ChangeSet
from cim_desktop.domain.clock import utc_now
from cim_desktop.errors import CimError, VaultCorrupt, VaultTooNew
from cim_desktop.store.audit.chain import AuditChain
from cim_desktop.store.audit.chain_walk import walk_file
from cim_desktop.store.connection import (
    Connection,
    DatabaseError,
    close_quietly,
    connect,
    integrity_problems,
    map_error,
    read_pragmas,
)
from cim_desktop.store.meta import MetaRepository
from cim_desktop.store.migrations import ladder as schema
from cim_desktop.store.officers.accounts import OfficerRepository
from cim_desktop.store.vault import state

COUNTED_TABLES = ("officers", "officer_roles", "audit")
# Up to this size every page's HMAC is checked at open (about 0.15 s at the limit here), so a
# damaged vault is refused before anyone works in it. A larger vault opens at once and its
# pages are checked by the next verification (the GUI starts one right after login).
PAGE_CHECK_AT_OPEN_MAX_BYTES = 64 * 1024 * 1024


class VaultDatabase:
    def __init__(self, conn: Connection, path: Path, vault_id: str) -> None:
        self.conn = conn
        self.path = path
        self.vault_id = vault_id
        self.audit = AuditChain(conn, vault_id)
        self.audit.on_append = self._appended
        # What the open transaction changed (from its audit rows), and who is listening:
        # ``recording()`` blocks, innermost last. Kept only when the transaction commits.
        self._uncommitted: list[ChangeSet] = []
        self._recorders: list[list[ChangeSet]] = []
        self.officers = OfficerRepository(conn)
        self.meta = MetaRepository(conn)
        # (from version, to version, pre-migration copy) when opening migrated the schema.
        self.migrated: tuple[int, int, Path] | None = None
        self.pages_verified = False

    # -- opening -----------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path, key: bytes, vault_id: str) -> VaultDatabase:
        conn = connect(path, key, create=True)
        try:
            for step in schema.MIGRATIONS:
                schema.apply(conn, step)
        except BaseException:
            close_quietly(conn)
            with contextlib.suppress(OSError):
                path.unlink()
            raise
        db = cls(conn, path, vault_id)
        with db.transaction():
            db.meta.set("vault_id", vault_id)
        return db

    @classmethod
    def open(
        cls,
        path: Path,
        key: bytes,
        vault_id: str,
        *,
        migrations: tuple[schema.Migration, ...] = schema.MIGRATIONS,
    ) -> VaultDatabase:
        check_pages = _file_size(path) <= PAGE_CHECK_AT_OPEN_MAX_BYTES
        conn = connect(path, key, verify_pages=check_pages)
        migrated: tuple[int, int, Path] | None = None
        try:
            version = schema.user_version(conn)
            latest = migrations[-1].version
            if version > latest:
                raise VaultTooNew(
                    f"This vault was written by a newer version of cim-desktop (schema "
                    f"{version}; this version understands up to {latest}). It was left "
                    "untouched. Install the newer version to open it."
                )
            if version < 1:
                raise VaultCorrupt("The vault database has no schema; it is not a vault.")
            found = MetaRepository(conn).get("vault_id")
            if found != vault_id:
                raise VaultCorrupt(
                    "The vault database belongs to another vault than its key-slot file."
                )
            if version < latest:
                copy = path.with_name(
                    f"{path.name}.pre-migration-v{version}-{utc_now():%Y%m%dT%H%M%SZ}"
                )
                _backup_connection(conn, copy, key)
                for step in migrations:
                    if step.version > version:
                        schema.apply(conn, step)
                migrated = (version, latest, copy)
        except DatabaseError as exc:
            close_quietly(conn)
            raise map_error(exc) from None
        except BaseException:
            close_quietly(conn)
            raise
        db = cls(conn, path, vault_id)
        db.migrated = migrated
        db.pages_verified = check_pages
        return db

    # -- transactions ------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction: the change and its audit row commit together or not at all."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except DatabaseError as exc:
            raise map_error(exc) from None
        self._uncommitted.clear()
        try:
            state.mark_foreign(self.conn)
            yield
            self.conn.execute("COMMIT")
        except DatabaseError as exc:
            self._uncommitted.clear()
            with contextlib.suppress(DatabaseError):
                self.conn.execute("ROLLBACK")
            raise map_error(exc) from None
        except BaseException:
            self._uncommitted.clear()
            with contextlib.suppress(DatabaseError):
                self.conn.execute("ROLLBACK")
            raise
        for recorder in self._recorders:
            recorder.extend(self._uncommitted)
        self._uncommitted.clear()

    def _appended(self, row: AuditRow) -> None:
        self._uncommitted.append(changes.from_audit(row.action, row.entity_type, row.entity_id))

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[ChangeSet]]:
        """Collect what every transaction committed inside the block changed.

        Read the list after the block (``changes.merged``); a transaction that rolled back
        contributes nothing."""
        recorder: list[ChangeSet] = []
        self._recorders.append(recorder)
        try:
            yield recorder
        finally:
            self._recorders.remove(recorder)

    def data_version(self) -> int:
        """SQLite's counter of commits made by *other* connections (another process).

        Cheap enough to poll: it reads no page."""
        with self.reading():
            return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        try:
            yield
        except DatabaseError as exc:
            raise map_error(exc) from None

    # -- checks and copies -------------------------------------------------------------
    def integrity_problems(self) -> list[str]:
        problems = integrity_problems(self.conn)
        self.pages_verified = self.pages_verified or not problems
        return problems

    def damaged_pages(self) -> int:
        """How many pages fail their HMAC (SQLCipher's check of every page)."""
        with self.reading():
            damaged = len(self.conn.execute("PRAGMA cipher_integrity_check").fetchall())
        self.pages_verified = self.pages_verified or damaged == 0
        return damaged

    def pragmas(self) -> dict[str, str]:
        return read_pragmas(self.conn)

    def schema_version(self) -> int:
        return schema.user_version(self.conn)

    def table_counts(self) -> dict[str, int]:
        with self.reading():
            return {
                t: int(self.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
                for t in COUNTED_TABLES
            }

    def verify_chain(
        self, key: bytes, progress: Callable[[int], None] | None = None
    ) -> ChainReport:
        """Walk the whole audit chain, on several processes when it is long."""
        with self.reading():
            return walk_file(self.conn, self.path, key, self.vault_id, progress=progress)

    def copy_to(self, dest: Path, key: bytes) -> None:
        """Write a consistent encrypted copy of the database (same key) to ``dest``."""
        try:
            _backup_connection(self.conn, dest, key)
        except DatabaseError as exc:
            raise map_error(exc, "the backup") from None

    def close(self) -> None:
        with contextlib.suppress(DatabaseError):
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        close_quietly(self.conn)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _backup_connection(conn: Connection, dest: Path, key: bytes) -> None:
    if dest.exists():
        raise CimError(f"{dest.name} already exists; it was not overwritten.")
    target = connect(dest, key, create=True, check=False)
    try:
        conn.backup(target)
        target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except BaseException:
        close_quietly(target)
        with contextlib.suppress(OSError):
            dest.unlink()
        raise
    target.close()


def open_for_check(path: Path, key: bytes) -> Connection:
    """A bare connection for verification tools (restore, doctor): no migration."""
    return connect(path, key)
