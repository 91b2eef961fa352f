"""A full disk: a clear message, nothing half-written, the vault intact once space returns.

Uses a real, tiny tmpfs, so it needs root (as CI has); elsewhere it is skipped with a reason.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cim_desktop.domain.audit.rows import Action, AuditEvent
from cim_desktop.errors import StorageFull
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.audit import trail as audit
from cim_desktop.services.vault.lifecycle import create_vault, unlock
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.memory_keyring import MemoryKeyring


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3M", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        # Large writes first, then ever smaller ones to take the last partial block too.
        for size in (65536, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return filler


def test_change_on_a_full_disk_is_refused_cleanly(
    small_disk: Path, keyring_store: DeviceSecretStore
) -> None:
    root = small_disk / "vault"
    created = create_vault(
        root,
        unit_name="DSU",
        admin_username=ADMIN,
        admin_password=ADMIN_PASSWORD,
        keyring=keyring_store,
    )
    session = created.session
    head_before, _ = session.db.audit.head()
    filler = _fill(small_disk)
    with pytest.raises(StorageFull, match="disk is full"):
        for n in range(2000):  # the WAL has some slack: keep writing until it runs out
            session.record(AuditEvent(Action.VIEW, "test", f"r{n}", {"pad": "x" * 2000}))
    committed, _ = session.db.audit.head()
    session.close()
    filler.unlink()

    reopened = unlock(root, ADMIN, ADMIN_PASSWORD, keyring_store)
    head_after, _ = reopened.db.audit.head()
    assert head_after >= committed >= head_before  # nothing committed was lost
    assert reopened.db.integrity_problems() == []
    assert audit.verify(reopened).ok
    reopened.lock()


def test_vault_creation_on_a_full_disk_leaves_nothing(
    small_disk: Path, keyring_store: DeviceSecretStore, memory_keyring: MemoryKeyring
) -> None:
    filler = _fill(small_disk)
    root = small_disk / "vault"
    with pytest.raises(StorageFull, match="disk is full"):
        create_vault(
            root,
            unit_name="DSU",
            admin_username=ADMIN,
            admin_password=ADMIN_PASSWORD,
            keyring=keyring_store,
        )
    assert not root.exists()
    # The device secret put in the keyring before the failure was taken out again.
    assert memory_keyring.entries == {}
    filler.unlink()
