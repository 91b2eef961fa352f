from __future__ import annotations

import os

import pytest

from cim_desktop.errors import (
    KeyringUnavailable,
    RecoveryCodeInvalid,
    VaultCorrupt,
    WrongCredentials,
)
from cim_desktop.security.kdf import FLOOR_ITERATIONS, FLOOR_MEMORY_KIB, KdfParams
from cim_desktop.security.keyslots import (
    UserSlot,
    new_private_key,
    public_key,
    reseat_device_layer,
    unwrap_recovery,
    unwrap_user,
    wrap_for_user,
    wrap_recovery,
)

K = os.urandom(32)
D = os.urandom(32)
ISSUER = new_private_key()


def _slot(password: str = "a long enough password", user_id: str = "u1") -> UserSlot:
    return wrap_for_user(K, D, password, vault_id="v1", user_id=user_id, username="alice",
                         issuer_public=public_key(ISSUER))


def test_user_slot_round_trip_and_floor_parameters() -> None:
    slot = _slot()
    assert slot.kdf.memory_kib >= FLOOR_MEMORY_KIB and slot.kdf.iterations >= FLOOR_ITERATIONS
    assert unwrap_user(slot, D, "a long enough password", vault_id="v1") == K
    assert K not in slot.wrapped


def test_wrong_password_is_wrong_credentials() -> None:
    with pytest.raises(WrongCredentials, match="Wrong username or password"):
        unwrap_user(_slot(), D, "another password", vault_id="v1")


def test_wrong_device_secret_is_a_keyring_problem_not_a_password_one() -> None:
    with pytest.raises(KeyringUnavailable, match="does not belong to this vault"):
        unwrap_user(_slot(), os.urandom(32), "a long enough password", vault_id="v1")


def test_slot_is_bound_to_vault_and_officer() -> None:
    slot = _slot()
    moved = UserSlot("u2", slot.username, slot.kdf, slot.wrapped, slot.kwrap)
    with pytest.raises(KeyringUnavailable):
        unwrap_user(moved, D, "a long enough password", vault_id="v1")
    with pytest.raises(KeyringUnavailable):
        unwrap_user(slot, D, "a long enough password", vault_id="v2")


def test_reseat_moves_slot_to_new_device_secret_without_the_password() -> None:
    new = os.urandom(32)
    moved = reseat_device_layer(_slot(), D, new, vault_id="v1")
    assert unwrap_user(moved, new, "a long enough password", vault_id="v1") == K
    with pytest.raises(KeyringUnavailable):
        unwrap_user(moved, D, "a long enough password", vault_id="v1")


def test_recovery_slot_holds_key_and_device_secret() -> None:
    slot = wrap_recovery(K, D, b"CODEDATA", vault_id="v1",
                         issuer_public=public_key(ISSUER))
    assert unwrap_recovery(slot, b"CODEDATA", vault_id="v1") == (K, D)
    with pytest.raises(RecoveryCodeInvalid):
        unwrap_recovery(slot, b"OTHERCODE", vault_id="v1")


def test_parameters_below_the_floor_are_refused() -> None:
    weak = KdfParams(FLOOR_MEMORY_KIB // 2, FLOOR_ITERATIONS, 4, os.urandom(16))
    with pytest.raises(VaultCorrupt, match="below the required floor"):
        weak.check()
    with pytest.raises(VaultCorrupt, match="below the required floor"):
        KdfParams.from_json({**weak.to_json(), "m_kib": 1024})
