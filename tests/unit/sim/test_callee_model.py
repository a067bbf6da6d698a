"""The callee model: outcome mix, timings and the fixed draw count behind fair comparisons."""

from __future__ import annotations

import math
import random
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.sim import CalleeModel, CallOutcome, PHumanSchedule, TalkDistribution


def _draws(model: CalleeModel, n: int, seed: int = 7, at: float = 0.0) -> list:
    rng = random.Random(seed)
    return [model.sample(rng, at) for _ in range(n)]


def test_outcome_mix_matches_the_reference_model() -> None:
    scripts = _draws(CalleeModel(), 40_000)
    share = {o: sum(s.outcome is o for s in scripts) / len(scripts) for o in CallOutcome}
    assert share[CallOutcome.HUMAN] == pytest.approx(0.30, abs=0.01)
    assert share[CallOutcome.MACHINE] == pytest.approx(0.10, abs=0.01)
    assert share[CallOutcome.BUSY] + share[CallOutcome.FAILED] == pytest.approx(0.05, abs=0.005)
    assert share[CallOutcome.NO_ANSWER] == pytest.approx(0.55, abs=0.01)


def test_timings_follow_the_reference_model() -> None:
    for s in _draws(CalleeModel(), 5_000):
        if s.outcome in (CallOutcome.HUMAN, CallOutcome.MACHINE):
            assert 5.0 <= s.resolve_s <= 25.0
        elif s.outcome is CallOutcome.NO_ANSWER:
            assert s.resolve_s == 25.0
        else:
            assert s.resolve_s == 3.0
        assert s.amd_s == 3.0
        assert math.isinf(s.patience_s)


@pytest.mark.parametrize("dist", list(TalkDistribution))
def test_talk_time_mean_is_talk_s_for_both_shapes(dist: TalkDistribution) -> None:
    talks = [s.talk_s for s in _draws(CalleeModel(talk_s=120.0, talk_dist=dist), 30_000)]
    assert statistics.fmean(talks) == pytest.approx(120.0, rel=0.04)
    assert min(talks) > 0


def test_lognormal_talk_is_less_variable_than_exponential() -> None:
    exp = [s.talk_s for s in _draws(CalleeModel(), 20_000)]
    logn = [s.talk_s for s in _draws(CalleeModel(talk_dist=TalkDistribution.LOGNORMAL), 20_000)]
    # exponential has CV 1; lognormal with sigma 0.8 has CV sqrt(e^0.64 - 1) ≈ 0.95
    assert statistics.stdev(exp) / statistics.fmean(exp) == pytest.approx(1.0, abs=0.05)
    assert statistics.stdev(logn) / statistics.fmean(logn) == pytest.approx(0.947, abs=0.08)


@given(seed=st.integers(0, 2**32), p_human=st.floats(0.0, 0.8), at=st.floats(0, 30_000))
def test_every_call_consumes_the_same_randomness(seed: int, p_human: float, at: float) -> None:
    # the i-th dial gets the same callee under every pacer: common random numbers
    model = CalleeModel(p_human=p_human, p_machine=0.1)
    a, b = random.Random(seed), random.Random(seed)
    model.sample(a, at)
    for _ in range(4):
        b.random()
    assert a.random() == b.random()


def test_same_seed_same_scripts() -> None:
    assert _draws(CalleeModel(), 200, seed=3) == _draws(CalleeModel(), 200, seed=3)


def test_schedule_moves_the_human_rate_over_the_shift() -> None:
    schedule = PHumanSchedule.linear(0.35, 0.15, 8 * 3600.0)
    model = CalleeModel(p_human=0.35, p_human_schedule=schedule)
    assert model.p_human_at(0) == pytest.approx(0.35)
    assert model.p_human_at(4 * 3600) == pytest.approx(0.25)
    assert model.p_human_at(99_999) == pytest.approx(0.15)
    early = _draws(model, 20_000, at=0.0)
    late = _draws(model, 20_000, at=8 * 3600.0)
    assert sum(s.outcome is CallOutcome.HUMAN for s in early) / 20_000 == pytest.approx(
        0.35, abs=0.015
    )
    assert sum(s.outcome is CallOutcome.HUMAN for s in late) / 20_000 == pytest.approx(
        0.15, abs=0.015
    )


def test_finite_patience_is_drawn_per_call() -> None:
    patience = [s.patience_s for s in _draws(CalleeModel(patience_s=4.0), 20_000)]
    assert statistics.fmean(patience) == pytest.approx(4.0, rel=0.05)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"p_human": 1.2},
        {"p_machine": -0.1},
        {"p_human": 0.7, "p_machine": 0.3},
        {"ring_min_s": 30.0},
        {"talk_s": 0.0},
        {"talk_sigma": 0.0},
    ],
)
def test_impossible_models_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        CalleeModel(**kwargs)


@pytest.mark.parametrize(
    "points", [(), ((10.0, 0.2), (5.0, 0.3)), ((0.0, 1.5),)], ids=["empty", "unsorted", "p>1"]
)
def test_bad_schedules_are_refused(points: tuple) -> None:
    with pytest.raises(ValueError):
        PHumanSchedule(points)


def test_schedule_peak_counts_against_the_probability_budget() -> None:
    with pytest.raises(ValueError):
        CalleeModel(
            p_human=0.3, p_machine=0.3, p_human_schedule=PHumanSchedule.linear(0.3, 0.9, 60)
        )
