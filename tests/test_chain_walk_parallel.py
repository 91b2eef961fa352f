"""The chain walk split across processes reports exactly what a single walk reports."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from cim_desktop.domain.audit.rows import Action, AuditEvent
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.vault.lifecycle import NewVault, create_vault
from cim_desktop.store.audit.chain_walk import walk, walk_file
from cim_desktop.store.connection import Connection, connect
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.memory_keyring import MemoryKeyring

ROWS = 60

Tamper = Callable[[Connection], None]


def _set(seq: int, column: str, value: object) -> Tamper:
    return lambda c: c.execute(f"UPDATE audit SET {column} = ? WHERE seq = ?", (value, seq))


def _delete(seq: int) -> Tamper:
    return lambda c: c.execute("DELETE FROM audit WHERE seq = ?", (seq,))


def _truncate(after: int) -> Tamper:
    return lambda c: c.execute("DELETE FROM audit WHERE seq > ?", (after,))


def _forge_zero(c: Connection) -> None:
    c.execute(
        "INSERT INTO audit SELECT 0, ts, user_id, username, role, session_id, action, "
        "entity_type, entity_id, detail, reason, outcome, prev_hash, hash, state, bound "
        "FROM audit WHERE seq = 5"
    )


# With three workers the ranges meet at rows 20 and 40: tamper on, around and between them.
CASES: dict[str, Tamper | None] = {
    "intact": None,
    "detail of row 7": _set(7, "detail", '{"x":1}'),
    "hash of boundary row 20": _set(20, "hash", b"\x00" * 32),
    "prev_hash of row 21": _set(21, "prev_hash", b"\x01" * 32),
    "boundary row 40 deleted": _delete(40),
    "row 41 deleted": _delete(41),
    "reason of row 55": _set(55, "reason", "edited"),
    "forged row 0": _forge_zero,
    "tail truncated": _truncate(45),
}


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, str]:
    root = tmp_path_factory.mktemp("chain") / "vault"
    created: NewVault = create_vault(
        root,
        unit_name="DSU",
        admin_username=ADMIN,
        admin_password=ADMIN_PASSWORD,
        keyring=DeviceSecretStore(MemoryKeyring()),
    )
    session = created.session
    while session.db.audit.head()[0] < ROWS:
        session.record(AuditEvent(Action.VIEW, "test", "x", {"n": session.db.audit.head()[0]}))
    key, vault_id = session.vault_key, session.vault_id
    session.close()
    return root / "vault.db", key, vault_id


@pytest.mark.parametrize("case", CASES)
def test_split_walk_matches_single_walk(
    case: str, chain: tuple[Path, bytes, str], tmp_path: Path
) -> None:
    source, key, vault_id = chain
    db = tmp_path / "vault.db"
    shutil.copyfile(source, db)
    conn = connect(db, key)
    tamper = CASES[case]
    if tamper is not None:
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("DROP TRIGGER audit_no_delete")
        tamper(conn)
    single = walk(conn, vault_id)
    split = walk_file(conn, db, key, vault_id, workers=3, min_rows=0)
    conn.close()
    assert (split.ok, split.first_bad_seq, split.problem, split.rows_checked) == (
        single.ok,
        single.first_bad_seq,
        single.problem,
        single.rows_checked,
    )
    assert split.ok == (tamper is None) or case == "tail truncated"
    if split.ok:
        assert (split.head_seq, split.head_hash) == (single.head_seq, single.head_hash)
