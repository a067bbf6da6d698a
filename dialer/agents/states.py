"""Agent state machine: ``offline → available ⇄ on_call → wrap_up → available``, ``paused``.

Pure: ``plan(action, state, pending)`` says where an action takes an agent, or raises
``AgentStateError`` when it does not apply. People drive ``login``, ``ready``, ``pause``
and ``logout``; the engine drives ``reserve`` (a call or preview is given to the agent),
``release`` (the reserved call never reached them), ``hangup`` (the call ended: wrap-up)
and ``finish`` (the disposition is in).

A pause or logout asked for while the agent is on a call or wrapping up does not cut the
call: it is remembered as *pending* and applied when the agent would become available.
``ready`` during a call cancels a pending pause.

A pause or logout asked for while *available* is *held* (``hold=True``, decided by
``dialer.agents.holds`` from the calls ringing for the agent's campaigns): the agent stays
available with the action pending, takes a call that connects meanwhile (``reserve`` keeps
the pending action: it applies after that call), and ``settle`` (the engine, once those
calls are gone or the hold's deadline passed) applies it. ``ready`` cancels a held pause.
"""

from __future__ import annotations

from dataclasses import dataclass

STATES = ("offline", "available", "on_call", "wrap_up", "paused")
PEOPLE_ACTIONS = ("login", "ready", "pause", "logout")
ENGINE_ACTIONS = ("reserve", "release", "hangup", "finish", "settle")
ACTIONS = PEOPLE_ACTIONS + ENGINE_ACTIONS
PENDING = ("pause", "logout")
BUSY = frozenset({"on_call", "wrap_up"})
LOGGED_IN = frozenset({"available", "on_call", "wrap_up", "paused"})


class AgentStateError(ValueError):
    """The action does not apply to an agent in this state."""


@dataclass(frozen=True)
class AgentStep:
    """The result of an action: the new state, its reason, and what stays pending."""

    action: str
    source: str
    target: str
    reason: str | None = None
    pending: str | None = None
    pending_reason: str | None = None

    @property
    def changes_state(self) -> bool:
        return self.source != self.target


def _after_call(
    action: str, source: str, pending: str | None, pending_reason: str | None
) -> AgentStep:
    """Where an agent goes when a call (or wrap-up) is over: available, or what was pending."""
    if pending == "pause":
        return AgentStep(action, source, "paused", pending_reason or "pause")
    if pending == "logout":
        return AgentStep(action, source, "offline", pending_reason)
    return AgentStep(action, source, "available")


def plan(
    action: str,
    state: str,
    pending: str | None = None,
    *,
    reason: str | None = None,
    pending_reason: str | None = None,
    hold: bool = False,
) -> AgentStep:
    """The step ``action`` takes from ``state`` (with ``pending`` remembered); raise if none.

    ``hold``: a ``pause``/``logout`` asked while available waits as pending (calls are
    ringing that count on this agent); ignored in every other state."""
    if state not in STATES:
        raise AgentStateError(f"unknown agent state {state!r}")
    if action not in ACTIONS:
        raise AgentStateError(f"unknown agent action {action!r}")
    if pending is not None and pending not in PENDING:
        raise AgentStateError(f"unknown pending action {pending!r}")
    busy = state in BUSY
    if not busy and state != "available":  # only a call (or a hold) keeps one pending
        pending = pending_reason = None
    held = hold and state == "available"
    keep = AgentStep(action, state, state, None, pending, pending_reason)

    if action == "login":
        return AgentStep(action, state, "available") if state == "offline" else keep
    if state == "offline" and action in ("ready", "pause"):
        raise AgentStateError("the agent is offline: log in first")
    if action == "ready":
        if busy:
            return AgentStep(action, state, state)  # a pending pause is cancelled
        return AgentStep(action, state, "available")  # (a held one too)
    if action == "pause":
        why = reason or "pause"
        if busy or held:
            return AgentStep(action, state, state, None, "pause", why)
        return AgentStep(action, state, "paused", why)
    if action == "logout":
        if busy or held:
            return AgentStep(action, state, state, None, "logout", reason)
        return AgentStep(action, state, "offline", reason)
    return _engine(action, state, pending, pending_reason)


def _engine(action: str, state: str, pending: str | None, pending_reason: str | None) -> AgentStep:
    if action == "settle":  # a held pause or logout applies (nothing else moves)
        if state == "available" and pending is not None:
            return _after_call(action, state, pending, pending_reason)
        return AgentStep(action, state, state, None, pending, pending_reason)
    if action == "reserve":
        if state != "available":
            raise AgentStateError(f"cannot give a call to an agent who is {state}")
        return AgentStep(action, state, "on_call", None, pending, pending_reason)
    if action == "hangup":
        if state != "on_call":
            raise AgentStateError(f"an agent who is {state} has no call to end")
        return AgentStep(action, state, "wrap_up", None, pending, pending_reason)
    if action == "release":
        if state != "on_call":
            raise AgentStateError(f"an agent who is {state} holds no call")
        return _after_call(action, state, pending, pending_reason)
    # finish
    if state != "wrap_up":
        raise AgentStateError(f"an agent who is {state} is not wrapping up")
    return _after_call(action, state, pending, pending_reason)
