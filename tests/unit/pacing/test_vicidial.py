"""The VICIdial model does what AST_VDadapt.pl and AST_VDauto_dial.pl do."""

from __future__ import annotations

import pytest

from dialer.pacing import Abandoned, Dialed, PacingState, VicidialPacer


def state(
    t: float,
    ready: int,
    busy: int,
    waiting: int = 0,
    in_flight: int = 0,
    humans: int = 0,
    abandoned: int = 0,
) -> PacingState:
    return PacingState(
        t=t,
        agents_logged_in=ready + busy,
        agents_available=ready,
        agents_on_call=busy,
        agents_wrap_up=0,
        calls_in_flight=in_flight,
        calls_waiting=waiting,
        window_human_answers=humans,
        window_abandoned=abandoned,
    )


def run_for(p: VicidialPacer, start: int, seconds: int, **kw: int) -> None:
    for s in range(start, start + seconds):
        p.calls_to_launch(state(float(s), **kw))


def test_goal_calls_count_ready_and_in_call_agents() -> None:
    p = VicidialPacer(initial_level=2.0)
    # goal = round(2.0 x (3 ready + 7 in call)) = 20; alive = 4 ringing + 1 waiting + 7 talking
    assert p.calls_to_launch(state(0.0, ready=3, busy=7, waiting=1, in_flight=4)) == 8


def test_level_one_is_progressive() -> None:
    p = VicidialPacer()
    assert p.calls_to_launch(state(0.0, ready=4, busy=6, in_flight=1)) == 3


def test_level_rises_while_agents_wait_and_is_capped() -> None:
    p = VicidialPacer()
    run_for(p, 0, 16, ready=5, busy=5)
    # after 15 s: level x (1 + (5 - 0)/10) = 1.5
    assert p.level == pytest.approx(1.5)
    run_for(p, 16, 200, ready=5, busy=5)
    assert p.level == pytest.approx(3.0)


def test_intensity_speeds_up_increases() -> None:
    p = VicidialPacer(intensity=50.0)
    run_for(p, 0, 16, ready=5, busy=5)
    assert p.level == pytest.approx(1.75)  # change 0.5 x (1 + 0.5)


def test_level_falls_while_calls_wait_but_not_below_one() -> None:
    p = VicidialPacer(initial_level=2.5)
    run_for(p, 0, 16, ready=0, busy=10, waiting=4)
    assert p.level == pytest.approx(1.5)  # 2.5 x (1 - 4/10)
    run_for(p, 16, 200, ready=0, busy=10, waiting=4)
    assert p.level == pytest.approx(1.0)


def _over_limit(p: VicidialPacer) -> None:
    # 60 dials today and 5 % of 100 human answers dropped, then the first 15-s adjustment
    for i in range(60):
        p.observe(Dialed(-60.0 + i))
    for s in range(16):
        p.calls_to_launch(state(float(s), ready=5, busy=5, humans=100, abandoned=5))


@pytest.mark.parametrize(("method", "expected"), [("hard_limit", 1.0), ("average", 1.5)])
def test_drop_rate_over_the_limit_today(method: str, expected: float) -> None:
    p = VicidialPacer(method=method, initial_level=2.5)  # type: ignore[arg-type]
    _over_limit(p)
    # the differential first raises the level: 2.5 x (1 + 5/10) → capped at 3.0;
    # then hard_limit resets it to 1.0 and average halves it
    assert p.level == pytest.approx(expected)


def test_tapered_cuts_harder_as_the_shift_ends() -> None:
    early = VicidialPacer(method="tapered", initial_level=2.0, taper_end_s=36_000.0)
    late = VicidialPacer(method="tapered", initial_level=2.0, taper_end_s=9_000.0)
    for p in (early, late):
        _over_limit(p)
    assert early.level == pytest.approx(3.0, abs=0.01)
    assert late.level == pytest.approx(1.0)  # 3.0 x 0.25, floored at 1.0


def test_half_the_last_minute_dropped_halves_the_level() -> None:
    p = VicidialPacer(initial_level=2.0)
    for i in range(30):
        p.observe(Dialed(30.0 + i))
    for i in range(20):
        p.observe(Abandoned(40.0 + i, 2.0))
    for s in range(61, 77):
        p.calls_to_launch(state(float(s), ready=0, busy=10))
    assert p.level == pytest.approx(1.0)  # 2.0 halved (no waiting/ready change)


def test_available_only_tally_is_a_plain_ratio() -> None:
    p = VicidialPacer(initial_level=2.0, available_only=True)
    assert p.calls_to_launch(state(0.0, ready=3, busy=7, in_flight=2)) == 4
