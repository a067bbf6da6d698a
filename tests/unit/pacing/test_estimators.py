"""The online estimates the predictive pacer leans on, and its abandon-budget controller."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.pacing.budget import AbandonBudget
from dialer.pacing.estimators import DecayingProportion, DecayingRate, Histogram
from dialer.pacing.lifetimes import KaplanMeier
from dialer.pacing.tracking import InFlightTracker, StartTimes


def test_proportion_starts_at_its_prior_and_learns() -> None:
    p = DecayingProportion(half_life_s=600.0, prior_mean=0.2, prior_weight=10.0)
    assert p.mean == pytest.approx(0.2)
    rng = random.Random(1)
    for i in range(3000):
        p.add(i * 0.5, rng.random() < 0.35)
    assert p.mean == pytest.approx(0.35, abs=0.03)
    assert p.stderr < 0.02


def test_proportion_forgets_the_morning() -> None:
    p = DecayingProportion(half_life_s=600.0, prior_mean=0.2, prior_weight=5.0)
    for i in range(2000):
        p.add(float(i), i % 2 == 0)  # 50 %
    for i in range(2000, 6000):
        p.add(float(i), i % 10 == 0)  # then 10 %
    assert p.mean == pytest.approx(0.10, abs=0.02)


def test_rate_counts_events_per_second() -> None:
    r = DecayingRate(half_life_s=300.0)
    for i in range(6000):
        r.add(i * 0.5)  # two a second
    assert r.rate(3000.0) == pytest.approx(2.0, rel=0.05)
    assert r.rate(9000.0) < 0.01


@given(st.lists(st.floats(0.0, 200.0), min_size=1, max_size=300), st.floats(0.0, 250.0))
def test_histogram_cdf_is_a_cdf(samples: list[float], x: float) -> None:
    h = Histogram(0.5, 120.0)
    for s in samples:
        h.add(s)
    c = h.cdf(x)
    assert 0.0 <= c <= 1.0 + 1e-12
    assert h.cdf(x + 1.0) >= c - 1e-12
    assert h.cdf(1000.0) == pytest.approx(1.0)


def test_histogram_quantiles_of_a_uniform_ring() -> None:
    h = Histogram(0.25, 120.0)
    rng = random.Random(2)
    for _ in range(20_000):
        h.add(rng.uniform(5.0, 25.0))
    for q in (0.1, 0.5, 0.9):
        assert h.quantile(q) == pytest.approx(5.0 + 20.0 * q, abs=0.3)
    assert h.mean() == pytest.approx(15.0, abs=0.2)


def test_remaining_time_of_exponential_talk_is_memoryless() -> None:
    h = Histogram(1.0, 7200.0, max_weight=1e9)
    rng = random.Random(3)
    for _ in range(50_000):
        h.add(rng.expovariate(1 / 90.0))
    km = KaplanMeier(h, [])
    expected = 1.0 - math.exp(-15.0 / 90.0)
    for age in (0.0, 60.0, 200.0, 900.0, 5000.0):  # 900 s+ is past the data: tail model
        assert km.p_end_within(age, 15.0) == pytest.approx(expected, abs=0.03)


def test_calls_still_running_keep_the_estimate_honest() -> None:
    # the first minutes of a shift: only short calls have finished so far
    rng = random.Random(4)
    talks = [rng.expovariate(1 / 180.0) for _ in range(200)]
    h = Histogram(1.0, 7200.0)
    for x in talks:
        if x < 60.0:
            h.add(x)
    running = [60.0 for x in talks if x >= 60.0]  # all of them 60 s into their calls
    naive = KaplanMeier(h, [])
    honest = KaplanMeier(h, running)
    truth = 1.0 - math.exp(-20.0 / 180.0)
    assert naive.p_end_within(10.0, 20.0) > 2 * truth  # would dial for agents still talking
    assert honest.p_end_within(10.0, 20.0) == pytest.approx(truth, abs=0.05)


def test_fixed_wrap_up_is_known_to_the_second() -> None:
    h = Histogram(0.25, 900.0)
    for _ in range(100):
        h.add(10.0)
    km = KaplanMeier(h, [])
    assert km.p_end_within(0.5, 8.0) == 0.0  # 1.5 s short
    assert km.p_end_within(3.0, 8.0) == pytest.approx(1.0)


def test_histogram_forgets_by_halving() -> None:
    h = Histogram(1.0, 100.0, max_weight=100.0)
    for _ in range(150):
        h.add(10.0)
    for _ in range(150):
        h.add(50.0)
    assert h.total <= 100.0
    assert h.cdf(20.0) < 0.5  # the recent 50-s durations dominate


def test_in_flight_tracker_matches_resolutions_to_their_dial_second() -> None:
    tr = InFlightTracker()
    tr.add(100.2)
    tr.add(100.9)
    tr.add(101.0)
    assert tr.remove(100.9 + 12.3 - 12.3) == 100
    assert tr.remove(99.99999999) == 100  # floating error lands next door
    assert tr.remove(500.0) is None
    assert tr.total == 1
    assert tr.reconcile(3, now=200.0)
    assert tr.total == 3
    assert tr.reconcile(1, now=201.0)
    assert tr.bins == {200: 1}


def test_start_times_remove_the_nearest_and_reconcile() -> None:
    st_ = StartTimes()
    for t in (5.0, 1.0, 3.0):
        st_.add(t)
    assert st_.starts == [1.0, 3.0, 5.0]
    st_.remove(2.9)
    assert st_.starts == [1.0, 5.0]
    assert st_.count_started_between(0.0, 2.0) == 1
    st_.reconcile(4, now=9.0)
    assert st_.starts == [1.0, 5.0, 9.0, 9.0]
    st_.reconcile(1, now=10.0)
    assert st_.starts == [9.0]


# -- abandon budget ------------------------------------------------------------------


def test_no_slack_means_progressive() -> None:
    b = AbandonBudget(limit=0.03)
    assert b.threshold(0.0, 1000, 30) == 0.0
    assert b.threshold(1.0, 1000, 29, pending=5.0) == 0.0


def test_more_slack_more_risk_up_to_a_cap() -> None:
    b = AbandonBudget(limit=0.03, buffer=3.0, gain=0.2)
    values = [b.threshold(0.0, 2000, a) for a in (58, 55, 50, 40, 0)]
    assert values == sorted(values)
    assert values[0] > 0.0
    assert values[-1] == pytest.approx(4 * b.base)


def test_a_young_campaign_spends_half_the_limit() -> None:
    b = AbandonBudget(limit=0.03, reserve=2.0)  # scale 1 until a rate is known
    assert b.line(0) == 0.0
    assert b.line(100) == pytest.approx(1.5)  # not 3 - 2 = 1
    assert b.line(10_000) == pytest.approx(298.0)
    assert b.threshold(0.0, 100, 2) == 0.0


def test_the_base_threshold_learns_towards_the_buffer() -> None:
    # a short horizon keeps the scale at 1 abandon, whatever the pace of this test
    b = AbandonBudget(limit=0.03, buffer=3.0, horizon_s=1.0)
    start = b.base
    for i, h in enumerate(range(1000, 3000, 10)):
        b.threshold(float(i), h, int(0.03 * h) - 20)  # lots of slack unspent: be bolder
    assert b.base > start
    b2 = AbandonBudget(limit=0.03, buffer=3.0, horizon_s=1.0)
    for i, h in enumerate(range(1000, 3000, 10)):
        b2.threshold(float(i), h, int(0.03 * h) - 1)  # slack below the buffer: careful
    assert b2.base < start


def test_budget_rejects_impossible_limits() -> None:
    with pytest.raises(ValueError):
        AbandonBudget(limit=1.5)


def test_the_loop_is_calmer_on_a_big_floor() -> None:
    small, big = AbandonBudget(limit=0.03), AbandonBudget(limit=0.03)
    for i in range(1, 3601):
        small.threshold(float(i), i // 50, int(0.03 * (i // 50)) - 2)  # ~70 humans/hour
        big.threshold(float(i), i, int(0.03 * i) - 2)  # 3600 humans/hour
    assert small.scale == pytest.approx(1.0)
    assert big.scale > 4.0  # sigma of the abandon count over 15 min, in abandons
    # the same two abandons of slack are plenty for 5 agents, a warning sign for 100
    assert big.value < small.value
