"""The predictive pacer: cautious without data, dials ahead of agents about to free up,
stays within the abandon limit, and hands back to progressive when the budget is spent."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dialer.pacing import (
    AnsweredHuman,
    CallEnded,
    Connected,
    Dialed,
    PacingState,
    PredictivePacer,
    Unanswered,
    WrapEnded,
    make_pacer,
)
from dialer.sim import CalleeModel, PHumanSchedule, SimParams, TalkDistribution, run_simulation


def _state(t: float, **kw: int) -> PacingState:
    free = kw.get("free", 0)
    busy = kw.get("busy", 0)
    wrap = kw.get("wrap", 0)
    return PacingState(
        t=t,
        agents_logged_in=free + busy + wrap,
        agents_available=free,
        agents_on_call=busy,
        agents_wrap_up=wrap,
        calls_in_flight=kw.get("in_flight", 0),
        calls_waiting=kw.get("waiting", 0),
        window_human_answers=kw.get("humans", 0),
        window_abandoned=kw.get("abandoned", 0),
    )


def _trained(p_human: float = 0.3) -> PredictivePacer:
    """A pacer that has seen an hour of a 10-agent floor (via the simulator)."""
    pacer = PredictivePacer()
    callee = CalleeModel(p_human=p_human)
    run_simulation(SimParams(agents=10, callee=callee, duration_s=3600.0, seed=3), pacer)
    return pacer


def test_without_data_it_is_progressive() -> None:
    pacer = PredictivePacer()
    assert pacer.calls_to_launch(_state(0.0, free=10)) == 10
    assert pacer.calls_to_launch(_state(1.0, free=10, in_flight=10)) == 0
    # even with a large abandon budget loaded from the database
    assert pacer.calls_to_launch(_state(2.0, free=10, in_flight=4, humans=10_000)) == 6


def test_never_fewer_calls_than_progressive() -> None:
    pacer = _trained()
    t = 4000.0
    for free, in_flight in [(5, 0), (3, 1), (8, 8), (0, 0)]:
        n = pacer.calls_to_launch(
            _state(t, free=free, busy=10 - free, in_flight=in_flight, humans=1000, abandoned=10)
        )
        assert n >= max(0, free - in_flight)
        t += 1.0


def test_spent_budget_means_progressive() -> None:
    pacer = _trained()
    over = _state(4000.0, free=4, wrap=6, in_flight=1, humans=1000, abandoned=31)
    assert pacer.calls_to_launch(over) == 3
    assert pacer.theta == 0.0


def test_dials_ahead_of_agents_about_to_free_up() -> None:
    t = 5000.0
    # ten agents have just started a 10-s wrap-up: their next callers should be ringing now
    wrapping = _trained()
    for _ in range(10):
        wrapping.observe(Connected(t - 100.0))
    for _ in range(10):
        wrapping.observe(CallEnded(t - 1.0, 99.0))
    # with 9 s to go, a call answering in 5-8 s would find nobody: wait a little
    assert wrapping.calls_to_launch(_state(t, wrap=10, humans=2000, abandoned=30)) <= 2
    n_wrapping = wrapping.calls_to_launch(_state(t + 3.0, wrap=10, humans=2000, abandoned=30))
    # the same floor with everyone just connected (long talks ahead) needs far fewer
    talking = _trained()
    for _ in range(10):
        talking.observe(Connected(t + 2.0))
    n_talking = talking.calls_to_launch(_state(t + 3.0, busy=10, humans=2000, abandoned=30))
    assert n_wrapping >= 10  # one human per agent at p ≈ 0.3 takes about 3 calls each
    assert n_talking < n_wrapping / 3


def test_engine_supplied_elapsed_times_replace_its_own_tracking() -> None:
    pacer = _trained()
    t = 6000.0
    state = replace(
        _state(t, busy=3, wrap=2, humans=2000, abandoned=30),
        busy_agent_elapsed_s=(30.0, 200.0, 5.0),
        wrap_agent_elapsed_s=(1.0, 9.0),
    )
    assert pacer.calls_to_launch(state) >= 0
    assert pacer.on_call.starts == [t - 200.0, t - 30.0, t - 5.0]
    assert pacer.wrapping.starts == [t - 9.0, t - 1.0]


def test_restart_with_unknown_calls_in_flight_is_cautious() -> None:
    pacer = PredictivePacer()
    # the engine restarted: 30 calls ringing that this pacer never saw dialled
    n = pacer.calls_to_launch(
        _state(100.0, free=5, busy=5, in_flight=30, humans=5000, abandoned=50)
    )
    assert n == 0
    assert pacer.in_flight.total == 30


def test_events_that_do_not_match_anything_are_harmless() -> None:
    pacer = PredictivePacer()
    pacer.observe(Unanswered(10.0, "busy", 3.0))
    pacer.observe(AnsweredHuman(11.0, 6.0))
    pacer.observe(WrapEnded(12.0, 10.0))
    pacer.observe(CallEnded(13.0, 50.0))
    pacer.observe(Dialed(14.0))
    assert pacer.calls_to_launch(_state(15.0, free=2, in_flight=1)) == 1


def test_diagnostics_are_numbers() -> None:
    d = _trained().diagnostics()
    assert set(d) >= {"threshold", "p_human", "abandon_slack"}
    assert all(isinstance(v, float) for v in d.values())


SCENARIOS = [
    pytest.param(SimParams(agents=20, duration_s=2 * 3600.0, seed=11), id="20-agents-ref"),
    pytest.param(
        SimParams(
            agents=5, callee=CalleeModel(p_human=0.15, talk_s=180.0), duration_s=3 * 3600.0, seed=12
        ),
        id="5-agents-low-answer-long-talk",
    ),
    pytest.param(
        SimParams(
            agents=40, callee=CalleeModel(p_human=0.3, talk_s=60.0), duration_s=3600.0, seed=13
        ),
        id="40-agents-short-talk",
    ),
    pytest.param(
        SimParams(
            agents=15,
            callee=CalleeModel(
                p_human=0.1, p_human_schedule=PHumanSchedule.linear(0.1, 0.4, 2 * 3600.0)
            ),
            duration_s=2 * 3600.0,
            seed=14,
        ),
        id="answer-rate-rising",
    ),
    pytest.param(
        SimParams(
            agents=10,
            callee=CalleeModel(talk_dist=TalkDistribution.LOGNORMAL),
            duration_s=2 * 3600.0,
            seed=15,
        ),
        id="lognormal-talk",
    ),
]


@pytest.mark.parametrize("params", SCENARIOS)
def test_abandon_rate_stays_within_the_limit(params: SimParams) -> None:
    r = run_simulation(params, make_pacer("predictive"))
    assert r.abandon_rate <= 0.03
    progressive = run_simulation(params, make_pacer("progressive"))
    assert r.occupancy > progressive.occupancy


def test_a_stricter_limit_is_honoured() -> None:
    params = SimParams(agents=20, duration_s=2 * 3600.0, seed=21)
    r = run_simulation(params, make_pacer("predictive", max_abandon_rate=0.01))
    assert r.abandon_rate <= 0.01


def test_line_cap_is_honoured_inside_the_simulator() -> None:
    params = SimParams(agents=20, duration_s=1800.0, max_lines=12)
    r = run_simulation(params, make_pacer("predictive", max_lines=9))
    assert r.max_in_flight <= 9
