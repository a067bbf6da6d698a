"""The pacing contract: events a pacer observes, the state it is shown, what it returns.

The engine (real monotonic seconds) and the simulator (virtual seconds) feed pacers the
same events and states, so a pacer tuned in the simulator runs unchanged in production.
Pacers are pure: they keep only their own estimates, do no I/O and read no clock; time
arrives in ``event.t`` and ``state.t``.

Event order for one dial: ``Dialed`` → exactly one of ``AnsweredHuman``,
``AnsweredMachine`` (sent when AMD gives its verdict), ``Unanswered``; a human is then
either ``Connected`` or ``Abandoned``; a connected call later yields ``CallEnded`` and its
agent ``WrapEnded``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol, runtime_checkable

UnansweredOutcome = Literal["no_answer", "busy", "failed"]


@dataclass(frozen=True, slots=True)
class Dialed:
    """A call was launched (it is now in flight)."""

    kind: ClassVar[str] = "dialed"
    t: float


@dataclass(frozen=True, slots=True)
class AnsweredHuman:
    """A person answered ``ring_s`` after the dial; they need an agent now."""

    kind: ClassVar[str] = "answered_human"
    t: float
    ring_s: float


@dataclass(frozen=True, slots=True)
class AnsweredMachine:
    """AMD recognised a machine; it answered ``ring_s`` after the dial, AMD took ``amd_s``.

    Sent at the verdict, when the call stops being in flight. Pacers only use the sum, so
    an engine that cannot split the two may pass the whole time as ``ring_s``.
    """

    kind: ClassVar[str] = "answered_machine"
    t: float
    ring_s: float
    amd_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Unanswered:
    """The call ended without an answer ``ring_s`` after the dial."""

    kind: ClassVar[str] = "unanswered"
    t: float
    outcome: UnansweredOutcome
    ring_s: float


@dataclass(frozen=True, slots=True)
class Connected:
    """A waiting human was bridged to an agent after waiting ``wait_s``."""

    kind: ClassVar[str] = "connected"
    t: float
    wait_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Abandoned:
    """A human was dropped (no agent within the limit, or they hung up) after ``wait_s``."""

    kind: ClassVar[str] = "abandoned"
    t: float
    wait_s: float


@dataclass(frozen=True, slots=True)
class CallEnded:
    """A connected call ended after ``talk_s`` of talk; its agent enters wrap-up."""

    kind: ClassVar[str] = "call_ended"
    t: float
    talk_s: float


@dataclass(frozen=True, slots=True)
class WrapEnded:
    """An agent finished ``wrap_s`` of wrap-up and is available again."""

    kind: ClassVar[str] = "wrap_ended"
    t: float
    wrap_s: float


PacingEvent = (
    Dialed
    | AnsweredHuman
    | AnsweredMachine
    | Unanswered
    | Connected
    | Abandoned
    | CallEnded
    | WrapEnded
)


@dataclass(frozen=True, slots=True)
class PacingState:
    """What the dialer looks like right now, as counted by the engine (or simulator).

    ``calls_in_flight`` are dialled and not yet resolved (ringing, or answered and
    waiting for the AMD verdict); ``calls_waiting`` are humans waiting for an agent.
    ``window_human_answers`` / ``window_abandoned`` cover the legal measurement window
    (loaded from the database, so the abandon budget survives restarts).
    ``busy_agent_elapsed_s`` / ``wrap_agent_elapsed_s`` are optional: seconds each on-call
    agent has been talking / each wrap-up agent has been wrapping. When empty, pacers
    that need them reconstruct them from events.
    ``shared_calls_in_flight``: calls (ringing, or answered and not yet given an agent) of
    *other* campaigns whose agents overlap with these, that may take an agent counted
    here as available or freeing up; without it two campaigns sharing a pool both count
    the same free agents. Humans waiting for an agent are in ``calls_waiting`` whichever
    campaign they belong to.
    ``agents_pausing``: agents on a call or in wrap-up who asked to pause or log out when
    they finish (a *pending pause*): the next that many agents to free up will not take a
    call, so a pacer must not dial for them.
    ``shift_left_s``: seconds until dialling stops for this campaign (the nearest of its
    end, its calling window's close and the shift's end), ``None`` when unknown. A pacer
    may spend the abandon budget the rest of the shift will not need.
    """

    t: float
    agents_logged_in: int
    agents_available: int
    agents_on_call: int
    agents_wrap_up: int
    calls_in_flight: int
    calls_waiting: int = 0
    max_lines: int | None = None
    window_human_answers: int = 0
    window_abandoned: int = 0
    busy_agent_elapsed_s: tuple[float, ...] = ()
    wrap_agent_elapsed_s: tuple[float, ...] = ()
    shared_calls_in_flight: int = 0
    agents_held_inbound: int = 0  # blended free agents kept for inbound calls (not counted
    # in ``agents_available``: the engine already left them out)
    agents_pausing: int = 0
    shift_left_s: float | None = None


@runtime_checkable
class Pacer(Protocol):
    """Decides how many calls to launch now. Pure: no I/O, no clock of its own."""

    def observe(self, event: PacingEvent) -> None:
        """Learn from one event (called for every event, in time order)."""
        ...

    def calls_to_launch(self, state: PacingState) -> int:
        """Calls to launch now: never negative, never past the line cap."""
        ...


def line_cap(state: PacingState, max_lines: int | None) -> int | None:
    """The tighter of the state's and the pacer's line caps (``None``: no cap)."""
    caps = [c for c in (state.max_lines, max_lines) if c is not None]
    return min(caps) if caps else None


def clamp_launch(wanted: int, state: PacingState, max_lines: int | None) -> int:
    """``wanted`` clipped to ``[0, cap - calls_in_flight]``: the contract every pacer keeps."""
    n = max(0, int(wanted))
    cap = line_cap(state, max_lines)
    if cap is not None:
        n = min(n, max(0, cap - state.calls_in_flight))
    return n
