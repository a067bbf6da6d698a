"""The agent state machine, exhaustively: every action from every state and pending action."""

from __future__ import annotations

import itertools

import pytest

from dialer.agents.states import (
    ACTIONS,
    BUSY,
    PENDING,
    STATES,
    AgentStateError,
    plan,
)

# The whole table: (action, state) → target, for an agent with nothing pending.
EXPECTED: dict[tuple[str, str], str | None] = {
    ("login", "offline"): "available",
    ("login", "available"): "available",
    ("login", "on_call"): "on_call",
    ("login", "wrap_up"): "wrap_up",
    ("login", "paused"): "paused",
    ("ready", "offline"): None,
    ("ready", "available"): "available",
    ("ready", "on_call"): "on_call",
    ("ready", "wrap_up"): "wrap_up",
    ("ready", "paused"): "available",
    ("pause", "offline"): None,
    ("pause", "available"): "paused",
    ("pause", "on_call"): "on_call",
    ("pause", "wrap_up"): "wrap_up",
    ("pause", "paused"): "paused",
    ("logout", "offline"): "offline",
    ("logout", "available"): "offline",
    ("logout", "on_call"): "on_call",
    ("logout", "wrap_up"): "wrap_up",
    ("logout", "paused"): "offline",
    ("reserve", "available"): "on_call",
    ("hangup", "on_call"): "wrap_up",
    ("release", "on_call"): "available",
    ("finish", "wrap_up"): "available",
    # settle applies a held pause; with nothing held it moves nobody
    ("settle", "offline"): "offline",
    ("settle", "available"): "available",
    ("settle", "on_call"): "on_call",
    ("settle", "wrap_up"): "wrap_up",
    ("settle", "paused"): "paused",
}


@pytest.mark.parametrize(("action", "state"), list(itertools.product(ACTIONS, STATES)))
def test_every_action_from_every_state(action: str, state: str) -> None:
    expected = EXPECTED.get((action, state))
    if expected is None:
        with pytest.raises(AgentStateError):
            plan(action, state)
        return
    step = plan(action, state)
    assert step.target == expected
    assert step.source == state


@pytest.mark.parametrize(
    ("action", "state", "pending", "hold"),
    list(itertools.product(ACTIONS, STATES, (None, *PENDING), (False, True))),
)
def test_no_action_ever_leaves_an_unknown_state_or_pending(
    action: str, state: str, pending: str | None, hold: bool
) -> None:
    try:
        step = plan(action, state, pending, reason="r", pending_reason="pr", hold=hold)
    except AgentStateError:
        return
    assert step.target in STATES
    assert step.pending in (None, *PENDING)
    # Only a busy agent, or a free one holding a pause, carries a pending action.
    if step.pending is not None:
        assert step.target in BUSY or step.target == "available"
    if step.pending is not None and step.target == "available":
        assert state == "available" and (hold or pending is not None)


# A held pause (asked while available, calls ringing for the agent): every step from it.
HELD: list[tuple[str, str | None, str, str | None, str | None]] = [
    # (action, pending before, target, pending after, reason of the target state)
    ("pause", None, "available", "pause", None),
    ("logout", None, "available", "logout", None),
    ("ready", "pause", "available", None, None),  # cancels the hold
    ("ready", "logout", "available", None, None),
    ("login", "pause", "available", "pause", None),  # nothing changes
    ("pause", "pause", "available", "pause", None),  # asked again: still held
    ("logout", "pause", "available", "logout", None),  # a logout replaces the pause
    ("reserve", "pause", "on_call", "pause", None),  # a call connects: pause after it
    ("settle", "pause", "paused", None, "lunch"),  # the calls are gone or time is up
    ("settle", "logout", "offline", None, "lunch"),
]


@pytest.mark.parametrize(("action", "pending", "target", "after", "why"), HELD)
def test_a_held_pause_step_by_step(
    action: str, pending: str | None, target: str, after: str | None, why: str | None
) -> None:
    step = plan(action, "available", pending, pending_reason="lunch", hold=True)
    assert (step.target, step.pending, step.reason) == (target, after, why)


def test_a_held_pause_applies_after_the_call_it_took() -> None:
    on_call = plan("reserve", "available", "pause", pending_reason="lunch")
    wrap = plan("hangup", "on_call", on_call.pending, pending_reason=on_call.pending_reason)
    done = plan("finish", "wrap_up", wrap.pending, pending_reason=wrap.pending_reason)
    assert (done.target, done.reason, done.pending) == ("paused", "lunch", None)


@pytest.mark.parametrize("state", ["offline", "on_call", "wrap_up", "paused"])
def test_hold_only_applies_to_a_free_agent(state: str) -> None:
    try:
        step = plan("pause", state, hold=True)
    except AgentStateError:
        return
    assert step == plan("pause", state)


def test_without_a_hold_a_free_agent_pauses_at_once() -> None:
    step = plan("pause", "available", reason="lunch")
    assert (step.target, step.pending) == ("paused", None)


@pytest.mark.parametrize("busy", sorted(BUSY))
def test_a_pause_during_a_call_waits_for_the_call_to_end(busy: str) -> None:
    step = plan("pause", busy, reason="lunch")
    assert step.target == busy and step.pending == "pause" and step.pending_reason == "lunch"
    if busy == "on_call":
        step = plan("hangup", "on_call", step.pending, pending_reason=step.pending_reason)
        assert step.target == "wrap_up" and step.pending == "pause"
    done = plan("finish", "wrap_up", "pause", pending_reason="lunch")
    assert done.target == "paused" and done.reason == "lunch" and done.pending is None


def test_a_logout_during_a_call_logs_out_when_it_ends() -> None:
    step = plan("logout", "on_call")
    assert step.pending == "logout"
    assert plan("release", "on_call", "logout").target == "offline"
    assert plan("finish", "wrap_up", "logout").target == "offline"


def test_ready_during_a_call_cancels_a_pending_pause() -> None:
    step = plan("ready", "wrap_up", "pause", pending_reason="break")
    assert step.target == "wrap_up" and step.pending is None
    assert plan("finish", "wrap_up", step.pending).target == "available"


def test_pause_reason_is_kept_and_defaults() -> None:
    assert plan("pause", "available", reason="training").reason == "training"
    assert plan("pause", "available").reason == "pause"


def test_engine_actions_refuse_agents_in_the_wrong_state() -> None:
    for action, state in [("reserve", "paused"), ("hangup", "wrap_up"), ("finish", "on_call")]:
        with pytest.raises(AgentStateError):
            plan(action, state)


def test_unknown_inputs_are_refused() -> None:
    with pytest.raises(AgentStateError):
        plan("dance", "available")
    with pytest.raises(AgentStateError):
        plan("login", "asleep")
    with pytest.raises(AgentStateError):
        plan("finish", "wrap_up", "vanish")
