"""Campaign state machine: which actions apply in which states.

``draft → running ⇄ paused``, ``stop`` from anything not yet stopped, ``complete`` when
the leads run out or ``ends_at`` passes. Neither stopped nor completed is final: a person
may start the campaign again (a new list arrived); the scheduler never does (it expects
draft or paused, see ``timetable``). Repeating an action in its target state is a no-op.
README.md's state diagram draws this table; keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass

ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "start": (frozenset({"draft", "paused", "stopped", "completed"}), "running"),
    "pause": (frozenset({"running"}), "paused"),
    "stop": (frozenset({"draft", "running", "paused", "completed"}), "stopped"),
    "complete": (frozenset({"running", "paused"}), "completed"),
}


@dataclass(frozen=True)
class Transition:
    action: str
    source: str
    target: str

    @property
    def changes(self) -> bool:
        return self.source != self.target


class TransitionError(ValueError):
    """The action does not apply in the campaign's current state."""


def plan(action: str, state: str) -> Transition:
    """The transition ``action`` makes from ``state``; raise if it does not apply."""
    if action not in ACTIONS:
        raise TransitionError(f"unknown action {action!r}")
    sources, target = ACTIONS[action]
    if state == target:
        return Transition(action, state, target)
    if state not in sources:
        raise TransitionError(f"cannot {action} a campaign that is {state}")
    return Transition(action, state, target)
