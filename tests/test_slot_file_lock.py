"""Read-modify-write of the key-slot file is serialised across processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cim_desktop.domain.officers.roles import Role
from cim_desktop.errors import VaultBusy
from cim_desktop.security import slotfile
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.vault.lifecycle import NewVault, unlock
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.officer_helpers import add_officer

HOLDER = """
import sys
from filelock import FileLock
lock = FileLock(sys.argv[1])
with lock:
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_second_process_waits_for_the_slot_file(
    new_vault: NewVault,
    vault_dir: Path,
    keyring_store: DeviceSecretStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(slotfile, "LOCK_TIMEOUT_SECONDS", 0.3)
    keys = vault_dir / "vault.keys"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(keys) + ".lock"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        before = keys.read_bytes()
        with pytest.raises(VaultBusy, match="in use by another cim-desktop process"):
            add_officer(new_vault.session, "bob", "bobs own long password", [Role.HANDLER])
        with pytest.raises(VaultBusy):
            unlock(vault_dir, ADMIN, "a wrong password!", keyring_store)
        assert keys.read_bytes() == before
    finally:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.close()
        holder.wait(timeout=10)
        holder.stdout.close()
    add_officer(new_vault.session, "bob", "bobs own long password", [Role.HANDLER])
    new_vault.session.lock()
    unlock(vault_dir, "bob", "bobs own long password", keyring_store).close()
    unlock(vault_dir, ADMIN, ADMIN_PASSWORD, keyring_store).close()
