"""After a database outage the pacer dials no further ahead than the free agents (for a
while), and nothing while the database is still away."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.engine.ramp import OutageRamp
from dialer.pacing.base import PacingState


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def state(available: int, in_flight: int = 0, waiting: int = 0, on_call: int = 0) -> PacingState:
    return PacingState(
        t=0.0,
        agents_logged_in=available + on_call,
        agents_available=available,
        agents_on_call=on_call,
        agents_wrap_up=0,
        calls_in_flight=in_flight,
        calls_waiting=waiting,
    )


@pytest.mark.parametrize(
    ("phase", "want", "available", "in_flight", "waiting", "allowed"),
    [
        ("before", 109, 50, 0, 0, 109),  # no outage yet: the pacer's number
        ("down", 109, 50, 0, 0, 0),  # the database is away: nothing
        ("ramp", 109, 50, 0, 0, 50),  # back: free agents only
        ("ramp", 109, 50, 20, 0, 30),  # less calls already in flight
        ("ramp", 109, 50, 20, 5, 25),  # less humans waiting for an agent
        ("ramp", 10, 50, 0, 0, 10),  # a smaller wish is kept
        ("ramp", 109, 3, 10, 0, 0),  # never negative
        ("after", 109, 50, 0, 0, 109),  # the ramp is over
    ],
)
def test_the_cap_in_each_phase(
    phase: str, want: int, available: int, in_flight: int, waiting: int, allowed: int
) -> None:
    clock = Clock()
    ramp = OutageRamp(clock, ramp_s=30)
    if phase != "before":
        ramp.failed()
    if phase in ("ramp", "after"):
        clock.t = 100.0
        ramp.answered()
        clock.t = 129.0 if phase == "ramp" else 130.0
    assert ramp.cap(want, state(available, in_flight, waiting)) == allowed


def test_a_second_error_while_down_is_one_outage() -> None:
    ramp = OutageRamp(Clock())
    ramp.failed()
    ramp.failed()
    ramp.answered()
    ramp.answered()  # no outage to end: nothing changes
    assert ramp.outages == 1 and not ramp.down


@given(
    want=st.integers(0, 500),
    available=st.integers(0, 200),
    in_flight=st.integers(0, 500),
    waiting=st.integers(0, 50),
    on_call=st.integers(0, 200),
)
def test_during_the_ramp_no_call_is_placed_ahead_of_a_free_agent(
    want: int, available: int, in_flight: int, waiting: int, on_call: int
) -> None:
    clock = Clock()
    ramp = OutageRamp(clock)
    ramp.failed()
    ramp.answered()
    got = ramp.cap(want, state(available, in_flight, waiting, on_call))
    assert 0 <= got <= want
    assert in_flight + got + waiting <= max(available, in_flight + waiting)
