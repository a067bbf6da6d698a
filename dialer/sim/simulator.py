"""Discrete-event call-centre simulator in virtual time.

Runs a shift: a floor of agents (``floor.AgentFloor``), one or more campaigns, each with
its callee population (``CalleeModel``) and its pacer. A pacer sees exactly what the
engine would show it: its events, and a ``PacingState`` on every event and on a 1-second
tick; whatever it returns is dialled at once. No sleeping: events come off a heap, so 8
hours of 100 agents take seconds.

Rules reproduced from the engine: a human answered while no agent is free waits; if no
agent frees up within ``max_wait_s`` (2 s, the legal limit) the call is abandoned. A
human who hangs up sooner (finite patience, or a quick hang-up) is counted as
``hung_up``, not as an abandon, as the engine records it; the pacer sees an ``Abandoned``
event either way. Dialling stops at ``duration_s``; calls already placed run to their
end, so every dial has exactly one outcome. Occupancy is talk time inside the shift over
the agent time logged in and not paused.

AMD errors: a human classed as a machine is hung up on (the pacer sees a machine;
counted in ``machine_answers`` and ``amd_humans_dropped``); a machine classed as a human
goes to an agent like one (counted in ``human_answers`` and ``amd_machines_to_agents``).

Several campaigns may share the floor (``run_floor``): agents take whoever waits longest,
each campaign has its own counts and abandon budget. A call dialled while free agents
are not yet spoken for **holds** one for its campaign until it resolves (a human then takes
it; anything else releases it), so one campaign's human cannot take the agent another
campaign dialled for; a pacer is shown its held agents plus the unheld free ones, the
agents talking or wrapping up on its own calls (and their events: an agent is counted
by one campaign only, so two pacers do not both count on the same agent freeing up), and
its own calls. Campaigns decide in turn. When
humans of several campaigns wait, a freed agent takes one of the campaign with the least
abandon slack (``max_abandon_rate x human answers - abandoned``), so one campaign's risk
is not paid from another's budget.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Sequence

from dialer.pacing.base import (
    Abandoned,
    AnsweredHuman,
    AnsweredMachine,
    CallEnded,
    Connected,
    Dialed,
    Pacer,
    PacingEvent,
    PacingState,
    Unanswered,
    WrapEnded,
)
from dialer.sim.floor import STATES, AgentFloor
from dialer.sim.model import CalleeModel, CallOutcome
from dialer.sim.params import SimParams, SimResult

# Event kinds, ordered so that at equal times an agent freeing up is seen before a
# waiting human's deadline.
_WRAP_END, _TALK_END, _RESOLVE, _DEADLINE, _FLOOR, _TICK = range(6)
_BREAK_DUE, _BREAK_OVER, _LEAVE, _HOLD_OVER_BREAK, _HOLD_OVER_LEAVE = 0.0, 1.0, 2.0, 3.0, 4.0
_UNANSWERED = (CallOutcome.NO_ANSWER, CallOutcome.BUSY, CallOutcome.FAILED)


class _Campaign:
    """One campaign's calls, counts and pacer."""

    def __init__(self, index: int, callee: CalleeModel, pacer: Pacer, seed: int) -> None:
        self.index = index
        self.callee = callee
        self.pacer = pacer
        self.rng = random.Random(seed if index == 0 else seed * 1_000_003 + index)
        self.in_flight = 0
        self.held = 0  # free agents held for this campaign's ringing calls
        self.on_call = self.wrap = 0  # agents busy with this campaign's calls
        self.waiting = 0
        self.talk_of: dict[int, float] = {}  # call id -> talk time, for calls bound to agents
        self.dial_time: dict[int, float] = {}
        self.dials = 0
        self.counts = dict.fromkeys(CallOutcome, 0)
        self.connected = self.abandoned = self.hung_up = 0
        self.amd_dropped = self.amd_passed = 0
        self.wait_sum = self.talk_sum = 0.0
        self.max_in_flight = self.max_waiting = 0
        self.rates: list[float] = []

    @property
    def humans(self) -> int:
        return self.counts[CallOutcome.HUMAN]

    def record_minute(self) -> None:
        self.rates.append(self.abandoned / self.humans if self.humans else 0.0)


class _Shift:
    """Mutable state of one run; kept apart from ``run_floor`` for readability."""

    def __init__(self, params: SimParams, campaigns: Sequence[tuple[CalleeModel, Pacer]]) -> None:
        self.p = params
        self.camps = [_Campaign(i, c, pc, params.seed) for i, (c, pc) in enumerate(campaigns)]
        self.floor = AgentFloor(params.agents, params.duration_s)
        self.heap: list[tuple[float, int, int, int, int, float]] = []
        self.seq = 0
        # (campaign, call) -> (answered at, talk time, True if the caller hangs up first)
        self.waiting: dict[tuple[int, int], tuple[float, float, bool]] = {}
        self.queue: deque[tuple[int, int]] = deque()
        self.hold_s = params.breaks.hold_s if params.breaks is not None else 0.0
        if params.breaks is not None:
            rng = random.Random(params.seed * 7_919 + 17)
            for t, kind, slot in self.floor.plan(params.breaks, rng):
                self.push(t, _FLOOR, 0, slot, _BREAK_DUE if kind == "break" else _LEAVE)

    def push(self, t: float, kind: int, camp: int = 0, call: int = 0, x: float = 0.0) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, kind, self.seq, camp, call, x))

    @staticmethod
    def agent_event(c: _Campaign, event: PacingEvent) -> None:
        """Agents busy with a campaign's call (talk, then wrap-up) are that campaign's."""
        c.pacer.observe(event)

    def unheld(self) -> int:
        """Free agents not held for any campaign's ringing calls."""
        return self.floor.count["free"] - sum(c.held for c in self.camps)

    def trim_holds(self) -> None:
        """A break or log-out took a held agent: the biggest holder loses a hold."""
        while self.unheld() < 0:
            max(self.camps, key=lambda c: c.held).held -= 1

    def state(self, t: float, c: _Campaign) -> PacingState:
        # free agents with a held break are neither free nor due (the engine's held pause)
        return PacingState(
            t,
            self.floor.logged_in,
            max(0, c.held + self.unheld() - len(self.floor.holding)),
            c.on_call,
            c.wrap,
            c.in_flight,
            len(self.waiting),
            self.p.max_lines,
            c.humans,
            c.abandoned,
            shared_calls_in_flight=sum(
                max(0, o.in_flight - o.held) for o in self.camps if o is not c
            ),
            agents_pausing=self.floor.pausing(),
            shift_left_s=max(0.0, self.p.duration_s - t),
        )

    def launch(self, t: float, c: _Campaign, n: int) -> None:
        c.held += min(n, max(0, self.unheld()))
        observe = c.pacer.observe
        for _ in range(n):
            script = c.callee.sample(c.rng, t)
            self.seq += 1
            call = self.seq
            c.in_flight += 1
            observe(Dialed(t))
            outcome = script.outcome
            # the last heap field says what resolves: a human's patience (>= 0), a
            # machine (-1) or an unanswered outcome (-2 - its index in _UNANSWERED)
            if outcome is CallOutcome.HUMAN and script.amd_wrong:
                c.amd_dropped += 1  # AMD hangs up on a person: looks like a machine
                self.push(t + script.resolve_s + script.amd_s, _RESOLVE, c.index, call, -1.0)
            elif outcome is CallOutcome.HUMAN or script.amd_wrong:
                c.amd_passed += outcome is CallOutcome.MACHINE
                c.talk_of[call] = script.talk_s
                self.push(t + script.resolve_s, _RESOLVE, c.index, call, script.patience_s)
            elif outcome is CallOutcome.MACHINE:
                self.push(t + script.resolve_s + script.amd_s, _RESOLVE, c.index, call, -1.0)
            else:
                tag = -2.0 - _UNANSWERED.index(outcome)
                self.push(t + script.resolve_s, _RESOLVE, c.index, call, tag)
            c.dial_time[call] = t
        c.dials += n
        c.max_in_flight = max(c.max_in_flight, c.in_flight)

    def resolve(self, t: float, c: _Campaign, call: int, tag: float) -> None:
        c.in_flight -= 1
        dialled = c.dial_time.pop(call)
        if tag < 0.0 and c.held > c.in_flight:
            c.held = c.in_flight  # a call that needs no agent releases its hold
        if tag >= 0.0:
            self.answer_human(t, c, call, t - dialled, tag)
        elif tag == -1.0:
            c.counts[CallOutcome.MACHINE] += 1
            amd = c.callee.amd_s
            c.pacer.observe(AnsweredMachine(t, t - dialled - amd, amd))
        else:
            outcome = _UNANSWERED[int(-tag - 2.0)]
            c.counts[outcome] += 1
            c.pacer.observe(Unanswered(t, outcome.value, t - dialled))  # type: ignore[arg-type]

    def answer_human(self, t: float, c: _Campaign, call: int, ring: float, patience: float) -> None:
        c.counts[CallOutcome.HUMAN] += 1
        talk = c.talk_of.pop(call)
        c.pacer.observe(AnsweredHuman(t, ring))
        if c.held > 0 or self.unheld() > 0:
            c.held -= c.held > 0
            self.floor.move("free", "on_call")
            self.floor.took_call()
            self.connect(t, c, talk, 0.0)
            return
        impatient = patience < self.p.max_wait_s
        self.waiting[(c.index, call)] = (t, talk, impatient)
        self.queue.append((c.index, call))
        c.waiting += 1
        c.max_waiting = max(c.max_waiting, c.waiting)
        self.push(t + min(self.p.max_wait_s, patience), _DEADLINE, c.index, call)

    def connect(self, t: float, c: _Campaign, talk: float, wait: float) -> None:
        c.connected += 1
        c.wait_sum += wait
        c.on_call += 1
        self.agent_event(c, Connected(t, wait))
        end = t + talk
        c.talk_sum += max(0.0, min(end, self.p.duration_s) - t)
        self.push(end, _TALK_END, c.index, 0, talk)

    def deadline(self, t: float, c: _Campaign, call: int) -> None:
        entry = self.waiting.pop((c.index, call), None)
        if entry is not None:
            c.waiting -= 1
            if entry[2]:
                c.hung_up += 1
            else:
                c.abandoned += 1
            c.pacer.observe(Abandoned(t, t - entry[0]))

    def talk_end(self, t: float, c: _Campaign, talk: float) -> None:
        self.floor.move("on_call", "wrap")
        c.on_call -= 1
        c.wrap += 1
        self.agent_event(c, CallEnded(t, talk))
        self.push(t + self.p.wrap_s, _WRAP_END, c.index, 0, self.p.wrap_s)

    def wrap_end(self, t: float, c: _Campaign, wrap: float) -> None:
        self.floor.move("wrap", "free")
        c.wrap -= 1
        self.agent_event(c, WrapEnded(t, wrap))
        self.agent_freed(t)

    def agent_freed(self, t: float) -> None:
        """A free agent takes a pending break or log-out, else the longest-waiting human."""
        claim = self.floor.claim_freed()
        if claim is not None:
            self.started(t, claim)
            return
        if len(self.camps) > 1 and len({camp for camp, _ in self.queue}) > 1:
            self._prefer_least_slack()
        while self.queue:
            camp, call = self.queue.popleft()
            entry = self.waiting.pop((camp, call), None)
            if entry is not None:
                c = self.camps[camp]
                c.waiting -= 1
                self.floor.move("free", "on_call")
                self.floor.took_call()
                self.connect(t, c, entry[1], t - entry[0])
                return

    def _prefer_least_slack(self) -> None:
        """Shared floor: the campaign closest to its abandon limit is served first."""
        limit = self.p.max_abandon_rate

        def slack(item: tuple[int, int]) -> float:
            c = self.camps[item[0]]
            return limit * c.humans - c.abandoned

        self.queue = deque(sorted(self.queue, key=slack))  # stable: FIFO within a campaign

    def floor_event(self, t: float, slot: int, what: float) -> None:
        fl = self.floor
        hold = self.hold_s > 0 and self.unheld() <= 0  # every free agent is spoken for
        if what == _BREAK_DUE:
            pause = fl.break_due(slot, hold=hold)
            if pause is not None:
                self.push(t + pause, _FLOOR, 0, slot, _BREAK_OVER)
            elif ("break", slot) in fl.holding:
                self.push(t + self.hold_s, _FLOOR, 0, slot, _HOLD_OVER_BREAK)
        elif what == _BREAK_OVER:
            gap = fl.break_over(slot)
            if fl.slot_state[slot] == "active":
                if gap is not None:
                    self.push(t + gap, _FLOOR, 0, slot, _BREAK_DUE)
                self.agent_freed(t)
        elif what == _LEAVE:
            fl.leave(slot, hold=hold)
            if ("leave", slot) in fl.holding:
                self.push(t + self.hold_s, _FLOOR, 0, slot, _HOLD_OVER_LEAVE)
        else:  # a hold ran out: the break or log-out starts even if calls still ring
            kind = "break" if what == _HOLD_OVER_BREAK else "leave"
            self.started(t, fl.release((kind, slot)))
        self.trim_holds()

    def started(self, t: float, claim: tuple[str, int, float] | None) -> None:
        if claim is not None and claim[0] == "break":
            self.push(t + claim[2], _FLOOR, 0, claim[1], _BREAK_OVER)

    def release_holds(self, t: float) -> None:
        """Held breaks and log-outs start while a free agent is not spoken for."""
        while self.floor.holding and self.unheld() > 0:
            self.started(t, self.floor.release())


def run_simulation(params: SimParams, pacer: Pacer) -> SimResult:
    """Simulate one shift of one campaign with ``pacer``; deterministic for ``params.seed``."""
    return run_floor(params, [(params.callee, pacer)])[0]


def run_floor(
    params: SimParams, campaigns: Sequence[tuple[CalleeModel, Pacer]]
) -> tuple[SimResult, ...]:
    """Simulate one shift of campaigns sharing the floor's agents; one result each.

    ``params.callee`` is ignored here: each campaign brings its own callee model.
    """
    if not campaigns:
        raise ValueError("a floor needs at least one campaign")
    sim = _Shift(params, campaigns)
    duration = params.duration_s
    ticks = math.ceil(duration / params.tick_s)
    per_minute = max(1, round(60.0 / params.tick_s))
    tick = 0
    sim.push(0.0, _TICK)
    heap, camps, floor = sim.heap, sim.camps, sim.floor
    turn = 0
    while heap:
        t, kind, _, camp, call, x = heapq.heappop(heap)
        floor.advance(t)
        if kind == _TICK:
            if tick and tick % per_minute == 0:
                for c in camps:
                    c.record_minute()
            tick += 1
            if tick < ticks:
                sim.push(tick * params.tick_s, _TICK)
        elif kind == _RESOLVE:
            sim.resolve(t, camps[camp], call, x)
        elif kind == _WRAP_END:
            sim.wrap_end(t, camps[camp], x)
        elif kind == _TALK_END:
            sim.talk_end(t, camps[camp], x)
        elif kind == _FLOOR:
            sim.floor_event(t, call, x)
        else:
            sim.deadline(t, camps[camp], call)
        if floor.holding:
            sim.release_holds(t)
        if t < duration:
            turn = (turn + 1) % len(camps)
            for c in camps[turn:] + camps[:turn]:
                n = c.pacer.calls_to_launch(sim.state(t, c))
                if n > 0:
                    sim.launch(t, c, n)
    floor.advance(duration)
    return tuple(_result(sim, c) for c in camps)


def _result(sim: _Shift, c: _Campaign) -> SimResult:
    p = sim.p
    humans = c.humans
    staffed = sim.floor.staffed_time()
    if len(c.rates) < math.floor(p.duration_s / 60.0):
        c.record_minute()  # a last partial minute
    return SimResult(
        agents=p.agents,
        duration_s=p.duration_s,
        seed=p.seed,
        dials=c.dials,
        human_answers=humans,
        machine_answers=c.counts[CallOutcome.MACHINE],
        busy=c.counts[CallOutcome.BUSY],
        failed=c.counts[CallOutcome.FAILED],
        no_answer=c.counts[CallOutcome.NO_ANSWER],
        connected=c.connected,
        abandoned=c.abandoned,
        hung_up=c.hung_up,
        occupancy=c.talk_sum / staffed if staffed > 0 else 0.0,
        abandon_rate=c.abandoned / humans if humans else 0.0,
        mean_wait_s=c.wait_sum / c.connected if c.connected else 0.0,
        talk_time_s=c.talk_sum,
        max_in_flight=c.max_in_flight,
        max_waiting=c.max_waiting,
        amd_humans_dropped=c.amd_dropped,
        amd_machines_to_agents=c.amd_passed,
        staffed_s=staffed,
        max_window_rate=max(c.rates, default=0.0),
        agent_time_s={s: sim.floor.time[s] for s in STATES},
        window_rates=tuple(c.rates),
    )
