"""Simulator invariants: conservation, bounds, determinism, and the engine's event contract."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.pacing import make_pacer
from dialer.pacing.base import PacingEvent, PacingState
from dialer.sim import CalleeModel, PHumanSchedule, SimParams, TalkDistribution, run_simulation


class Recorder:
    """Wraps a pacer, checks every state it is shown and counts the events it observes."""

    def __init__(self, inner: object, agents: int) -> None:
        self.inner = inner
        self.agents = agents
        self.kinds: dict[str, int] = {}
        self.last_t = 0.0
        self.states = 0

    def observe(self, event: PacingEvent) -> None:
        assert event.t >= self.last_t - 1e-9, "events arrive in time order"
        self.last_t = event.t
        self.kinds[event.kind] = self.kinds.get(event.kind, 0) + 1
        self.inner.observe(event)  # type: ignore[attr-defined]

    def calls_to_launch(self, state: PacingState) -> int:
        self.states += 1
        assert state.t >= self.last_t - 1e-9
        assert (
            state.agents_available + state.agents_on_call + state.agents_wrap_up
            == state.agents_logged_in
            == self.agents
        )
        assert min(state.agents_available, state.calls_in_flight, state.calls_waiting) >= 0
        assert state.window_abandoned <= state.window_human_answers
        assert state.calls_waiting == 0 or state.agents_available == 0
        return self.inner.calls_to_launch(state)  # type: ignore[attr-defined]


def _short(**kw: object) -> SimParams:
    callee_kw = {k: kw.pop(k) for k in list(kw) if k in CalleeModel.__dataclass_fields__}
    return SimParams(callee=CalleeModel(**callee_kw), duration_s=1800.0, **kw)  # type: ignore[arg-type]


MODES = ["progressive", "ratio:2.5", "vicidial", "predictive"]


@settings(max_examples=25, deadline=None)
@given(
    mode=st.sampled_from(MODES),
    agents=st.integers(1, 25),
    p_human=st.floats(0.05, 0.6),
    p_machine=st.floats(0.0, 0.3),
    talk=st.floats(10.0, 300.0),
    wrap=st.floats(0.0, 30.0),
    seed=st.integers(0, 10_000),
    max_lines=st.none() | st.integers(1, 40),
)
def test_every_dial_ends_in_exactly_one_outcome(
    mode: str,
    agents: int,
    p_human: float,
    p_machine: float,
    talk: float,
    wrap: float,
    seed: int,
    max_lines: int | None,
) -> None:
    params = _short(
        agents=agents,
        p_human=p_human,
        p_machine=p_machine,
        talk_s=talk,
        wrap_s=wrap,
        seed=seed,
        max_lines=max_lines,
    )
    rec = Recorder(make_pacer(mode), agents)
    r = run_simulation(params, rec)
    assert r.dials == r.human_answers + r.machine_answers + r.busy + r.failed + r.no_answer
    assert r.human_answers == r.connected + r.abandoned + r.hung_up
    assert rec.kinds.get("dialed", 0) == r.dials
    assert rec.kinds.get("answered_human", 0) == r.human_answers
    assert rec.kinds.get("connected", 0) == r.connected
    assert rec.kinds.get("abandoned", 0) == r.abandoned + r.hung_up
    assert rec.kinds.get("call_ended", 0) == rec.kinds.get("wrap_ended", 0) == r.connected
    assert 0.0 <= r.occupancy <= 1.0
    assert 0.0 <= r.abandon_rate <= 1.0
    assert r.mean_wait_s <= params.max_wait_s + 1e-9
    if max_lines is not None:
        assert r.max_in_flight <= max_lines
    assert rec.states >= params.duration_s  # consulted at least on every 1-s tick


@pytest.mark.parametrize("mode", MODES)
def test_same_seed_same_result(mode: str) -> None:
    params = _short(agents=10, seed=42)
    a = run_simulation(params, make_pacer(mode))
    b = run_simulation(params, make_pacer(mode))
    assert a.to_dict() == b.to_dict()
    c = run_simulation(replace(params, seed=43), make_pacer(mode))
    assert c.to_dict() != a.to_dict()


@settings(max_examples=15, deadline=None)
@given(agents=st.integers(1, 30), seed=st.integers(0, 10_000), p_human=st.floats(0.1, 0.9))
def test_progressive_never_abandons_when_talk_outlasts_ring(
    agents: int, seed: int, p_human: float
) -> None:
    params = _short(agents=agents, seed=seed, p_human=p_human, p_machine=0.05, talk_s=600.0)
    r = run_simulation(params, make_pacer("progressive"))
    assert r.abandoned == 0
    assert r.human_answers > 0


def test_occupancy_is_talk_time_over_agent_time() -> None:
    params = _short(agents=8)
    r = run_simulation(params, make_pacer("ratio:2"))
    assert r.occupancy == pytest.approx(r.talk_time_s / (8 * params.duration_s))
    assert r.occupancy < params.callee.talk_s / (params.callee.talk_s + params.wrap_s)


def test_eager_ratio_abandons_and_keeps_agents_busier() -> None:
    params = _short(agents=20, seed=5)
    timid = run_simulation(params, make_pacer("progressive"))
    eager = run_simulation(params, make_pacer("ratio:6"))
    assert eager.occupancy > timid.occupancy
    assert eager.abandon_rate > 0.05
    assert eager.abandoned == eager.human_answers - eager.connected


def test_answer_rate_drift_shows_in_the_results() -> None:
    hours = 2 * 3600.0
    falling = CalleeModel(p_human=0.4, p_human_schedule=PHumanSchedule.linear(0.4, 0.05, hours))
    steady = CalleeModel(p_human=0.4)
    a = run_simulation(SimParams(callee=falling, duration_s=hours), make_pacer("progressive"))
    b = run_simulation(SimParams(callee=steady, duration_s=hours), make_pacer("progressive"))
    assert a.human_answers / a.dials < b.human_answers / b.dials - 0.1


def test_callers_who_hang_up_before_the_limit_are_not_abandons() -> None:
    # as the engine records them: a person who gives up within 2 s is a human answer
    callee = CalleeModel(talk_dist=TalkDistribution.LOGNORMAL, patience_s=1.0)
    params = SimParams(callee=callee, duration_s=1800.0)
    patient = run_simulation(
        replace(params, callee=replace(callee, patience_s=float("inf"))), make_pacer("ratio:3")
    )
    r = run_simulation(params, make_pacer("ratio:3"))
    assert r.human_answers == r.connected + r.abandoned + r.hung_up
    assert r.hung_up > 0
    assert patient.hung_up == 0
    assert r.abandoned < patient.abandoned


def test_result_serialises_every_headline_figure() -> None:
    d = run_simulation(_short(agents=3), make_pacer("progressive")).to_dict()
    for key in (
        "occupancy",
        "abandon_rate",
        "dials",
        "human_answers",
        "connected",
        "abandoned",
        "mean_wait_s",
    ):
        assert key in d


@pytest.mark.parametrize(
    "kwargs",
    [{"agents": 0}, {"duration_s": 0.0}, {"wrap_s": -1.0}, {"max_lines": 0}, {"tick_s": 0.0}],
)
def test_bad_params_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        SimParams(**kwargs)


def test_a_long_shift_of_many_agents_runs() -> None:
    # the reference claim: hours of a 100-agent floor run in seconds (one hour here)
    params = SimParams(agents=100, duration_s=3600.0)
    r = run_simulation(params, make_pacer("ratio:3"))
    assert r.dials > 10_000
