"""Wrongly typed values in the audit table, written by someone who holds the vault key.

A TEXT or integer ``hash`` used to make every login exit 3 (``bytes(10**9)`` allocated a
gigabyte) and ``verify --checkpoint`` crash. Each is a broken chain at that sequence.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from cim_desktop import cli
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.audit import trail as audit
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from cim_desktop.store.connection import close_quietly, connect
from tests.conftest import ADMIN, ADMIN_PASSWORD

BAD: dict[str, Any] = {
    "text": "not a hash",
    "huge integer": 10**15,
    "negative integer": -1,
    "real": 1.5,
    "null-like text": "",
}


def _tamper(root: Path, key: bytes, where: str, value: Any) -> int:
    conn = connect(root / "vault.db", key)
    try:
        conn.execute("DROP TRIGGER audit_no_update")
        head = int(conn.execute("SELECT max(seq) FROM audit").fetchone()[0])
        seq = head if where == "head" else 2
        conn.execute("UPDATE audit SET hash = ? WHERE seq = ?", (value, seq))
    finally:
        close_quietly(conn)
    return seq


@pytest.mark.parametrize("where", ["middle", "head"])
@pytest.mark.parametrize("kind", list(BAD))
def test_a_wrongly_typed_hash_is_a_broken_chain_at_that_row(
    kind: str,
    where: str,
    new_vault: NewVault,
    vault_dir: Path,
    keyring_store: DeviceSecretStore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    session = new_vault.session
    key = session.vault_key
    session.lock()  # signs a checkpoint of the head
    seq = _tamper(vault_dir, key, where, BAD[kind])

    # Logging in still works (the trail is evidence, not a reason to crash) ...
    session = unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store)
    result = audit.verify(session, audit.read_checkpoints(vault_dir / "checkpoints.jsonl"))
    # ... and verification reports the break at that very row.
    assert not result.ok
    assert result.chain.first_bad_seq == seq
    if where == "head":
        assert any(not c.ok for c in result.checkpoints)
    session.lock()

    for argv in (
        ["audit", "verify", "--checkpoint", str(vault_dir / "checkpoints.jsonl")],
        ["doctor"],
    ):
        monkeypatch.setattr("sys.stdin", io.StringIO(ADMIN_PASSWORD + "\n"))
        code = cli.main(
            [*argv, "--user", ADMIN, "--password-stdin", "--vault", str(vault_dir)],
            keyring=keyring_store,
        )
        out, err = capsys.readouterr()
        assert code == 1, out + err
        assert f"sequence {seq}" in out + err
        assert "Traceback" not in out + err
