"""Floors that are not ideal: breaks and early log-outs, AMD errors, quick hang-ups and
two campaigns sharing one pool of agents keep the simulator's invariants (every dial has
one outcome, agent time adds up to agents x shift, talk time is agent time on calls)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.pacing import make_pacer
from dialer.sim import Breaks, CalleeModel, SimParams, SimResult, run_floor, run_simulation
from dialer.sim.floor import AgentFloor

MODES = ["progressive", "ratio:2.5", "vicidial", "predictive"]


def _conserved(r: SimResult) -> None:
    assert r.dials == r.human_answers + r.machine_answers + r.busy + r.failed + r.no_answer
    assert r.human_answers == r.connected + r.abandoned + r.hung_up
    assert r.amd_humans_dropped <= r.machine_answers
    assert r.amd_machines_to_agents <= r.human_answers
    assert 0.0 <= r.occupancy <= 1.0 + 1e-9
    assert 0.0 <= r.max_window_rate <= 1.0


def _agent_time_adds_up(r: SimResult, talk_s: float) -> None:
    t = r.agent_time_s
    assert math.isclose(sum(t.values()), r.agents * r.duration_s, rel_tol=1e-9)
    assert math.isclose(t["free"] + t["on_call"] + t["wrap"], r.staffed_s, rel_tol=1e-9)
    assert math.isclose(t["on_call"], talk_s, rel_tol=1e-6, abs_tol=1e-6)


breaks_st = st.none() | st.builds(
    Breaks,
    every_s=st.sampled_from([(600.0, 1200.0), (3600.0, 7200.0)]),
    pause_s=st.sampled_from([(60.0, 300.0), (300.0, 900.0)]),
    p_leave_early=st.floats(0.0, 1.0),
    leave_from=st.floats(0.0, 0.9),
    hold_s=st.sampled_from([0.0, 30.0, 1e9]),
)


@settings(max_examples=25, deadline=None)
@given(
    mode=st.sampled_from(MODES),
    agents=st.integers(1, 25),
    p_human=st.floats(0.05, 0.5),
    drops=st.floats(0.0, 0.3),
    passes=st.floats(0.0, 0.3),
    quick=st.floats(0.0, 0.5),
    breaks=breaks_st,
    seed=st.integers(0, 10_000),
)
def test_imperfect_floor_keeps_every_invariant(
    mode: str,
    agents: int,
    p_human: float,
    drops: float,
    passes: float,
    quick: float,
    breaks: Breaks | None,
    seed: int,
) -> None:
    callee = CalleeModel(
        p_human=p_human,
        p_amd_drops_human=drops,
        p_amd_passes_machine=passes,
        p_quick_hangup=quick,
        talk_s=60.0,
    )
    params = SimParams(agents=agents, callee=callee, duration_s=2400.0, seed=seed, breaks=breaks)
    r = run_simulation(params, make_pacer(mode))
    _conserved(r)
    _agent_time_adds_up(r, r.talk_time_s)
    assert len(r.window_rates) == 40


def test_amd_errors_are_counted_and_change_what_the_dialer_sees() -> None:
    base = SimParams(agents=5, duration_s=3600.0, seed=3)
    clean = run_simulation(base, make_pacer("progressive"))
    callee = CalleeModel(p_amd_drops_human=1.0, p_amd_passes_machine=1.0)
    wrong = run_simulation(
        SimParams(agents=5, callee=callee, duration_s=3600.0, seed=3), make_pacer("progressive")
    )
    # every human is hung up on, every machine goes to an agent
    assert wrong.amd_humans_dropped == wrong.machine_answers > 0
    assert wrong.amd_machines_to_agents == wrong.human_answers > 0
    assert clean.amd_humans_dropped == clean.amd_machines_to_agents == 0
    # agents only hear greetings (5 s): far less talk than with real people
    assert wrong.occupancy < clean.occupancy / 3


def test_quick_hang_ups_are_not_abandons() -> None:
    callee = CalleeModel(p_quick_hangup=1.0, p_human=0.4)
    params = SimParams(agents=5, callee=callee, duration_s=3600.0, seed=4)
    r = run_simulation(params, make_pacer("ratio:4"))
    assert r.hung_up > 0
    assert r.abandoned == 0  # everyone waiting hangs up within 2 s, before the limit
    assert run_simulation(params, make_pacer("progressive")).hung_up == 0


def test_breaks_pause_agents_and_early_leavers_log_out() -> None:
    breaks = Breaks(p_leave_early=1.0, leave_from=0.5)
    params = SimParams(agents=10, duration_s=4 * 3600.0, seed=5, breaks=breaks)
    r = run_simulation(params, make_pacer("predictive"))
    t = r.agent_time_s
    # 5-15 min every 1-2 h: between 1 and 3 breaks each before leaving at 2-4 h
    assert 10 * 300.0 <= t["paused"] <= 10 * 3 * 900.0
    assert 0.0 < t["offline"] <= 10 * 2 * 3600.0
    assert r.staffed_s < 10 * 4 * 3600.0
    _conserved(r)
    _agent_time_adds_up(r, r.talk_time_s)


@pytest.mark.parametrize("mode", ["progressive", "predictive"])
def test_same_seed_same_floor(mode: str) -> None:
    callee = CalleeModel(p_amd_drops_human=0.1, p_amd_passes_machine=0.1, p_quick_hangup=0.1)
    params = SimParams(agents=8, callee=callee, duration_s=1800.0, seed=9, breaks=Breaks())
    a = run_simulation(params, make_pacer(mode))
    b = run_simulation(params, make_pacer(mode))
    assert a.to_dict() == b.to_dict()


def _two_campaigns(modes: tuple[str, str], seed: int, breaks: Breaks | None = None) -> tuple:
    params = SimParams(agents=12, duration_s=3600.0, seed=seed, breaks=breaks)
    low = CalleeModel(p_human=0.1, talk_s=300.0)
    high = CalleeModel(p_human=0.35, talk_s=300.0)
    return params, run_floor(params, [(low, make_pacer(modes[0])), (high, make_pacer(modes[1]))])


@settings(max_examples=10, deadline=None)
@given(
    modes=st.tuples(st.sampled_from(MODES), st.sampled_from(MODES)),
    seed=st.integers(0, 10_000),
    breaks=breaks_st,
)
def test_shared_pool_keeps_each_campaigns_invariants(
    modes: tuple[str, str], seed: int, breaks: Breaks | None
) -> None:
    _, results = _two_campaigns(modes, seed, breaks)
    for r in results:
        _conserved(r)
    # one pool: both campaigns' talk is the pool's time on calls
    _agent_time_adds_up(results[0], sum(r.talk_time_s for r in results))
    assert results[0].agent_time_s == results[1].agent_time_s
    assert sum(r.occupancy for r in results) <= 1.0 + 1e-9


def test_progressive_campaigns_sharing_agents_never_abandon() -> None:
    # a call dialled for a free agent holds that agent: the other campaign's people
    # cannot take it, so two progressive campaigns never abandon (talk outlasts ring)
    _, results = _two_campaigns(("progressive", "progressive"), seed=7)
    assert all(r.abandoned == 0 for r in results)
    assert all(r.connected > 0 for r in results)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_held_breaks_never_strand_a_call_dialled_for_a_free_agent(seed: int) -> None:
    # progressive dials one call per free agent: the only way it abandons is an agent
    # walking away while their call rings. Held until it settles, that never happens.
    often = {"every_s": (300.0, 600.0), "pause_s": (60.0, 120.0), "p_leave_early": 1.0}
    params = SimParams(agents=4, duration_s=4 * 3600.0, seed=seed)
    held = run_simulation(
        replace(params, breaks=Breaks(**often, hold_s=1e9)), make_pacer("progressive")
    )
    at_once = run_simulation(
        replace(params, breaks=Breaks(**often, hold_s=0.0)), make_pacer("progressive")
    )
    assert held.abandoned == 0 and held.agent_time_s["paused"] > 0
    assert at_once.abandoned > 0  # the same floor with breaks taken at once strands calls
    _conserved(held)
    _agent_time_adds_up(held, held.talk_time_s)


def test_a_held_break_goes_after_the_call_its_agent_takes() -> None:
    floor = AgentFloor(2, 3600.0)
    floor.gaps = [[(600.0, 300.0)], [(600.0, 300.0)]]
    assert floor.break_due(0, hold=True) is None  # both free agents spoken for
    assert list(floor.holding) == [("break", 0)] and floor.count["free"] == 2
    floor.move("free", "on_call")  # one free agent takes a call: a non-holder
    floor.took_call()
    assert list(floor.holding) == [("break", 0)] and floor.pausing() == 0
    floor.move("free", "on_call")  # the holder takes the next one
    floor.took_call()
    assert not floor.holding and floor.pausing() == 1  # it goes after that call
    assert floor.release() is None


def test_a_held_break_starts_when_released() -> None:
    floor = AgentFloor(3, 3600.0)
    floor.gaps = [[(600.0, 300.0)] for _ in range(3)]
    floor.break_due(1, hold=True)
    floor.leave(2, hold=True)
    assert floor.free_unclaimed() == 1 and floor.count["paused"] == 0
    assert floor.release(("leave", 2)) == ("leave", 2, 0.0)
    assert floor.release() == ("break", 1, 300.0)
    assert floor.count == {"free": 1, "on_call": 0, "wrap": 0, "paused": 1, "offline": 1}
    assert floor.release(("break", 1)) is None  # released once


def test_a_floor_needs_a_campaign() -> None:
    with pytest.raises(ValueError, match="at least one campaign"):
        run_floor(SimParams(), [])


@pytest.mark.parametrize(
    "kw",
    [
        {"p_amd_drops_human": 1.5},
        {"p_quick_hangup": -0.1},
        {"machine_talk_s": -1.0},
    ],
)
def test_bad_imperfections_are_refused(kw: dict) -> None:
    with pytest.raises(ValueError):
        CalleeModel(**kw)


def test_bad_breaks_are_refused() -> None:
    with pytest.raises(ValueError):
        Breaks(every_s=(0.0, 10.0))
    with pytest.raises(ValueError):
        Breaks(p_leave_early=2.0)
    with pytest.raises(ValueError):
        Breaks(hold_s=-1.0)
