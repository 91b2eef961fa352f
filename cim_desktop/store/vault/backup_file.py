"""Opening a copy of a vault database (a backup being restored) for checks, never migrating it.

The copy is checked exactly as it was written: migration happens later, at the first unlock
of the restored vault, with its own pre-migration copy.
"""

from __future__ import annotations

from pathlib import Path

from cim_desktop.errors import VaultCorrupt, VaultTooNew
from cim_desktop.store.connection import (
    DatabaseError,
    close_quietly,
    connect,
    map_error,
)
from cim_desktop.store.database import VaultDatabase
from cim_desktop.store.meta import MetaRepository
from cim_desktop.store.migrations import ladder as schema


def open_copy(path: Path, key: bytes, vault_id: str) -> VaultDatabase:
    """Open ``path`` with ``key``; it must hold a schema this version knows and ``vault_id``."""
    conn = connect(path, key)
    try:
        version = schema.user_version(conn)
        if version > schema.LATEST:
            raise VaultTooNew(
                f"The backup was written by a newer version of cim-desktop (schema {version}; "
                f"this version understands up to {schema.LATEST}). Nothing was changed."
            )
        if version < 1:
            raise VaultCorrupt("The backup database has no schema; it is not a vault.")
        if MetaRepository(conn).get("vault_id") != vault_id:
            raise VaultCorrupt("The backup database belongs to another vault than its manifest.")
    except DatabaseError as exc:
        close_quietly(conn)
        raise map_error(exc, "the backup") from None
    except BaseException:
        close_quietly(conn)
        raise
    return VaultDatabase(conn, path, vault_id)
