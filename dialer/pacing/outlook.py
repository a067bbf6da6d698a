"""The short-term outlook: humans about to answer versus agents about to free up.

For a handful of horizons ``τ_k`` (the quantiles of the time a human takes to answer, so
each stands for an equally likely answer time of a call dialled now) it keeps

* ``h[k]``: expected humans answering within ``τ_k`` among calls already in flight. A
  call that has rung for ``a`` seconds answers by ``a + τ`` with probability
  ``p·(G(a+τ) - G(a)) / S(a)`` where ``G`` is the answer-time CDF of humans and ``S``
  the chance of still ringing at ``a`` (a hazard-rate view of the dial);
* ``a[k]``: expected agents free by ``τ_k + max_wait``: wrap-up agents by their elapsed
  wrap time, on-call agents by their elapsed talk time through the Kaplan-Meier hazard
  of talk times (they still owe the mean wrap-up), each a Bernoulli;
* ``h[NH + k]``, ``a[NH + k]``: the summed Bernoulli variances, for a normal
  approximation.

It is rebuilt from the trackers once a second (ages move on) and nudged in O(K) on every
event in between, so a pacer call costs O(K), not O(agents).
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from operator import add, sub

from dialer.pacing.estimators import DecayingProportion, Histogram
from dialer.pacing.lifetimes import KaplanMeier
from dialer.pacing.tracking import InFlightTracker, StartTimes

K = 5  # answer-time quantiles a new call stands for
NH = K + 1  # horizons: those quantiles plus "by the time every call has answered"
_AGE_RES = 0.5  # seconds per row of the in-flight hazard table
_AGE_ROWS = 160
_WRAP_RES = 0.25
# fmt: off
_TALK_EDGES = (0, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 300, 420, 600, 900, 1200,
               1800, 2700, 3600, 5400)  # talk-age bins (s) agents on call are grouped in
# fmt: on
Vec = list[float]
Row = tuple[float, ...]  # NH probabilities, then their NH Bernoulli variances
_ZERO: Row = (0.0,) * (2 * NH)


def _row(probs: tuple[float, ...] | list[float]) -> Row:
    return (*probs, *(q * (1.0 - q) for q in probs))


class CallModel:
    """What a dial does: P(human), when humans answer, when the others resolve.

    Outcomes are learnt by *cohort*: a resolution is only counted once every call dialled
    at the same time has had ``settle_s`` to resolve. Otherwise the first minute would
    see only the quick outcomes (busy signals, early answers) and bias both P(human) and
    the answer-time distribution.
    """

    def __init__(
        self, *, half_life_s: float, prior_p: float, prior_weight: float, settle_s: float = 60.0
    ) -> None:
        self.p_human = DecayingProportion(half_life_s, prior_p, prior_weight)
        self.human_ring = Histogram(0.25, 120.0)
        self.other = Histogram(0.25, 120.0)
        self.settle_s = settle_s
        self._pending: list[tuple[float, bool, float]] = []  # (dialled at, human, age)

    def resolved(self, dialled_at: float, human: bool, age: float) -> None:
        """A call dialled at ``dialled_at`` resolved after ``age`` seconds."""
        heapq.heappush(self._pending, (dialled_at, human, age))

    def settle(self, now: float) -> None:
        """Learn from the cohorts dialled at least ``settle_s`` before ``now``."""
        pending = self._pending
        cutoff = now - self.settle_s
        while pending and pending[0][0] <= cutoff:
            dialled_at, human, age = heapq.heappop(pending)
            self.p_human.add(dialled_at, human)
            (self.human_ring if human else self.other).add(age)

    def ready(self, min_humans: int, min_resolved: int) -> bool:
        """Enough evidence to forecast at all."""
        return self.human_ring.samples >= min_humans and self.p_human.count >= min_resolved

    def horizons(self) -> tuple[float, ...]:
        """Quantiles of the human answer time at levels (k + ½)/K, then the 99.9 % one."""
        q = [self.human_ring.quantile((k + 0.5) / K) for k in range(K)]
        return (*q, self.human_ring.quantile(0.999))

    def hazard_table(self, taus: tuple[float, ...]) -> list[Row]:
        """Row ``i``: P(human answer within each τ | still in flight at age i·res)."""
        p = self.p_human.mean
        g_h, g_o = self.human_ring.cdf, self.other.cdf
        rows = []
        for i in range(_AGE_ROWS):
            a = (i + 0.5) * _AGE_RES
            base = g_h(a)
            alive = p * (1.0 - base) + (1.0 - p) * (1.0 - g_o(a))
            if alive <= 1e-9:
                rows.append(_ZERO)
                continue
            rows.append(_row([min(1.0, p * (g_h(a + tau) - base) / alive) for tau in taus]))
        return rows


def age_row(age: float) -> int:
    """Row of the in-flight hazard table for a call ``age`` seconds old."""
    return min(max(int(age / _AGE_RES), 0), _AGE_ROWS - 1)


def talk_bin(age: float) -> int:
    """Index of the talk-age bin holding ``age``."""
    return max(bisect_right(_TALK_EDGES, age) - 1, 0)


class AgentModel:
    """Talk and wrap-up time distributions, and the free-up tables built from them."""

    def __init__(self) -> None:
        self.talk = Histogram(1.0, 7200.0, max_weight=3000.0)
        self.wrap = Histogram(_WRAP_RES, 900.0, max_weight=3000.0)

    def talk_table(
        self, xs: tuple[float, ...], min_samples: int, talking: list[float]
    ) -> list[Row]:
        """Per talk-age bin: P(agent free within each x) (talk end plus mean wrap-up).

        ``talking``: elapsed talk times of the calls in progress (censored samples).
        """
        if self.talk.samples < min_samples:
            return [_ZERO for _ in _TALK_EDGES]
        km = KaplanMeier(self.talk, talking)
        wrap = self.wrap.mean()
        rows = []
        for i, lo in enumerate(_TALK_EDGES):
            hi = _TALK_EDGES[i + 1] if i + 1 < len(_TALK_EDGES) else lo + 1800
            mid = 0.5 * (lo + hi)
            rows.append(_row([km.p_end_within(mid, x - wrap) for x in xs]))
        return rows

    def wrap_table(
        self, xs: tuple[float, ...], min_samples: int, wrapping: list[float]
    ) -> list[Row]:
        """Per elapsed wrap-up (``_WRAP_RES`` rows): P(wrap-up over within each x)."""
        if self.wrap.samples < min_samples:
            return [_ZERO]
        km = KaplanMeier(self.wrap, wrapping)
        rows_needed = int(min(self.wrap.quantile(0.999) + 5.0, 900.0) / _WRAP_RES) + 1
        return [
            _row([km.p_end_within((i + 0.5) * _WRAP_RES, x) for x in xs])
            for i in range(rows_needed)
        ]


class Outlook:
    """Expected humans and free agents by each horizon, with their variances.

    ``h`` holds the in-flight humans: ``h[k]`` the mean by horizon ``k``, ``h[NH + k]``
    its variance; ``a`` the same for agents freeing up (not counting those already free).
    """

    def __init__(self) -> None:
        self.taus: tuple[float, ...] = (0.0,) * NH
        self.p_by_tau: tuple[float, ...] = (0.0,) * NH
        self.hazard: list[Row] = [_ZERO]
        self.talk_q: list[Row] = [_ZERO for _ in _TALK_EDGES]
        self.wrap_q: list[Row] = [_ZERO]
        self.h: Vec = [0.0] * (2 * NH)
        self.a: Vec = [0.0] * (2 * NH)

    def set_tables(
        self,
        now: float,
        calls: CallModel,
        agents: AgentModel,
        trackers: tuple[StartTimes, StartTimes],
        max_wait_s: float,
        min_samples: int,
    ) -> None:
        """Rebuild the lookup tables from the current estimates (``trackers``: the agents
        on call and in wrap-up, whose running times are censored samples)."""
        self.taus = calls.horizons()
        p = calls.p_human.mean
        self.p_by_tau = (*(p * (k + 0.5) / K for k in range(K)), p)
        self.hazard = calls.hazard_table(self.taus)
        xs = tuple(tau + max_wait_s for tau in self.taus)
        on_call, wrapping = trackers
        self.talk_q = agents.talk_table(xs, min_samples, [now - s for s in on_call.starts])
        self.wrap_q = agents.wrap_table(xs, min_samples, [now - s for s in wrapping.starts])

    def wrap_row(self, elapsed: float) -> Row:
        """Free-up probabilities of a wrap-up agent ``elapsed`` seconds in."""
        i = int(max(elapsed, 0.0) / _WRAP_RES)
        return self.wrap_q[min(i, len(self.wrap_q) - 1)]

    def hazard_row(self, age: float) -> Row:
        """Answer probabilities of an in-flight call ``age`` seconds old."""
        return self.hazard[min(age_row(age), len(self.hazard) - 1)]

    def rebuild(
        self,
        now: float,
        in_flight: InFlightTracker,
        on_call: StartTimes,
        wrapping: StartTimes,
    ) -> None:
        """Recompute both vectors from scratch at time ``now``."""
        h = [0.0] * (2 * NH)
        for b, c in in_flight.bins.items():
            h = [x + c * q for x, q in zip(h, self.hazard_row(now - b - 0.5), strict=True)]
        a = [0.0] * (2 * NH)
        inf = float("inf")
        for i, lo in enumerate(_TALK_EDGES):
            hi = _TALK_EDGES[i + 1] if i + 1 < len(_TALK_EDGES) else inf
            c = on_call.count_started_between(now - hi, now - lo if lo > 0 else inf)
            if c:
                a = [x + c * q for x, q in zip(a, self.talk_q[i], strict=True)]
        for start in wrapping.starts:
            a = list(map(add, a, self.wrap_row(now - start)))
        self.h, self.a = h, a

    # O(1) updates between rebuilds -----------------------------------------------------
    def call_added(self, age: float) -> None:
        """A call joined the in-flight set (normally just dialled, age 0)."""
        self.h = list(map(add, self.h, self.hazard_row(age)))

    def call_resolved(self, age: float) -> None:
        """An in-flight call of this age resolved (whatever the outcome)."""
        self.h = list(map(sub, self.h, self.hazard_row(age)))

    def talk_started(self) -> None:
        """An agent connected to a human."""
        self.a = list(map(add, self.a, self.talk_q[0]))

    def talk_ended(self, talk_s: float) -> None:
        """An agent's call ended after ``talk_s``: on call -> wrap-up."""
        a = map(sub, self.a, self.talk_q[talk_bin(talk_s)])
        self.a = list(map(add, a, self.wrap_row(0.0)))

    def wrap_ended(self, wrap_s: float) -> None:
        """An agent finished wrap-up (it is now counted as available by the state)."""
        self.a = list(map(sub, self.a, self.wrap_row(wrap_s)))
