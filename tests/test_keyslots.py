from __future__ import annotations

import os
from dataclasses import replace

import pytest

from cim_desktop.errors import (
    KeyringUnavailable,
    RecoveryCodeInvalid,
    SlotDisabled,
    VaultCorrupt,
    WrongCredentials,
)
from cim_desktop.security.kdf import FLOOR_ITERATIONS, FLOOR_MEMORY_KIB, KdfParams
from cim_desktop.security.keyslots import (
    UserSlot,
    issue_kwrap,
    new_private_key,
    open_officer_keys,
    public_key,
    reissue_recovery,
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
    return wrap_for_user(
        K,
        D,
        password,
        vault_id="v1",
        user_id=user_id,
        username="alice",
        issuer_public=public_key(ISSUER),
    )


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
    slot = wrap_recovery(K, D, b"CODEDATA", vault_id="v1", issuer_public=public_key(ISSUER))
    assert unwrap_recovery(slot, b"CODEDATA", vault_id="v1") == (K, D)
    with pytest.raises(RecoveryCodeInvalid):
        unwrap_recovery(slot, b"OTHERCODE", vault_id="v1")


def test_parameters_below_the_floor_are_refused() -> None:
    weak = KdfParams(FLOOR_MEMORY_KIB // 2, FLOOR_ITERATIONS, 4, os.urandom(16))
    with pytest.raises(VaultCorrupt, match="below the required floor"):
        weak.check()
    with pytest.raises(VaultCorrupt, match="below the required floor"):
        KdfParams.from_json({**weak.to_json(), "m_kib": 1024})


def test_a_disabled_slot_proves_the_password_but_yields_no_key() -> None:
    slot = _slot().disabled()
    with pytest.raises(WrongCredentials):  # a guesser learns nothing about the status
        unwrap_user(slot, D, "another password", vault_id="v1")
    with pytest.raises(SlotDisabled):
        unwrap_user(slot, D, "a long enough password", vault_id="v1")
    assert UserSlot.from_json(slot.to_json()).kwrap is None


def test_a_kwrap_forged_without_the_issuer_key_or_moved_between_officers_is_refused() -> None:
    slot = _slot()
    keys = open_officer_keys(slot, D, "a long enough password", vault_id="v1")
    # Someone who can write vault.keys (and knows the officer's public key) seals a key of
    # their own, so that the officer would unlock a database of their making.
    forged = replace(
        slot,
        kwrap=issue_kwrap(
            keys.public, new_private_key(), os.urandom(32), vault_id="v1", owner="u1"
        ),
    )
    with pytest.raises(VaultCorrupt, match="does not open"):
        unwrap_user(forged, D, "a long enough password", vault_id="v1")
    other = _slot(user_id="u2")
    moved = replace(slot, kwrap=other.kwrap)
    with pytest.raises(VaultCorrupt, match="does not open"):
        unwrap_user(moved, D, "a long enough password", vault_id="v1")
    # The issuer (an administrator holding K) can re-issue it.
    reissued = replace(slot, kwrap=issue_kwrap(keys.public, ISSUER, K, vault_id="v1", owner="u1"))
    assert unwrap_user(reissued, D, "a long enough password", vault_id="v1") == K


def test_the_recovery_slot_can_be_reissued_without_the_code() -> None:
    private = new_private_key()
    slot = wrap_recovery(
        K, D, b"CODEDATA", vault_id="v1", issuer_public=public_key(ISSUER), private=private
    )
    new_k = os.urandom(32)
    again = reissue_recovery(slot, public_key(private), ISSUER, new_k, D, vault_id="v1")
    assert unwrap_recovery(again, b"CODEDATA", vault_id="v1") == (new_k, D)
