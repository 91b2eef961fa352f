"""The user_version ladder: step by step, with a pre-migration copy; newer refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from cim_desktop.errors import VaultTooNew
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services import audit
from cim_desktop.services.vault import NewVault, unlock
from cim_desktop.store import schema
from cim_desktop.store.connection import connect
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.helpers import snapshot


def _downgrade_to_v1(db: Path, key: bytes) -> None:
    """Rewind a fresh vault to schema 1 by undoing step 2, as an older release wrote it."""
    conn = connect(db, key)
    conn.execute("BEGIN")
    for index in ("audit_user_seq", "audit_action_seq", "audit_ts"):
        conn.execute(f"DROP INDEX {index}")
    conn.execute("PRAGMA user_version = 1")
    conn.execute("COMMIT")
    conn.close()


def test_old_vault_is_migrated_after_an_encrypted_copy(
    new_vault: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    key = new_vault.session.vault_key
    new_vault.session.lock()
    db = vault_dir / "vault.db"
    _downgrade_to_v1(db, key)
    session = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)
    assert session.db.schema_version() == schema.LATEST
    names = {r[0] for r in session.db.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"audit_user_seq", "audit_action_seq", "audit_ts"} <= names
    migrate_rows = [r for r in audit.open_view(session).page() if r.action == "migrate"]
    assert len(migrate_rows) == 1 and '"from":1' in migrate_rows[0].detail
    assert audit.verify(session).ok
    session.lock()

    (copy,) = list(vault_dir.glob("vault.db.pre-migration-v1-*"))
    assert not copy.read_bytes().startswith(b"SQLite format 3"), "the copy is encrypted"
    old = connect(copy, key)
    assert schema.user_version(old) == 1
    assert old.execute("SELECT count(*) FROM audit").fetchone()[0] > 0
    old.close()


def test_a_failing_step_rolls_back_whole(
    new_vault: NewVault, vault_dir: Path
) -> None:
    key = new_vault.session.vault_key
    new_vault.session.lock()
    db = vault_dir / "vault.db"
    _downgrade_to_v1(db, key)

    def broken(conn: object) -> None:
        conn.execute("CREATE INDEX half_done ON audit(ts)")  # type: ignore[attr-defined]
        raise RuntimeError("step failed midway")

    ladder = (schema.MIGRATIONS[0], schema.Migration(2, "broken", broken))
    from cim_desktop.store.database import VaultDatabase

    with pytest.raises(RuntimeError):
        VaultDatabase.open(db, key, new_vault.session.vault_id, migrations=ladder)
    conn = connect(db, key)
    assert schema.user_version(conn) == 1
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'"
                        ).fetchone()[0] == 0
    conn.close()


def test_newer_vault_is_refused_and_untouched(
    new_vault: NewVault, vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    key = new_vault.session.vault_key
    new_vault.session.lock()
    conn = connect(vault_dir / "vault.db", key)
    conn.execute(f"PRAGMA user_version = {schema.LATEST + 1}")
    conn.close()
    before = snapshot(vault_dir)
    with pytest.raises(VaultTooNew, match="newer version of cim-desktop") as info:
        unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)
    assert "delete" not in info.value.message.lower()
    assert snapshot(vault_dir) == before
