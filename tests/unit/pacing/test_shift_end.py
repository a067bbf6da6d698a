"""Shift-aware pacing: the abandon budget the rest of the shift will not need is spent as
the end nears (``PacingState.shift_left_s``), never past the slack guard; an unknown end
(``None``) changes nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.pacing import PacingState, make_pacer
from dialer.pacing.base import Pacer, PacingEvent
from dialer.pacing.budget import AbandonBudget
from dialer.sim import Breaks, CalleeModel, SimParams, run_simulation
from dialer.sim.model import TalkDistribution


class _Seen:
    """A pacer wrapper that records its answers, optionally hiding the shift's end."""

    def __init__(self, inner: Pacer, hide_end: bool = False) -> None:
        self.inner, self.hide_end = inner, hide_end
        self.launched: list[tuple[float, int]] = []

    def observe(self, event: PacingEvent) -> None:
        self.inner.observe(event)

    def calls_to_launch(self, state: PacingState) -> int:
        if self.hide_end:
            state = replace(state, shift_left_s=None)
        n = self.inner.calls_to_launch(state)
        self.launched.append((state.t, n))
        return n


def _drive(budget: AbandonBudget, left: float | None) -> list[float]:
    """One human a minute for two hours, an abandon every 50; thresholds at each minute."""
    out = []
    for minute in range(1, 121):
        t = 60.0 * minute
        humans = 4 * minute
        shift_left = None if left is None else max(0.0, left - t)
        out.append(budget.threshold(t, humans, humans // 50, 0.0, shift_left))
    return out


@pytest.mark.parametrize(
    ("left", "end_ramp", "same_as_unknown"),
    [
        (None, 3.0, True),  # unknown end: today's behaviour
        (7200.0, 0.0, True),  # end_ramp 0 switches it off
        (10 * 3600.0, 3.0, True),  # far from the end: the whole cushion is kept
        (7200.0, 3.0, False),  # a two-hour shift spends its cushion
    ],
)
def test_the_budget_spends_its_cushion_only_near_a_known_end(
    left: float | None, end_ramp: float, same_as_unknown: bool
) -> None:
    def budget(ramp: float) -> AbandonBudget:
        return AbandonBudget(reserve=0.5, buffer=3.0, end_ramp=ramp)

    unknown = _drive(budget(end_ramp), None)
    known = _drive(budget(end_ramp), left)
    assert (known == unknown) is same_as_unknown
    assert all(k >= u for k, u in zip(known, unknown, strict=True))


def test_the_cushion_falls_to_what_keeps_the_guard_open_at_the_end() -> None:
    b = AbandonBudget(reserve=0.5, buffer=3.0, end_ramp=3.0, end_keep=2.0)
    b.threshold(0.0, 0, 0)
    b.threshold(600.0, 200, 2)  # about a human every 3 s
    assert b.end_cushion(600.0, None) == 1.0
    assert b.end_cushion(600.0, 8 * 3600.0) == 1.0
    kept = 2.0 / (3.5 * b.scale)  # two abandons of headroom, so the guard stays open
    assert kept < b.end_cushion(600.0, 600.0) < 1.0
    assert b.end_cushion(600.0, 0.0) == pytest.approx(kept)
    b.end_keep = 0.0
    assert b.end_cushion(600.0, 0.0) == 0.0


def test_shift_awareness_dials_more_near_the_end_and_nothing_else_when_unknown() -> None:
    # a tiny, slow floor: the kind that kept three abandons in hand to the end
    params = SimParams(
        agents=4,
        callee=CalleeModel(p_human=0.15, talk_s=180.0),
        duration_s=2 * 3600.0,
        seed=3,
    )
    aware = _Seen(make_pacer("predictive"))
    blind = _Seen(make_pacer("predictive"), hide_end=True)
    off = _Seen(make_pacer("predictive", end_ramp=0.0))
    r_aware = run_simulation(params, aware)
    r_blind = run_simulation(params, blind)
    r_off = run_simulation(params, off)
    assert off.launched == blind.launched  # unknown end == no shift-awareness
    assert r_off.dials == r_blind.dials
    last = params.duration_s - 1800.0
    late = [sum(n for t, n in p.launched if t >= last) for p in (aware, blind)]
    assert late[0] > late[1]
    assert r_aware.abandoned >= r_blind.abandoned
    assert r_aware.max_window_rate <= 0.03


@settings(max_examples=12, deadline=None, derandomize=True)
@given(
    agents=st.integers(1, 8),
    p_human=st.floats(0.04, 0.5),
    talk=st.floats(20.0, 400.0),
    wrap=st.floats(0.0, 60.0),
    hours=st.sampled_from([1.0, 1.5, 2.5]),
    seed=st.integers(0, 10_000),
)
def test_no_window_minute_over_the_limit_when_the_end_is_known(
    agents: int, p_human: float, talk: float, wrap: float, hours: float, seed: int
) -> None:
    # short shifts on small floors: where the cushion is spent, the guard must still hold
    params = SimParams(
        agents=agents,
        callee=CalleeModel(p_human=p_human, talk_s=talk),
        wrap_s=wrap,
        duration_s=3600.0 * hours,
        seed=seed,
    )
    seen = _Seen(make_pacer("predictive"))
    r = run_simulation(params, seen)
    assert max(r.window_rates) <= 0.03, [round(x, 4) for x in r.window_rates]


@pytest.mark.parametrize(
    ("earn_left", "eps"),
    [
        (None, 0.05),  # unknown end: the tail bound's usual chance
        (3.0, 0.05),  # the rest of the shift earns an abandon back
        (0.25, 0.05),  # the last stretch starts at a quarter of an abandon
        (0.125, 0.025),  # half of that left to earn: half the chance
        (0.02, 0.01),  # never below end_eps x eps
        (0.0, 0.01),
    ],
)
def test_the_tail_bound_tightens_in_the_shifts_last_stretch(
    earn_left: float | None, eps: float
) -> None:
    budget = AbandonBudget(end_eps=0.2, end_from=0.25)
    budget.earn_left = earn_left
    assert budget.tail_eps(0.05) == pytest.approx(eps)


def test_a_burst_in_the_last_minutes_does_not_leave_the_shift_over_the_limit() -> None:
    # sweep #1, seed 7: two agents, 1 human in 9 calls, 171-s calls, breaks. In the last
    # seven minutes, with the window able to absorb one abandon, two calls beyond the
    # free agents both found people: 5 abandons in 143 answers (3.5 %) when dialling
    # stopped, with no time left to earn them back.
    callee = CalleeModel(
        p_human=0.11082151913279992,
        p_machine=0.18181443363596264,
        talk_s=171.01275586525216,
        talk_dist=TalkDistribution.LOGNORMAL,
    )
    params = SimParams(
        agents=2,
        callee=callee,
        wrap_s=41.11094954521861,
        duration_s=23906.65960904036,
        seed=7,
        breaks=Breaks(p_leave_early=0.2),
    )
    before = run_simulation(params, make_pacer("predictive", end_eps=1.0))
    now = run_simulation(params, make_pacer("predictive"))
    assert before.abandon_rate > 0.03  # the burst the old tail bound allowed
    assert now.abandon_rate <= 0.03
    assert now.occupancy >= before.occupancy - 0.005  # a few late calls, not the shift
