"""Pending pauses: an agent who asked to pause (or log out) when their call ends is not an
agent about to be free, so the predictive pacer does not dial for them."""

from __future__ import annotations

import copy
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.pacing import PacingState, make_pacer
from dialer.pacing.predictive import PredictivePacer
from dialer.sim import CalleeModel, SimParams, run_simulation
from dialer.sim.floor import AgentFloor, Breaks


@pytest.fixture(scope="module")
def warm() -> PredictivePacer:
    """A predictive pacer that has learnt a 20-agent floor for an hour."""
    pacer = make_pacer("predictive")
    assert isinstance(pacer, PredictivePacer)
    params = SimParams(
        agents=20, callee=CalleeModel(p_human=0.3, talk_s=90.0), duration_s=3600.0, seed=3
    )
    run_simulation(params, pacer)
    return pacer


def _busy_floor(t: float, pausing: int) -> PacingState:
    return PacingState(
        t=t,
        agents_logged_in=20,
        agents_available=4,
        agents_on_call=12,
        agents_wrap_up=4,
        calls_in_flight=4,
        window_human_answers=2000,
        window_abandoned=10,
        agents_pausing=pausing,
    )


@settings(max_examples=15, deadline=None)
@given(pausing=st.integers(1, 16))
def test_agents_about_to_pause_never_raise_the_calls_launched(
    warm: PredictivePacer, pausing: int
) -> None:
    t = 3601.0
    base = copy.deepcopy(warm).calls_to_launch(_busy_floor(t, 0))
    fewer = copy.deepcopy(warm).calls_to_launch(_busy_floor(t, pausing))
    assert 0 <= fewer <= base


def test_four_busy_agents_pausing_cut_the_dial_ahead(warm: PredictivePacer) -> None:
    base = copy.deepcopy(warm).calls_to_launch(_busy_floor(3601.0, 0))
    assert base > 4  # it dials ahead of the 4 free agents for agents about to be free
    assert copy.deepcopy(warm).calls_to_launch(_busy_floor(3601.0, 4)) < base


def test_the_simulated_floor_reports_pending_pauses() -> None:
    floor = AgentFloor(agents=2, duration_s=3600.0)
    floor.move("free", "on_call")
    floor.move("free", "on_call")
    floor.plan(Breaks(), random.Random(1))
    assert floor.pausing() == 0
    assert floor.break_due(0) is None  # nobody free: the break waits for the next one
    floor.leave(1)
    assert floor.pausing() == 2
    floor.move("on_call", "free")
    assert floor.claim_freed() == ("break", 0, floor.gaps[0][0][1])
    assert floor.pausing() == 1
