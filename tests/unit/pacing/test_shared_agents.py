"""Campaigns sharing agents: another campaign's calls compete for the agents a pacer is
shown (``PacingState.shared_calls_in_flight``), so no pacer dials for them twice."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from dialer.pacing import PacingState, guard_launch, make_pacer
from dialer.sim import CalleeModel, SimParams, run_floor, run_simulation


def _state(shared: int, *, free: int = 6, in_flight: int = 1, humans: int = 10) -> PacingState:
    return PacingState(
        t=100.0,
        agents_logged_in=10,
        agents_available=free,
        agents_on_call=10 - free,
        agents_wrap_up=0,
        calls_in_flight=in_flight,
        window_human_answers=humans,
        shared_calls_in_flight=shared,
    )


@pytest.mark.parametrize(
    ("shared", "expected"),
    [(0, 5), (2, 3), (5, 0), (9, 0)],  # 6 free - 1 own call - the other campaign's calls
)
def test_a_young_campaign_leaves_the_other_campaigns_calls_their_agents(
    shared: int, expected: int
) -> None:
    assert guard_launch(20, _state(shared), 0.03) == expected
    assert make_pacer("predictive").calls_to_launch(_state(shared)) == expected


def _trained_pacer():  # type: ignore[no-untyped-def]
    pacer = make_pacer("predictive")
    run_simulation(SimParams(agents=20, duration_s=1800.0, seed=3), pacer)
    return pacer


TRAINED = _trained_pacer()


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    free=st.integers(0, 20),
    in_flight=st.integers(0, 40),
    shared=st.integers(0, 30),
    more=st.integers(1, 10),
)
def test_more_calls_of_another_campaign_never_mean_more_dials(
    free: int, in_flight: int, shared: int, more: int
) -> None:
    base = dataclasses.replace(
        _state(shared, free=free, in_flight=in_flight, humans=2000), t=1801.0
    )
    pacer = TRAINED
    n = pacer.calls_to_launch(base)
    n_more = pacer.calls_to_launch(dataclasses.replace(base, shared_calls_in_flight=shared + more))
    assert 0 <= n_more <= n


@settings(max_examples=8, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate])
@given(
    agents=st.integers(4, 30),
    p_low=st.floats(0.05, 0.2),
    p_high=st.floats(0.25, 0.5),
    talk=st.floats(30.0, 300.0),
    seed=st.integers(0, 10_000),
)
def test_two_predictive_campaigns_on_one_pool_keep_every_window_minute_within_the_limit(
    agents: int, p_low: float, p_high: float, talk: float, seed: int
) -> None:
    params = SimParams(agents=agents, duration_s=3600.0, seed=seed)
    campaigns = [
        (CalleeModel(p_human=p, talk_s=talk), make_pacer("predictive")) for p in (p_low, p_high)
    ]
    for r in run_floor(params, campaigns):
        assert max(r.window_rates) <= 0.03, (agents, p_low, p_high, talk, seed, r.window_rates[:8])
