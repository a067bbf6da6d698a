"""The call state machine, every (state, event) pair and every path to an outcome."""

from __future__ import annotations

import itertools

import pytest

from dialer.engine import calls
from dialer.engine.calls import EVENTS, LIVE, OUTCOMES, STATES, IllegalCallEvent, transition

PAIRS = list(itertools.product(STATES, EVENTS))


@pytest.mark.parametrize(("state", "event"), PAIRS)
def test_every_pair_is_either_a_defined_step_or_refused(state: str, event: str) -> None:
    defined = state == "ended" or event in calls.TABLE[state]
    if not defined:
        with pytest.raises(IllegalCallEvent):
            transition(state, event)
        return
    step = transition(state, event)
    assert step.target in STATES
    # An outcome is given exactly when the call ends, and it is a known outcome.
    assert (step.outcome is not None) == step.ended
    if step.outcome is not None:
        assert step.outcome in OUTCOMES


@pytest.mark.parametrize("event", EVENTS)
def test_events_after_the_end_change_nothing(event: str) -> None:
    step = transition("ended", event)
    assert step.target == "ended" and not step.ended and step.effects == ()


@pytest.mark.parametrize("state", sorted(LIVE - {"connected"}))
def test_the_gateway_going_silent_ends_every_unconnected_call(state: str) -> None:
    step = transition(state, "timeout")
    assert step.ended
    assert step.outcome in ("unknown", "abandoned")


@pytest.mark.parametrize("state", sorted(LIVE))
def test_a_hangup_ends_every_live_call(state: str) -> None:
    assert transition(state, "hangup").ended


def test_unknown_states_and_events_are_refused() -> None:
    with pytest.raises(IllegalCallEvent):
        transition("flying", "hangup")
    with pytest.raises(IllegalCallEvent):
        transition("dialing", "teleport")


def _walk(state: str, events: list[str]) -> tuple[str, str | None, list[str]]:
    outcome, effects = None, []
    for event in events:
        step = transition(state, event)
        state, effects = step.target, effects + list(step.effects)
        outcome = step.outcome or outcome
    return state, outcome, effects


@pytest.mark.parametrize(
    ("events", "outcome", "effects"),
    [
        (["ringing", "no_answer"], "no_answer", []),
        (["ringing", "busy"], "busy", []),
        (["failed"], "failed", []),
        (["ringing", "machine"], "machine", [calls.DROP]),
        (["ringing", "fax"], "failed", [calls.DROP]),
        (["ringing", "hangup"], "no_answer", []),
        (
            ["ringing", "human", "agent", "bridged", "hangup"],
            "completed",
            [calls.ROUTE, calls.BRIDGE, calls.WRAP],
        ),
        (
            ["ringing", "human", "deadline", "played"],
            "abandoned",
            [calls.ROUTE, calls.SAFE_HARBOR, calls.DROP],
        ),
        (["human", "deadline", "hangup"], "abandoned", [calls.ROUTE, calls.SAFE_HARBOR]),
        (["human", "hangup"], "human", [calls.ROUTE]),
        (
            ["human", "agent", "agent_lost", "deadline", "played"],
            "abandoned",
            [calls.ROUTE, calls.BRIDGE, calls.REQUEUE, calls.SAFE_HARBOR, calls.DROP],
        ),
        (
            ["human", "agent", "hangup"],
            "human",
            [calls.ROUTE, calls.BRIDGE, calls.RELEASE_AGENT],
        ),
        (["human", "play", "played"], "completed", [calls.ROUTE, calls.MESSAGE, calls.DROP]),
        (["human", "play", "hangup"], "human", [calls.ROUTE, calls.MESSAGE]),
        (["ringing", "timeout"], "unknown", [calls.DROP]),
    ],
)
def test_paths_to_each_outcome(events: list[str], outcome: str, effects: list[str]) -> None:
    state, got, done = _walk("dialing", events)
    assert state == "ended"
    assert got == outcome
    assert done == effects


def test_a_deadline_during_the_bridge_does_not_abandon_the_call() -> None:
    step = transition("connecting", "deadline")
    assert step.target == "connecting" and not step.effects


def test_every_outcome_is_reachable_from_a_dial() -> None:
    reached: set[str] = set()
    frontier, seen = ["dialing"], {"dialing"}
    while frontier:
        state = frontier.pop()
        for event in calls.TABLE.get(state, {}):
            step = transition(state, event)
            if step.outcome:
                reached.add(step.outcome)
            if step.target not in seen:
                seen.add(step.target)
                frontier.append(step.target)
    assert reached == set(OUTCOMES)
    assert seen == set(STATES)
