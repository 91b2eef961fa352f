"""Slot public keys, the slot issuer key and the re-keying record (inside the database)."""

from __future__ import annotations

from pathlib import Path

from cim_desktop.store.connection import Connection, close_quietly, connect
from cim_desktop.store.meta import MetaRepository

RECOVERY_HOLDER = "recovery"
_ISSUER = "slot_issuer_key"
_LAST_REKEY = "last_rekey_at"
_REKEY_DUE = "rekey_recommended_since"


class SlotKeyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._meta = MetaRepository(conn)

    # -- public keys of slot holders ---------------------------------------------------
    def set(self, holder: str, public_key: bytes, at: str) -> None:
        self._conn.execute(
            "INSERT INTO slot_keys (holder, public_key, recorded_at) VALUES (?, ?, ?) "
            "ON CONFLICT(holder) DO UPDATE SET public_key = excluded.public_key, "
            "recorded_at = excluded.recorded_at",
            (holder, public_key, at),
        )

    def get(self, holder: str) -> bytes | None:
        row = self._conn.execute(
            "SELECT public_key FROM slot_keys WHERE holder = ?", (holder,)
        ).fetchone()
        return None if row is None or not isinstance(row[0], bytes) else bytes(row[0])

    def delete(self, holder: str) -> None:
        self._conn.execute("DELETE FROM slot_keys WHERE holder = ?", (holder,))

    # -- the issuer key (authenticates every kwrap) -------------------------------------
    def issuer(self) -> bytes | None:
        text = self._meta.get(_ISSUER)
        try:
            return bytes.fromhex(text) if text else None
        except ValueError:
            return None

    def set_issuer(self, private: bytes) -> None:
        self._meta.set(_ISSUER, private.hex())

    # -- when re-keying is due ---------------------------------------------------------
    def last_rekey(self) -> str | None:
        return self._meta.get(_LAST_REKEY)

    def rekey_due_since(self) -> str | None:
        return self._meta.get(_REKEY_DUE) or None

    def mark_rekey_due(self, since: str) -> None:
        if not self.rekey_due_since():
            self._meta.set(_REKEY_DUE, since)

    def record_rekey(self, at: str) -> None:
        self._meta.set(_LAST_REKEY, at)
        self._meta.set(_REKEY_DUE, "")


def rekey(conn: Connection, new_key: bytes) -> None:
    """Re-encrypt every page under ``new_key`` (SQLCipher's rekey: one transaction).

    The write-ahead log is folded in first so that no frame under the old key outlives it.
    """
    if len(new_key) != 32:
        raise ValueError("the vault key must be 32 bytes")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    conn.execute(f"PRAGMA rekey = \"x'{new_key.hex()}'\"")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def opens_with(path: Path, key: bytes) -> bool:
    """True when ``path`` decrypts with ``key`` (a fresh connection, closed again)."""
    try:
        conn = connect(path, key, check=False)
    except Exception:  # whatever the failure, this key does not open it
        return False
    close_quietly(conn)
    return True
