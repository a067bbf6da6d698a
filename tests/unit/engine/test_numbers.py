"""Number hygiene: which number a lead's next attempt dials (pure rules, table and properties)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.engine.numbers import POLICIES, next_number

P, A, B = "+14155550001", "+14155550002", "+14155550003"


@pytest.mark.parametrize(
    ("policy", "outcome", "reason", "alts", "expected"),
    [
        # a number that does not exist is retired; the lead moves on, or is invalid
        ("on_bad_number", "failed", "unallocated", (A, B), (A, (B,), (P,))),
        ("on_bad_number", "failed", "number_changed", (), (None, (), (P,))),
        ("on_failure", "failed", "sit", (A,), (A, (), (P,))),
        ("off", "failed", "unallocated", (A,), (None, (A,), (P,))),
        # other failures and no-contact outcomes: only 'on_failure' moves on (round robin)
        ("on_bad_number", "failed", "congestion", (A,), None),
        ("on_bad_number", "no_answer", None, (A,), None),
        ("on_failure", "no_answer", None, (A, B), (A, (B, P), ())),
        ("on_failure", "busy", None, (A,), (A, (P,), ())),
        ("on_failure", "failed", "unwanted", (A,), (A, (P,), ())),
        ("on_failure", "no_answer", None, (), None),
        # a machine answered: the number works
        ("on_failure", "machine", None, (A,), None),
    ],
)
def test_which_number_comes_next(
    policy: str,
    outcome: str,
    reason: str | None,
    alts: tuple[str, ...],
    expected: tuple[str | None, tuple[str, ...], tuple[str, ...]] | None,
) -> None:
    change = next_number(policy, outcome, reason, P, alts)
    got = None if change is None else (change.phone, change.alt_phones, change.retired)
    assert got == expected


numbers = st.lists(st.sampled_from([A, B, "+14155550004", "+14155550005"]), unique=True)


@given(
    st.sampled_from(POLICIES),
    st.sampled_from(["failed", "no_answer", "busy", "machine", "abandoned"]),
    st.sampled_from([None, "unallocated", "congestion", "sit", "unwanted"]),
    numbers,
)
def test_no_number_is_lost_or_dialed_after_retirement(
    policy: str, outcome: str, reason: str | None, alts: list[str]
) -> None:
    change = next_number(policy, outcome, reason, P, alts)
    if change is None:
        return
    after = {change.phone, *change.alt_phones, *change.retired} - {None}
    assert after == {P, *alts}  # every number is kept somewhere
    assert change.phone not in change.retired
    assert not set(change.retired) & set(change.alt_phones)  # retired: never dialed again
