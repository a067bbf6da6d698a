"""The callee model: what happens to one dialled call, drawn from a seeded RNG.

Shared by the discrete-event simulator (virtual time) and the engine's real-time
``SimulatedGateway``, so both dial the same population. The reference model:

* human answer with probability ``p_human`` (which may follow a schedule over the shift),
  answering machine with ``p_machine``, busy/failed with ``p_busy + p_failed`` (resolved
  after ``fail_s``), otherwise no answer (given up after ``no_answer_s``);
* human and machine answers come after a ring time uniform in ``[ring_min_s, ring_max_s]``;
  a machine is recognised ``amd_s`` after it answers;
* talk time is exponential with mean ``talk_s`` (or lognormal with the same mean).

Floors are not ideal, so three optional imperfections (all 0 by default):
``p_amd_drops_human`` is the share of humans that AMD classes as machines (the dialer
hangs up on them: the person is lost and the dialer never learns it), ``p_amd_passes_machine``
the share of machines classed as humans (sent to an agent, who hears a greeting for
``machine_talk_s`` and hangs up), ``p_quick_hangup`` the share of humans who hang up
within ``quick_hangup_s`` (2 s) if no agent takes them at once.

Every call consumes exactly four uniforms (five when an imperfection is set) from the RNG
whatever its outcome, so the i-th dial gets the same draw under every pacer (common random
numbers: pacers are compared on the same callees, which makes their differences far less
noisy).
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from dataclasses import dataclass, field
from enum import StrEnum
from statistics import NormalDist

_STD_NORMAL = NormalDist()


class CallOutcome(StrEnum):
    """How a dial resolves (before any agent is involved)."""

    HUMAN = "human"
    MACHINE = "machine"
    BUSY = "busy"
    FAILED = "failed"
    NO_ANSWER = "no_answer"


class TalkDistribution(StrEnum):
    """Shape of the talk-time distribution (both have mean ``talk_s``)."""

    EXPONENTIAL = "exp"
    LOGNORMAL = "lognormal"


@dataclass(frozen=True, slots=True)
class CallScript:
    """The fate of one dial, fixed when it is placed.

    ``resolve_s`` is seconds from dial to the answer (human, machine) or to the give-up
    (busy, failed, no_answer). ``talk_s`` only matters for humans, ``amd_s`` for machines.
    ``patience_s`` is how long the human would hold before hanging up on their own;
    the dialer's own 2-second rule (the engine's, reproduced by the simulator) usually
    ends the wait first. ``amd_wrong``: AMD gets this call wrong (a human classed as a
    machine, or a machine classed as a human).
    """

    outcome: CallOutcome
    resolve_s: float
    talk_s: float
    amd_s: float
    patience_s: float = math.inf
    amd_wrong: bool = False


@dataclass(frozen=True, slots=True)
class PHumanSchedule:
    """Piecewise-linear probability of a human answer over elapsed campaign seconds.

    ``points`` are ``(elapsed_s, p_human)`` pairs sorted by time; before the first point
    and after the last the end values hold.
    """

    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if not self.points:
            raise ValueError("a p_human schedule needs at least one point")
        times = [t for t, _ in self.points]
        if times != sorted(times):
            raise ValueError("p_human schedule points must be sorted by time")
        if any(not 0.0 <= p <= 1.0 for _, p in self.points):
            raise ValueError("p_human schedule values must be probabilities")

    @classmethod
    def linear(cls, start: float, end: float, duration_s: float) -> PHumanSchedule:
        """A schedule moving linearly from ``start`` to ``end`` over ``duration_s``."""
        return cls(((0.0, start), (duration_s, end)))

    def at(self, elapsed_s: float) -> float:
        """The human-answer probability ``elapsed_s`` seconds into the campaign."""
        pts = self.points
        i = bisect_right([t for t, _ in pts], elapsed_s)
        if i == 0:
            return pts[0][1]
        if i >= len(pts):
            return pts[-1][1]
        (t0, p0), (t1, p1) = pts[i - 1], pts[i]
        if t1 <= t0:
            return p1
        return p0 + (p1 - p0) * (elapsed_s - t0) / (t1 - t0)


@dataclass(frozen=True, slots=True)
class CalleeModel:
    """Parameters of the reference callee model (see the module docstring)."""

    p_human: float = 0.30
    p_machine: float = 0.10
    p_busy: float = 0.04
    p_failed: float = 0.01
    ring_min_s: float = 5.0
    ring_max_s: float = 25.0
    no_answer_s: float = 25.0
    fail_s: float = 3.0
    amd_s: float = 3.0
    talk_s: float = 90.0
    talk_dist: TalkDistribution = TalkDistribution.EXPONENTIAL
    talk_sigma: float = 0.8
    patience_s: float = math.inf
    p_human_schedule: PHumanSchedule | None = field(default=None)
    p_amd_drops_human: float = 0.0
    p_amd_passes_machine: float = 0.0
    p_quick_hangup: float = 0.0
    quick_hangup_s: float = 2.0
    machine_talk_s: float = 5.0

    def __post_init__(self) -> None:
        for name in (
            "p_human",
            "p_machine",
            "p_busy",
            "p_failed",
            "p_amd_drops_human",
            "p_amd_passes_machine",
            "p_quick_hangup",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")
        peak = self.max_p_human()
        if peak + self.p_machine + self.p_busy + self.p_failed > 1.0 + 1e-9:
            raise ValueError("p_human + p_machine + p_busy + p_failed must not exceed 1")
        if not 0.0 <= self.ring_min_s <= self.ring_max_s:
            raise ValueError("ring times need 0 <= ring_min_s <= ring_max_s")
        if self.talk_s <= 0 or self.amd_s < 0 or self.fail_s < 0 or self.no_answer_s < 0:
            raise ValueError("talk_s must be positive and the other durations non-negative")
        if self.talk_sigma <= 0:
            raise ValueError("talk_sigma must be positive")
        if self.quick_hangup_s < 0 or self.machine_talk_s < 0:
            raise ValueError("quick_hangup_s and machine_talk_s must not be negative")

    @property
    def imperfect(self) -> bool:
        """True when AMD errors or quick hang-ups are modelled (a fifth uniform per call)."""
        return bool(self.p_amd_drops_human or self.p_amd_passes_machine or self.p_quick_hangup)

    def max_p_human(self) -> float:
        """The highest human-answer probability over the whole schedule."""
        if self.p_human_schedule is None:
            return self.p_human
        return max(p for _, p in self.p_human_schedule.points)

    def p_human_at(self, elapsed_s: float) -> float:
        """Human-answer probability at ``elapsed_s`` seconds into the campaign."""
        if self.p_human_schedule is None:
            return self.p_human
        return self.p_human_schedule.at(elapsed_s)

    def sample(self, rng: random.Random, elapsed_s: float = 0.0) -> CallScript:
        """Draw the fate of one dial placed ``elapsed_s`` seconds into the campaign."""
        u_outcome = rng.random()
        u_ring = rng.random()
        u_talk = rng.random()
        u_patience = rng.random()
        u_floor = rng.random() if self.imperfect else 1.0
        p_human = self.p_human_at(elapsed_s)
        ring = self.ring_min_s + (self.ring_max_s - self.ring_min_s) * u_ring
        talk = self._talk_time(u_talk)
        patience = (
            math.inf if math.isinf(self.patience_s) else -self.patience_s * math.log1p(-u_patience)
        )
        if u_outcome < p_human:
            outcome, resolve = CallOutcome.HUMAN, ring
        elif u_outcome < p_human + self.p_machine:
            outcome, resolve = CallOutcome.MACHINE, ring
        elif u_outcome < p_human + self.p_machine + self.p_busy:
            outcome, resolve = CallOutcome.BUSY, self.fail_s
        elif u_outcome < p_human + self.p_machine + self.p_busy + self.p_failed:
            outcome, resolve = CallOutcome.FAILED, self.fail_s
        else:
            outcome, resolve = CallOutcome.NO_ANSWER, self.no_answer_s
        wrong = False
        if outcome is CallOutcome.HUMAN:
            wrong = u_floor < self.p_amd_drops_human
            rest = 1.0 - self.p_amd_drops_human
            if (
                not wrong
                and rest > 0
                and (u_floor - self.p_amd_drops_human) < (self.p_quick_hangup * rest)
            ):
                # uniform within the quick window, reusing the rest of the draw
                frac = (u_floor - self.p_amd_drops_human) / (self.p_quick_hangup * rest)
                patience = min(patience, self.quick_hangup_s * frac)
        elif outcome is CallOutcome.MACHINE:
            wrong = u_floor < self.p_amd_passes_machine
            if wrong:
                talk = self.machine_talk_s
        return CallScript(outcome, resolve, talk, self.amd_s, patience, wrong)

    def _talk_time(self, u: float) -> float:
        # Inverse-CDF sampling keeps the draw count fixed (see the module docstring).
        u = min(max(u, 1e-12), 1.0 - 1e-12)
        if self.talk_dist is TalkDistribution.LOGNORMAL:
            mu = math.log(self.talk_s) - self.talk_sigma**2 / 2.0
            return math.exp(mu + self.talk_sigma * _STD_NORMAL.inv_cdf(u))
        return -self.talk_s * math.log1p(-u)
