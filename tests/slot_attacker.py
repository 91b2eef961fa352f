"""What an insider outside the application does with a password, the workstation's keyring and
a copy of ``vault.keys``: unwrap the slot with the crypto directly and open ``vault.db`` with
sqlcipher3 directly, bypassing every check the application makes."""

from __future__ import annotations

from pathlib import Path

import sqlcipher3

from cim_desktop.errors import CimError
from cim_desktop.security.keyslots import unwrap_user
from cim_desktop.security.slotfile import SlotFile


def opens_directly(db_path: Path, key: bytes) -> bool:
    """True when sqlcipher3, given ``key``, reads the officers table of ``db_path``."""
    conn = sqlcipher3.connect(str(db_path))
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        return int(conn.execute("SELECT count(*) FROM officers").fetchone()[0]) > 0
    except sqlcipher3.DatabaseError:
        return False
    finally:
        conn.close()


def key_from_slots(
    keys_file: bytes, username: str, password: str, device_secret: bytes
) -> bytes | None:
    """The vault key ``username``'s slot in ``keys_file`` gives, or None."""
    slots = SlotFile.parse(keys_file)
    slot = slots.find_user(username)
    if slot is None:
        return None
    try:
        return unwrap_user(slot, device_secret, password, vault_id=slots.vault_id)
    except CimError:
        return None


def reads_vault(
    db_path: Path, keys_file: bytes, username: str, password: str, device_secret: bytes
) -> bool:
    key = key_from_slots(keys_file, username, password, device_secret)
    return key is not None and opens_directly(db_path, key)
