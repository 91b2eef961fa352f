"""The user_version ladder: step by step, with a pre-migration copy; newer refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from cim_desktop.errors import VaultTooNew
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.audit import trail as audit
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from cim_desktop.store.audit.chain_format import genesis, row_hash
from cim_desktop.store.connection import Connection, connect
from cim_desktop.store.database import VaultDatabase
from cim_desktop.store.migrations import ladder as schema
from cim_desktop.store.vault import state
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.helpers import snapshot

OLD = 2  # the schema an older release wrote: the first two steps of the ladder


# What schema 2 lacks, as the release that wrote it left the file: undone newest first.
_AFTER_V2 = (
    "DROP VIEW source_current",
    "DROP TABLE source_versions",
    "DROP TABLE slot_keys",
    *(
        f"DROP TRIGGER {t.name}_bind_{event}"
        for t in state.BOUND_TABLES
        if t.step == 6
        for event in ("insert", "update", "delete")
    ),
    "DROP TABLE state_pending",
    "ALTER TABLE officers DROP COLUMN audit_seq",
    "ALTER TABLE officer_roles DROP COLUMN audit_seq",
    "DROP INDEX audit_for_review",
    "DROP TABLE review_signoffs",
    "DROP TABLE break_glass",
    "DROP TABLE source_team",
    "DROP TABLE source_identity",
    "DROP TABLE sources",
    "DROP TABLE policy",
    "DROP TABLE associations",
    "DROP TABLE accreditations",
    "ALTER TABLE officers DROP COLUMN collar_number",
    "ALTER TABLE officers DROP COLUMN rank",
    "ALTER TABLE officers DROP COLUMN gender",
    "ALTER TABLE officers DROP COLUMN must_change_password",
    "ALTER TABLE officer_roles DROP COLUMN revoked_by",
)


@pytest.fixture
def old_vault(new_vault: NewVault, vault_dir: Path) -> tuple[bytes, str]:
    """A vault as the release with schema 2 left it."""
    key, vault_id = new_vault.session.vault_key, new_vault.session.vault_id
    new_vault.session.lock()
    conn = connect(vault_dir / "vault.db", key)
    conn.execute("BEGIN")
    for statement in _AFTER_V2:
        conn.execute(statement)
    _rechain_without_state(conn, vault_id)
    conn.execute(f"PRAGMA user_version = {OLD}")
    conn.execute("COMMIT")
    conn.close()
    # The old release signed its checkpoints with the vault's own key (format 1), which
    # proves nothing; and the rows they named were re-chained above as that release wrote them.
    (vault_dir / "checkpoints.jsonl").unlink()
    return key, vault_id


def _rechain_without_state(conn: Connection, vault_id: str) -> None:
    """The old release's rows had no ``state`` in their hash: write them as it did."""
    conn.execute("DROP TRIGGER audit_no_update")
    prev = genesis(vault_id)
    rows = conn.execute(
        "SELECT seq, ts, user_id, username, role, session_id, action, "
        "entity_type, entity_id, detail, reason, outcome FROM audit "
        "ORDER BY seq"
    ).fetchall()
    for row in rows:
        digest = row_hash(prev, tuple(row))
        conn.execute(
            "UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, row[0])
        )
        prev = digest
    conn.execute("ALTER TABLE audit DROP COLUMN state")
    conn.execute("ALTER TABLE audit DROP COLUMN bound")
    conn.execute("""CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
                    BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END""")


def test_old_vault_is_migrated_after_an_encrypted_copy(
    old_vault: tuple[bytes, str], vault_dir: Path, keyring_store: DeviceSecretStore
) -> None:
    key, _ = old_vault
    session = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)
    assert session.db.schema_version() == schema.LATEST
    tables = {
        r[0] for r in session.db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    assert {"accreditations", "associations", "policy", "source_team"} <= tables
    assert session.officer.username == ADMIN  # rows written by the old release still read
    migrate_rows = [r for r in audit.open_view(session).page() if r.action == "migrate"]
    assert len(migrate_rows) == 1 and f'"from":{OLD}' in migrate_rows[0].detail
    assert audit.verify(session).ok
    session.lock()

    (copy,) = list(vault_dir.glob(f"vault.db.pre-migration-v{OLD}-*"))
    assert not copy.read_bytes().startswith(b"SQLite format 3"), "the copy is encrypted"
    old = connect(copy, key)
    assert schema.user_version(old) == OLD
    assert old.execute("SELECT count(*) FROM audit").fetchone()[0] > 0
    old.close()


def test_a_failing_step_rolls_back_whole(old_vault: tuple[bytes, str], vault_dir: Path) -> None:
    key, vault_id = old_vault
    db = vault_dir / "vault.db"

    def broken(conn: Connection) -> None:
        conn.execute("CREATE INDEX half_done ON audit(ts)")
        raise RuntimeError("step failed midway")

    ladder = (*schema.MIGRATIONS[:OLD], schema.Migration(OLD + 1, "broken", broken))
    with pytest.raises(RuntimeError):
        VaultDatabase.open(db, key, vault_id, migrations=ladder)
    conn = connect(db, key)
    assert schema.user_version(conn) == OLD
    assert (
        conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0]
        == 0
    )
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


# -- every older schema reaches the same schema as a fresh vault ----------------------------
_VAULT_ID = "schema-ladder-test"
_KEY = bytes(range(32))


def _schema(conn: Connection) -> list[tuple[object, ...]]:
    """The schema as SQLite holds it: objects with their SQL (spacing normalised), columns."""
    found: list[tuple[object, ...]] = [
        (kind, name, table, " ".join((sql or "").split()))
        for kind, name, table, sql in conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        )
    ]
    tables = [r[1] for r in found if r[0] == "table"]
    for table in tables:
        found += [(table, *col) for col in conn.execute(f"PRAGMA table_info('{table}')")]
    return found


def _at_step(path: Path, steps: tuple[schema.Migration, ...]) -> None:
    """A database as a release with only ``steps`` left it (raw key, no officers)."""
    conn = connect(path, _KEY, create=True)
    for step in steps:
        schema.apply(conn, step)
    conn.execute("INSERT INTO meta (key, value) VALUES ('vault_id', ?)", (_VAULT_ID,))
    conn.close()


@pytest.fixture(scope="module")
def fresh_schema(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[object, ...]]:
    db = VaultDatabase.create(tmp_path_factory.mktemp("fresh") / "vault.db", _KEY, _VAULT_ID)
    try:
        return _schema(db.conn)
    finally:
        db.conn.close()


@pytest.mark.parametrize("k", range(1, schema.LATEST))
def test_a_vault_at_every_older_step_migrates_to_the_fresh_schema(
    k: int, tmp_path: Path, fresh_schema: list[tuple[object, ...]]
) -> None:
    path = tmp_path / "vault.db"
    _at_step(path, schema.MIGRATIONS[:k])
    db = VaultDatabase.open(path, _KEY, _VAULT_ID)
    try:
        assert db.migrated is not None and db.migrated[:2] == (k, schema.LATEST)
        assert _schema(db.conn) == fresh_schema
    finally:
        db.conn.close()


def test_every_migration_file_is_on_the_ladder() -> None:
    folder = Path(schema.__file__).parent
    files = sorted(p.stem for p in folder.glob("m[0-9][0-9][0-9]_*.py"))
    listed = sorted(m.__name__.rsplit(".", 1)[1] for m in schema.STEPS)
    assert files == listed
