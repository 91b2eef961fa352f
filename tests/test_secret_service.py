"""The device secret against the real Secret Service (gnome-keyring under D-Bus).

``scripts/run-tests`` starts a private D-Bus session with an unlocked gnome-keyring and sets
``CIM_REQUIRE_SECRET_SERVICE=1`` so that these tests fail, rather than skip, when the service
is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cim_desktop.errors import KeyringEntryMissing
from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.audit import trail as audit
from cim_desktop.services.vault.lifecycle import create_vault, unlock
from cim_desktop.services.vault.recovery import recover
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.helpers import snapshot

pytestmark = pytest.mark.secret_service


@pytest.fixture
def secret_service() -> DeviceSecretStore:
    from keyring.backends import SecretService

    backend = SecretService.Keyring()
    try:
        backend.get_password("cim-desktop-probe", "probe")
    except Exception as exc:  # the service is absent: say so plainly
        if os.environ.get("CIM_REQUIRE_SECRET_SERVICE") == "1":
            raise
        pytest.skip(f"no Secret Service on this session bus ({type(exc).__name__})")
    return DeviceSecretStore(backend)


def test_create_lock_unlock_through_the_secret_service(
    secret_service: DeviceSecretStore, tmp_path: Path
) -> None:
    root = tmp_path / "vault"
    created = create_vault(
        root,
        unit_name="DSU",
        admin_username=ADMIN,
        admin_password=ADMIN_PASSWORD,
        keyring=secret_service,
    )
    vault_id = created.session.vault_id
    assert secret_service.backend_name().endswith("SecretService.Keyring")
    assert secret_service.plain_name() == "the Secret Service (GNOME Keyring or KWallet)"
    created.session.lock()
    try:
        session = unlock(root, ADMIN, ADMIN_PASSWORD, secret_service)
        assert audit.verify(session).ok
        session.lock()
    finally:
        secret_service.delete(vault_id)


def test_missing_entry_fails_closed_and_recovery_reseats_it(
    secret_service: DeviceSecretStore, tmp_path: Path
) -> None:
    root = tmp_path / "vault"
    created = create_vault(
        root,
        unit_name="DSU",
        admin_username=ADMIN,
        admin_password=ADMIN_PASSWORD,
        keyring=secret_service,
    )
    vault_id = created.session.vault_id
    created.session.lock()
    try:
        secret_service.delete(vault_id)  # the keyring was wiped
        before = snapshot(root)
        with pytest.raises(KeyringEntryMissing):
            unlock(root, ADMIN, ADMIN_PASSWORD, secret_service)
        assert snapshot(root) == before
        assert not secret_service.exists(vault_id)
        assert recover(root, created.recovery_code, secret_service) == 1
        assert secret_service.exists(vault_id)
        unlock(root, ADMIN, ADMIN_PASSWORD, secret_service).close()
    finally:
        secret_service.delete(vault_id)
