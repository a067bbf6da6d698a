"""Every pacer keeps the engine's contract, whatever events and states it is fed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.pacing import (
    Abandoned,
    AnsweredHuman,
    AnsweredMachine,
    CallEnded,
    Connected,
    Dialed,
    Pacer,
    PacingState,
    PredictivePacer,
    ProgressivePacer,
    RatioPacer,
    Unanswered,
    VicidialPacer,
    WrapEnded,
    make_pacer,
)

MODES = ["progressive", "ratio:1.7", "power:4", "vicidial", "predictive"]


def _event(kind: int, t: float, x: float):  # type: ignore[no-untyped-def]
    return [
        lambda: Dialed(t),
        lambda: AnsweredHuman(t, x),
        lambda: AnsweredMachine(t, x, 3.0),
        lambda: Unanswered(t, "no_answer", x),
        lambda: Unanswered(t, "busy", x),
        lambda: Connected(t, x / 20),
        lambda: Abandoned(t, 2.0),
        lambda: CallEnded(t, 10 * x),
        lambda: WrapEnded(t, x),
    ][kind]()


events = st.lists(st.tuples(st.integers(0, 8), st.floats(0.0, 5.0), st.floats(0.0, 40.0)))
states = st.builds(
    lambda t, free, busy, wrap, fl, wait, cap, hum, ab, el: PacingState(
        t=t,
        agents_logged_in=free + busy + wrap,
        agents_available=free,
        agents_on_call=busy,
        agents_wrap_up=wrap,
        calls_in_flight=fl,
        calls_waiting=wait,
        max_lines=cap,
        window_human_answers=hum,
        window_abandoned=min(ab, hum),
        busy_agent_elapsed_s=tuple(el[:busy]) if len(el) >= busy else (),
    ),
    st.floats(0.0, 5.0),
    st.integers(0, 60),
    st.integers(0, 60),
    st.integers(0, 20),
    st.integers(0, 300),
    st.integers(0, 10),
    st.none() | st.integers(0, 200),
    st.integers(0, 5000),
    st.integers(0, 300),
    st.lists(st.floats(0.0, 3000.0), max_size=60),
)


@settings(max_examples=60, deadline=None)
@given(
    mode=st.sampled_from(MODES),
    script=st.lists(st.tuples(events, states), max_size=12),
    pacer_cap=st.none() | st.integers(0, 100),
)
def test_never_negative_never_past_the_line_cap(
    mode: str, script: list, pacer_cap: int | None
) -> None:
    pacer = make_pacer(mode, max_lines=pacer_cap)
    clock = 0.0
    for evs, state in script:
        for kind, dt, x in evs:
            clock += dt
            pacer.observe(_event(kind, clock, x))
        clock += state.t
        shown = PacingState(**{**_fields(state), "t": clock})
        n = pacer.calls_to_launch(shown)
        assert isinstance(n, int)
        assert n >= 0
        for cap in (shown.max_lines, pacer_cap):
            if cap is not None:
                assert shown.calls_in_flight + n <= max(cap, shown.calls_in_flight)


def _fields(state: PacingState) -> dict:
    return {name: getattr(state, name) for name in PacingState.__dataclass_fields__}


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_is_a_pacer(mode: str) -> None:
    assert isinstance(make_pacer(mode), Pacer)


@pytest.mark.parametrize(
    ("mode", "kwargs", "cls"),
    [
        ("progressive", {}, ProgressivePacer),
        ("ratio", {"ratio": 2.0}, RatioPacer),
        ("power", {"ratio": 1.5}, RatioPacer),
        ("RATIO:3", {}, RatioPacer),
        ("vicidial", {"method": "average"}, VicidialPacer),
        ("predictive", {"reserve": 2.0}, PredictivePacer),
    ],
)
def test_make_pacer_builds_each_mode(mode: str, kwargs: dict, cls: type) -> None:
    assert isinstance(make_pacer(mode, **kwargs), cls)


@pytest.mark.parametrize(
    ("mode", "kwargs", "message"),
    [
        ("preview", {}, "unknown dial mode"),
        ("ratio", {}, "needs a ratio"),
        ("ratio", {"ratio": 0.5}, "needs a ratio >= 1.0"),
        ("power", {"ratio": float("nan")}, "needs a ratio"),
        ("ratio:abc", {}, "bad ratio"),
        ("ratio:2", {"ratio": 2.0}, "carries a ratio"),
        ("predictive", {"max_abandon_rate": 0.0}, "max_abandon_rate"),
        ("predictive", {"max_lines": -1}, "max_lines"),
        ("predictive", {"warp_drive": True}, "bad tuning"),
        ("progressive", {"gain": 1.0}, "takes no tuning"),
        ("vicidial", {"method": "ADAPT_GUESS"}, "unknown VICIdial adapt method"),
    ],
)
def test_make_pacer_rejects_bad_input_clearly(mode: str, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_pacer(mode, **kwargs)


def _state(**kw: int) -> PacingState:
    base = {"agents_available": 0, "agents_on_call": 0, "agents_wrap_up": 0}
    base.update(kw)
    logged = base["agents_available"] + base["agents_on_call"] + base["agents_wrap_up"]
    return PacingState(
        t=100.0,
        agents_logged_in=logged,
        agents_available=base["agents_available"],
        agents_on_call=base["agents_on_call"],
        agents_wrap_up=base["agents_wrap_up"],
        calls_in_flight=kw.get("calls_in_flight", 0),
        calls_waiting=kw.get("calls_waiting", 0),
        max_lines=kw.get("max_lines"),
    )


@pytest.mark.parametrize(
    ("mode", "state", "expected"),
    [
        ("progressive", _state(agents_available=5), 5),
        ("progressive", _state(agents_available=5, calls_in_flight=3), 2),
        ("progressive", _state(agents_available=2, calls_in_flight=7), 0),
        ("progressive", _state(agents_available=5, max_lines=3), 3),
        ("ratio:2.5", _state(agents_available=2), 5),
        ("ratio:2.5", _state(agents_available=1), 2),
        ("ratio:2.5", _state(agents_available=4, calls_in_flight=6), 4),
        ("ratio:2.5", _state(agents_on_call=10), 0),
        ("ratio:3", _state(agents_available=4, max_lines=10, calls_in_flight=2), 8),
    ],
)
def test_fixed_rules(mode: str, state: PacingState, expected: int) -> None:
    assert make_pacer(mode).calls_to_launch(state) == expected
