"""The agents of a simulated floor: who is free, talking, wrapping up, paused or gone.

Agents are counted, not named: a pacer only ever sees counts, and an agent who frees up
is whichever one does first. Real floors are not ideal, so agents may take breaks and
leave early (``Breaks``): a break that falls due while nobody is free starts as soon as
the next agent frees up (people do not walk out of a call). A free agent goes at once,
unless every free agent is spoken for by calls ringing: then the break is **held** (the
engine's held pause, ``Breaks.hold_s``) until a ringing call lets an agent go, the agent
takes a call (and goes after it), or the hold runs out — whichever is first.

Each agent slot has its own pre-drawn sequence of gaps and pause lengths (from the floor's
own random stream), so every pacer meets the same breaks, like the same callees.
Time spent in each state inside the shift is accumulated, so tests can check that it
adds up to agents x shift.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass

STATES = ("free", "on_call", "wrap", "paused", "offline")


@dataclass(frozen=True, slots=True)
class Breaks:
    """Agents pause ``pause_s`` (uniform) every ``every_s`` (uniform) of work; a share
    ``p_leave_early`` logs out for good at a uniform time in ``[leave_from, 1)`` of the shift.

    ``hold_s``: how long a break or log-out asked by a free agent who is spoken for by
    ringing calls is held (the engine holds it at most a ring timeout); 0 = at once."""

    every_s: tuple[float, float] = (3600.0, 7200.0)
    pause_s: tuple[float, float] = (300.0, 900.0)
    p_leave_early: float = 0.0
    leave_from: float = 0.5
    hold_s: float = 30.0

    def __post_init__(self) -> None:
        lo, hi = self.every_s
        plo, phi = self.pause_s
        if not (0 < lo <= hi and 0 <= plo <= phi):
            raise ValueError("breaks need 0 < every_s[0] <= every_s[1], 0 <= pause_s[0] <= [1]")
        if not (0.0 <= self.p_leave_early <= 1.0 and 0.0 <= self.leave_from <= 1.0):
            raise ValueError("p_leave_early and leave_from must be within [0, 1]")
        if self.hold_s < 0:
            raise ValueError("hold_s must be >= 0")


class AgentFloor:
    """Counts of agents by state, pending breaks/log-outs and time accounting."""

    def __init__(self, agents: int, duration_s: float) -> None:
        self.agents = agents
        self.duration_s = duration_s
        self.count = dict.fromkeys(STATES, 0)
        self.count["free"] = agents
        self.time = dict.fromkeys(STATES, 0.0)
        self._last = 0.0
        # (kind, slot) waiting for the next agent to free up: "break" or "leave"
        self.pending: deque[tuple[str, int]] = deque()
        # (kind, slot) of free agents whose break or log-out is held (see the module doc)
        self.holding: deque[tuple[str, int]] = deque()
        self.slot_state = ["active"] * agents  # active | break | gone
        self.gaps: list[list[tuple[float, float]]] = [[] for _ in range(agents)]

    # -- time accounting -----------------------------------------------------------
    def advance(self, t: float) -> None:
        """Accumulate time in each state up to ``t`` (clipped to the shift)."""
        end = min(t, self.duration_s)
        dt = end - self._last
        if dt > 0:
            for state, n in self.count.items():
                if n:
                    self.time[state] += n * dt
            self._last = end

    @property
    def logged_in(self) -> int:
        return self.agents - self.count["offline"]

    def staffed_time(self) -> float:
        """Agent-seconds logged in and not paused inside the shift."""
        return self.time["free"] + self.time["on_call"] + self.time["wrap"]

    def move(self, src: str, dst: str) -> None:
        self.count[src] -= 1
        self.count[dst] += 1

    # -- breaks --------------------------------------------------------------------
    def plan(self, breaks: Breaks, rng: random.Random) -> list[tuple[float, str, int]]:
        """Pre-draw every slot's breaks; returns the first events (time, kind, slot)."""
        first: list[tuple[float, str, int]] = []
        n_pairs = int(self.duration_s / breaks.every_s[0]) + 2
        for slot in range(self.agents):
            self.gaps[slot] = [
                (rng.uniform(*breaks.every_s), rng.uniform(*breaks.pause_s)) for _ in range(n_pairs)
            ]
            leaves = rng.random() < breaks.p_leave_early
            at = self.duration_s * rng.uniform(breaks.leave_from, 1.0)
            gap = self.gaps[slot].pop(0)[0]
            first.append((gap, "break", slot))
            if leaves:
                first.append((at, "leave", slot))
        return first

    def free_unclaimed(self) -> int:
        """Free agents with no break or log-out held."""
        return self.count["free"] - len(self.holding)

    def break_due(self, slot: int, *, hold: bool = False) -> float | None:
        """A slot's break falls due: returns its length if a free agent pauses now.

        ``hold``: every free agent is spoken for, so a free agent's break is held
        (``holding``; the caller schedules ``hold_over``) instead of starting."""
        if self.slot_state[slot] != "active":
            return None
        if self.free_unclaimed() > 0:
            if not hold:
                return self._start_break(slot)
            self.holding.append(("break", slot))
            return None
        self.pending.append(("break", slot))
        return None

    def _start_break(self, slot: int) -> float:
        self.move("free", "paused")
        self.slot_state[slot] = "break"
        gaps = self.gaps[slot]
        return gaps[0][1] if gaps else 0.0

    def break_over(self, slot: int) -> float | None:
        """A pause ends: the agent is free again; returns the gap to the slot's next break."""
        if self.slot_state[slot] != "break":
            return None  # left while paused
        self.move("paused", "free")
        self.slot_state[slot] = "active"
        gaps = self.gaps[slot]
        return gaps.pop(0)[0] if len(gaps) > 1 else None

    def leave(self, slot: int, *, hold: bool = False) -> None:
        """A slot logs out for good: at once if paused or someone is free (held if ``hold``,
        as for a break), else when freed."""
        state = self.slot_state[slot]
        self.slot_state[slot] = "gone"
        if state == "break":
            self.move("paused", "offline")
        elif self.free_unclaimed() > 0:
            if hold:
                self.holding.append(("leave", slot))
            else:
                self.move("free", "offline")
        else:
            self.pending.append(("leave", slot))

    def release(self, entry: tuple[str, int] | None = None) -> tuple[str, int, float] | None:
        """A held break or log-out starts (``entry``, else the oldest held): returns
        ``(kind, slot, pause_s)`` like ``claim_freed``, ``None`` if nothing was held
        (or the slot left meanwhile: its log-out already took a free agent)."""
        if entry is None:
            if not self.holding:
                return None
            entry = self.holding.popleft()
        elif entry in self.holding:
            self.holding.remove(entry)
        else:
            return None
        kind, slot = entry
        if kind == "leave":
            self.move("free", "offline")
            return ("leave", slot, 0.0)
        if self.slot_state[slot] != "active":
            return None
        return ("break", slot, self._start_break(slot))

    def took_call(self) -> None:
        """A free agent took a call: if only holders were free, one of them took it and
        goes after the call instead (a pending break or log-out)."""
        if self.count["free"] < len(self.holding):
            self.pending.append(self.holding.pop())

    def pausing(self) -> int:
        """Agents busy now who will pause or log out when they free up (pending pauses)."""
        return sum(
            1 for kind, slot in self.pending if kind == "leave" or self.slot_state[slot] == "active"
        )

    def claim_freed(self) -> tuple[str, int, float] | None:
        """An agent just became free: a pending log-out or break takes them first.

        Returns ``None`` if they stay free, ``("leave", slot, 0)`` if they logged out, or
        ``("break", slot, pause_s)`` if a break starts (the caller schedules its end).
        """
        while self.pending:
            kind, slot = self.pending.popleft()
            if kind == "leave":
                self.move("free", "offline")
                return ("leave", slot, 0.0)
            if self.slot_state[slot] == "active":
                return ("break", slot, self._start_break(slot))
        return None
