from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cim_desktop.errors import RecoveryCodeInvalid
from cim_desktop.security import recovery_code as rc


def test_code_has_at_least_128_bits_in_groups() -> None:
    code = rc.generate()
    groups = code.split("-")
    assert len(groups) == rc.GROUPS
    assert all(len(g) == rc.GROUP_CHARS for g in groups)
    assert rc.GROUPS * rc.DATA_CHARS * math.log2(len(rc.ALPHABET)) >= 128
    assert rc.normalise(code) == code
    assert len(set(rc.generate() for _ in range(50))) == 50


def test_normalise_accepts_lower_case_spaces_and_lookalikes() -> None:
    code = rc.generate()
    sloppy = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert rc.normalise(sloppy) == code
    assert rc.secret_bytes(sloppy) == rc.secret_bytes(code)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_single_mistyped_character_names_its_group(data: st.DataObject) -> None:
    code = rc.generate()
    flat = code.replace("-", "")
    pos = data.draw(st.integers(0, len(flat) - 1))
    wrong = data.draw(st.sampled_from([c for c in rc.ALPHABET if c != flat[pos]]))
    typed = flat[:pos] + wrong + flat[pos + 1 :]
    with pytest.raises(RecoveryCodeInvalid, match=f"Group {pos // rc.GROUP_CHARS + 1} "):
        rc.normalise(typed)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_groups_in_the_wrong_order_are_caught(data: st.DataObject) -> None:
    groups = rc.generate().split("-")
    i, j = data.draw(st.lists(st.integers(0, rc.GROUPS - 1), min_size=2, max_size=2, unique=True))
    if groups[i] == groups[j]:
        return
    groups[i], groups[j] = groups[j], groups[i]
    with pytest.raises(RecoveryCodeInvalid, match="looks mistyped"):
        rc.normalise("-".join(groups))


@pytest.mark.parametrize(
    ("typed", "message"),
    [("", "8 groups"), ("ABC", "8 groups"), ("!" * 48, "not used in recovery codes")],
)
def test_malformed_codes_are_explained(typed: str, message: str) -> None:
    with pytest.raises(RecoveryCodeInvalid, match=message):
        rc.normalise(typed)


def test_a_missing_group_is_reported_by_length() -> None:
    code = rc.generate()
    with pytest.raises(RecoveryCodeInvalid, match="42 characters were entered"):
        rc.normalise("-".join(code.split("-")[:-1]))
