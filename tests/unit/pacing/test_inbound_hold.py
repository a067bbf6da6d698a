"""Blended agents held for inbound calls: the Poisson hold and the arrival-rate window."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.pacing.inbound import MIN_SPAN_S, InboundRate, agents_to_hold

rates = st.floats(min_value=0.0, max_value=5.0, allow_nan=False)
frees = st.integers(min_value=0, max_value=50)
risks = st.floats(min_value=0.001, max_value=0.9)


@pytest.mark.parametrize(
    ("rate", "horizon", "free", "risk", "held"),
    [
        (0.0, 30.0, 5, 0.1, 0),  # no callbacks: nobody held
        (1 / 3600, 30.0, 5, 0.1, 0),  # one an hour: P(one in 30 s) < 1 %
        (1 / 60, 30.0, 5, 0.1, 1),  # one a minute: P(≥1) 39 %, P(≥2) 9 %
        (1 / 10, 30.0, 5, 0.1, 5),  # λ = 3: five of five (P(>4) 18 %)
        (1 / 10, 30.0, 20, 0.1, 5),  # λ = 3: P(>5) 8.4 % < 10 %
        (1.0, 30.0, 2, 0.1, 2),  # never more than the free blended agents
        (1 / 60, 30.0, 0, 0.1, 0),
    ],
)
def test_agents_held_for_expected_inbound(
    rate: float, horizon: float, free: int, risk: float, held: int
) -> None:
    assert agents_to_hold(rate, horizon, free, risk) == held


@given(rates, frees, risks)
def test_the_hold_is_within_the_free_agents_and_meets_the_risk(
    rate: float, free: int, risk: float
) -> None:
    k = agents_to_hold(rate, 30.0, free, risk)
    assert 0 <= k <= free
    lam = rate * 30.0
    more_than = 1.0 - sum(math.exp(-lam) * lam**i / math.factorial(i) for i in range(k + 1))
    assert k == free or more_than < risk + 1e-9


@given(rates, rates, frees, risks)
def test_more_callbacks_never_hold_fewer_agents(a: float, b: float, free: int, risk: float) -> None:
    low, high = sorted((a, b))
    assert agents_to_hold(low, 30.0, free, risk) <= agents_to_hold(high, 30.0, free, risk)


def test_the_rate_counts_recent_arrivals_only() -> None:
    rate = InboundRate(window_s=600.0)
    assert rate.rate(0.0) == 0.0
    rate.arrived(0.0)
    assert rate.rate(0.0) == pytest.approx(1 / MIN_SPAN_S)  # a first call is no flood
    for t in (100.0, 200.0, 300.0):
        rate.arrived(t)
    assert rate.rate(300.0) == pytest.approx(4 / 300.0)
    assert rate.rate(1000.0) == pytest.approx(0.0)  # all older than the window
