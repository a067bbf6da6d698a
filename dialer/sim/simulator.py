"""Discrete-event call-centre simulator in virtual time.

Runs one campaign shift: identical agents, a callee population (``CalleeModel``) and a
pacer. The pacer sees exactly what the engine would show it: every event, and a
``PacingState`` on every event and on a 1-second tick; whatever it returns is dialled at
once. No sleeping: events come off a heap, so 8 hours of 100 agents take seconds.

Rules reproduced from the engine: a human answered while no agent is free waits; if no
agent frees up within ``max_wait_s`` (2 s, the legal limit) the call is abandoned. A
human who hangs up sooner (finite ``patience_s``) is counted as ``hung_up``, not as an
abandon, as the engine records it; the pacer sees an ``Abandoned`` event either way.
Dialling stops at ``duration_s``; calls already placed run to their end, so every dial
has exactly one outcome. Occupancy counts talk time inside the shift.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from dialer.pacing.base import (
    Abandoned,
    AnsweredHuman,
    AnsweredMachine,
    CallEnded,
    Connected,
    Dialed,
    Pacer,
    PacingState,
    Unanswered,
    WrapEnded,
)
from dialer.sim.model import CalleeModel, CallOutcome

# Event kinds, ordered so that at equal times an agent freeing up is seen before a
# waiting human's deadline.
_WRAP_END, _TALK_END, _RESOLVE, _DEADLINE, _TICK = range(5)


@dataclass(frozen=True, slots=True)
class SimParams:
    """One simulated shift. Defaults are the reference scenario of the pacing benchmark."""

    agents: int = 20
    callee: CalleeModel = field(default_factory=CalleeModel)
    wrap_s: float = 10.0
    duration_s: float = 8 * 3600.0
    seed: int = 1
    max_wait_s: float = 2.0
    max_lines: int | None = None
    tick_s: float = 1.0

    def __post_init__(self) -> None:
        if self.agents < 1:
            raise ValueError("a simulation needs at least one agent")
        if self.wrap_s < 0 or self.duration_s <= 0 or self.max_wait_s < 0 or self.tick_s <= 0:
            raise ValueError("wrap_s, max_wait_s >= 0 and duration_s, tick_s > 0 required")
        if self.max_lines is not None and self.max_lines < 1:
            raise ValueError("max_lines must be at least 1")


@dataclass(frozen=True, slots=True)
class SimResult:
    """Outcome counts and the two figures that matter: occupancy and abandon rate.

    Every dial ends in one of ``human_answers`` (then ``connected``, ``abandoned`` or
    ``hung_up`` while waiting), ``machine_answers``, ``busy``, ``failed``, ``no_answer``.
    """

    agents: int
    duration_s: float
    seed: int
    dials: int
    human_answers: int
    machine_answers: int
    busy: int
    failed: int
    no_answer: int
    connected: int
    abandoned: int
    hung_up: int
    occupancy: float
    abandon_rate: float
    mean_wait_s: float
    talk_time_s: float
    max_in_flight: int
    max_waiting: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary of every field."""
        return asdict(self)


class _Shift:
    """Mutable state of one run; kept apart from ``run_simulation`` for readability."""

    def __init__(self, params: SimParams, pacer: Pacer) -> None:
        self.p = params
        self.callee = params.callee
        self.pacer = pacer
        self.rng = random.Random(params.seed)
        self.heap: list[tuple[float, int, int, int, float]] = []
        self.seq = 0
        self.free = params.agents
        self.on_call = 0
        self.wrap = 0
        self.in_flight = 0
        self.queue: deque[int] = deque()
        # call id -> (answered at, talk time, True if the caller hangs up before the limit)
        self.waiting: dict[int, tuple[float, float, bool]] = {}
        self.talk_of: dict[int, float] = {}  # call id -> talk time, for humans in flight
        self.dial_time: dict[int, float] = {}  # call id -> when it was dialled
        self.dials = 0
        self.counts = dict.fromkeys(CallOutcome, 0)
        self.connected = 0
        self.abandoned = 0
        self.hung_up = 0
        self.wait_sum = 0.0
        self.talk_sum = 0.0
        self.max_in_flight = 0
        self.max_waiting = 0

    def push(self, t: float, kind: int, call: int = 0, x: float = 0.0) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, kind, self.seq, call, x))

    def state(self, t: float) -> PacingState:
        return PacingState(
            t,
            self.p.agents,
            self.free,
            self.on_call,
            self.wrap,
            self.in_flight,
            len(self.waiting),
            self.p.max_lines,
            self.counts[CallOutcome.HUMAN],
            self.abandoned,
        )

    def launch(self, t: float, n: int) -> None:
        observe = self.pacer.observe
        for _ in range(n):
            script = self.callee.sample(self.rng, t)
            self.seq += 1
            call = self.seq
            self.in_flight += 1
            observe(Dialed(t))
            outcome = script.outcome
            # the last heap field says what resolves: a human's patience (>= 0), a
            # machine (-1) or an unanswered outcome (-2 - its index in _UNANSWERED)
            if outcome is CallOutcome.HUMAN:
                self.talk_of[call] = script.talk_s
                self.push(t + script.resolve_s, _RESOLVE, call, script.patience_s)
            elif outcome is CallOutcome.MACHINE:
                self.push(t + script.resolve_s + script.amd_s, _RESOLVE, call, -1.0)
            else:
                self.push(t + script.resolve_s, _RESOLVE, call, -2.0 - _UNANSWERED.index(outcome))
            self.dial_time[call] = t
        self.dials += n
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def resolve(self, t: float, call: int, tag: float) -> None:
        self.in_flight -= 1
        dialled = self.dial_time.pop(call)
        if tag >= 0.0:
            self.answer_human(t, call, t - dialled, tag)
        elif tag == -1.0:
            self.counts[CallOutcome.MACHINE] += 1
            amd = self.callee.amd_s
            self.pacer.observe(AnsweredMachine(t, t - dialled - amd, amd))
        else:
            outcome = _UNANSWERED[int(-tag - 2.0)]
            self.counts[outcome] += 1
            self.pacer.observe(Unanswered(t, outcome.value, t - dialled))  # type: ignore[arg-type]

    def answer_human(self, t: float, call: int, ring: float, patience: float) -> None:
        self.counts[CallOutcome.HUMAN] += 1
        talk = self.talk_of.pop(call)
        self.pacer.observe(AnsweredHuman(t, ring))
        if self.free > 0:
            self.free -= 1
            self.connect(t, talk, 0.0)
            return
        impatient = patience < self.p.max_wait_s
        self.waiting[call] = (t, talk, impatient)
        self.queue.append(call)
        self.max_waiting = max(self.max_waiting, len(self.waiting))
        self.push(t + min(self.p.max_wait_s, patience), _DEADLINE, call)

    def connect(self, t: float, talk: float, wait: float) -> None:
        self.connected += 1
        self.wait_sum += wait
        self.on_call += 1
        self.pacer.observe(Connected(t, wait))
        end = t + talk
        self.talk_sum += max(0.0, min(end, self.p.duration_s) - t)
        self.push(end, _TALK_END, 0, talk)

    def deadline(self, t: float, call: int) -> None:
        entry = self.waiting.pop(call, None)
        if entry is not None:
            if entry[2]:
                self.hung_up += 1
            else:
                self.abandoned += 1
            self.pacer.observe(Abandoned(t, t - entry[0]))

    def talk_end(self, t: float, talk: float) -> None:
        self.on_call -= 1
        self.wrap += 1
        self.pacer.observe(CallEnded(t, talk))
        self.push(t + self.p.wrap_s, _WRAP_END, 0, self.p.wrap_s)

    def wrap_end(self, t: float, wrap: float) -> None:
        self.wrap -= 1
        self.pacer.observe(WrapEnded(t, wrap))
        while self.queue:
            call = self.queue.popleft()
            entry = self.waiting.pop(call, None)
            if entry is not None:
                self.connect(t, entry[1], t - entry[0])
                return
        self.free += 1


_UNANSWERED = (CallOutcome.NO_ANSWER, CallOutcome.BUSY, CallOutcome.FAILED)


def run_simulation(params: SimParams, pacer: Pacer) -> SimResult:
    """Simulate one shift with ``pacer``; deterministic for ``params.seed``."""
    sim = _Shift(params, pacer)
    duration = params.duration_s
    ticks = math.ceil(duration / params.tick_s)
    tick = 0
    sim.push(0.0, _TICK)
    heap = sim.heap
    while heap:
        t, kind, _, call, x = heapq.heappop(heap)
        if kind == _TICK:
            tick += 1
            if tick < ticks:
                sim.push(tick * params.tick_s, _TICK)
        elif kind == _RESOLVE:
            sim.resolve(t, call, x)
        elif kind == _WRAP_END:
            sim.wrap_end(t, x)
        elif kind == _TALK_END:
            sim.talk_end(t, x)
        else:
            sim.deadline(t, call)
        if t < duration:
            n = pacer.calls_to_launch(sim.state(t))
            if n > 0:
                sim.launch(t, n)
    return _result(sim)


def _result(sim: _Shift) -> SimResult:
    p = sim.p
    humans = sim.counts[CallOutcome.HUMAN]
    return SimResult(
        agents=p.agents,
        duration_s=p.duration_s,
        seed=p.seed,
        dials=sim.dials,
        human_answers=humans,
        machine_answers=sim.counts[CallOutcome.MACHINE],
        busy=sim.counts[CallOutcome.BUSY],
        failed=sim.counts[CallOutcome.FAILED],
        no_answer=sim.counts[CallOutcome.NO_ANSWER],
        connected=sim.connected,
        abandoned=sim.abandoned,
        hung_up=sim.hung_up,
        occupancy=sim.talk_sum / (p.agents * p.duration_s),
        abandon_rate=sim.abandoned / humans if humans else 0.0,
        mean_wait_s=sim.wait_sum / sim.connected if sim.connected else 0.0,
        talk_time_s=sim.talk_sum,
        max_in_flight=sim.max_in_flight,
        max_waiting=sim.max_waiting,
    )
