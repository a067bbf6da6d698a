"""The burst cap: on a big, young campaign a batch of calls may not make a burst of
humans the window cannot absorb likely, at any horizon of the outlook."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.pacing import make_pacer
from dialer.pacing.horizons import Horizon, deficit_tail
from dialer.sim import Breaks, CalleeModel, SimParams, run_simulation
from dialer.sim.model import TalkDistribution


def _normal_tail(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


@pytest.mark.parametrize(
    ("rows", "new", "limit", "spread", "expected"),
    [
        # the deficit's mean sits 2 sd below the limit: a 2.3 % chance
        ([Horizon(0.2, 3.0, -1.5, 4.0)], 0, 2.5, 1.0, _normal_tail(2.0)),
        # twice the variance: the skewed tail of a few humans is wider than a normal's
        ([Horizon(0.2, 3.0, -1.5, 4.0)], 0, 2.5, 2.0, _normal_tail(2.0 / math.sqrt(2.0))),
        # 5 new calls, each a human by then with 20 %: one more expected, variance +0.8
        ([Horizon(0.2, 3.0, -1.5, 4.0)], 5, 2.5, 1.0, _normal_tail(3.0 / math.sqrt(4.8))),
        # the worst horizon counts: an early one where agents are not free yet
        (
            [Horizon(0.1, 2.0, -4.0, 1.0), Horizon(0.3, 5.0, 1.5, 1.0)],
            0,
            2.5,
            1.0,
            _normal_tail(1.0),
        ),
    ],
)
def test_deficit_tail_table(
    rows: list[Horizon], new: float, limit: float, spread: float, expected: float
) -> None:
    assert deficit_tail(rows, new, limit, spread=spread) == pytest.approx(expected)


@given(
    p=st.floats(0.0, 1.0),
    humans=st.floats(0.0, 50.0),
    deficit=st.floats(-50.0, 50.0),
    var=st.floats(0.05, 50.0),
    rel2=st.floats(0.0, 0.2),
    n=st.integers(0, 200),
    limit=st.floats(0.5, 30.0),
)
def test_more_calls_or_a_thinner_window_never_make_a_burst_less_likely(
    p: float, humans: float, deficit: float, var: float, rel2: float, n: int, limit: float
) -> None:
    rows = [Horizon(p, humans, deficit, var)]
    here = deficit_tail(rows, n, limit, rel2)
    assert 0.0 <= here <= 1.0
    if p > 0.0 and here < 0.5:  # (the search only looks below 1/2: there, monotone)
        # a call that can be a human only adds to the deficit
        assert deficit_tail(rows, n + 1, limit, rel2) >= here - 1e-12
    assert deficit_tail(rows, n, limit - 0.5, rel2) >= here - 1e-12  # less room, more risk


def test_a_young_big_campaign_keeps_every_window_minute_within_the_limit() -> None:
    # sweep #33, seed 1: 68 agents, 40 % humans, 122-s calls, breaks, AMD errors. In minute
    # 9, with the window able to absorb two more abandons, 13 humans answered in 12 s
    # from 25 calls in flight (7.8 expected) while 6 agents freed up: four abandons,
    # 8 in 247 answers (3.24 %).
    callee = CalleeModel(
        p_human=0.39918929512890716,
        p_machine=0.04937483332061253,
        talk_s=122.17260868060727,
        talk_dist=TalkDistribution.LOGNORMAL,
        p_amd_drops_human=0.06411364105694228,
        p_amd_passes_machine=0.037987479749400914,
    )
    params = SimParams(
        agents=68,
        callee=callee,
        wrap_s=37.58490725672011,
        duration_s=4355.356208269789,
        seed=1,
        breaks=Breaks(p_leave_early=0.2),
    )
    before = run_simulation(params, make_pacer("predictive", burst_eps=0.0))
    now = run_simulation(params, make_pacer("predictive"))
    assert max(before.window_rates) > 0.03  # the burst the uncapped pacer allowed
    assert max(now.window_rates) <= 0.03
    assert now.occupancy >= before.occupancy - 0.005
