"""Abandon-budget control: how much risk the predictive pacer may take right now.

The law caps the abandon *count* over a measurement window at ``limit x human answers``.
We steer that count with feedback (Astrom & Murray, *Feedback Systems*, ch. 10-11):

* the **budget line** ``L(H) = limit*H - reserve`` is what we may have abandoned after
  ``H`` human answers; a young campaign, where that is still negative, uses
  ``limit*H/2`` instead, so it starts cautiously without stalling. The margin *as a rate*,
  ``reserve / H``, shrinks as evidence accumulates;
* the **slack** ``S = L - abandoned - pending`` (``pending``: abandons the pacer expects
  from calls already ringing). At ``S <= 0`` the threshold is 0: the pacer dials
  progressively, which cannot abandon while talk outlasts ring, so the count stops while
  the line keeps rising;
* otherwise the marginal-risk threshold is ``theta = theta0 * exp(gain * (S - buffer))``.
  In the log domain this is a stochastic-approximation (Robbins-Monro) controller: each
  abandon cuts theta by ``exp(-gain)``, each human answered raises it by
  ``exp(gain * limit)``, so the abandon rate is driven to the line's slope. Occupancy is
  close to linear in ``log theta`` and the abandon rate close to proportional to theta,
  so these multiplicative wiggles cost little (only their variance, through Jensen);
* ``theta0`` learns slowly (integral action) so the slack settles at ``buffer`` whatever
  the scenario: the pacer's risk model need not be perfectly calibrated;
* **scale**: abandons arrive 100 times faster on a 100-agent floor than on a 5-agent one,
  and in bursts (several humans answer while every agent is busy). ``buffer``, ``reserve``
  and ``1/gain`` are in units of ``sigma``, the standard deviation of the abandon count
  over ``horizon_s`` at the limit (at least 1), inflated by the observed index of
  dispersion of abandons per minute, so the loop has the same time constant, in seconds,
  and the same relative calm at every size.

On top of the loop sits the **slack guard** (``window_can_absorb``): an abandon is risked
only while the legal window can absorb one more, ``abandoned + pending + 1 <= limit *
human_answers`` (``guard_burst`` > 0 asks room for a burst too: that share of the measured
dispersion of abandons less one; off by default, it cost 0.014 occupancy on 5 agents). A
new or small campaign therefore stays progressive until its answers have earned the first
abandon (34 live answers at 3 %), and the window's rate is not pushed over the limit by a
risk the pacer chose.
The guard is a pure function of the window's counts, so the engine can apply it to any
pacer's answer (``guard_launch``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from dialer.pacing.base import Pacer, PacingEvent, PacingState
from dialer.pacing.estimators import DecayingRate


class AbandonBudget:
    """Turns window counts (human answers, abandons) into a marginal-risk threshold."""

    def __init__(
        self,
        *,
        limit: float = 0.03,
        reserve: float = 1.0,
        buffer: float = 1.5,
        gain: float = 0.35,
        horizon_s: float = 900.0,
        learn: float = 0.1,
        min_scale: float = 1.0,
        start_threshold: float | None = None,
        max_threshold: float = 0.5,
        guard_burst: float = 0.0,
        young: float = 0.5,
        end_ramp: float = 3.0,
        end_keep: float = 2.0,
        end_eps: float = 0.2,
        end_from: float = 0.25,
    ) -> None:
        if not 0.0 < limit < 1.0:
            raise ValueError(f"max_abandon_rate must be within (0, 1), got {limit}")
        self.limit = limit
        self.reserve = reserve
        self.buffer = buffer
        self.gain = gain
        self.horizon_s = horizon_s
        self.max_threshold = max_threshold
        self.headroom = 0.0
        self.guard_burst = guard_burst
        self.young = young
        self.end_ramp = end_ramp
        self.end_keep = end_keep
        self.end_eps = end_eps
        self.end_from = end_from
        self.cushion = 1.0
        self.earn_left: float | None = None  # abandons the rest of the shift earns (None: unknown)
        self.learn = learn
        self.min_scale = min_scale
        base = start_threshold if start_threshold is not None else limit
        self._log_base = math.log(base)
        self._log_lo = math.log(base / 8.0)
        self._log_hi = math.log(min(base * 8.0, max_threshold))
        self._humans = DecayingRate(horizon_s)
        self._last_humans: int | None = None
        self._dispersion = _Dispersion()
        self.scale = 1.0
        self.slack = 0.0
        self.value = 0.0

    @property
    def base(self) -> float:
        """``theta0``: the threshold when the slack sits at ``buffer``."""
        return math.exp(self._log_base)

    def line(self, human_answers: int) -> float:
        """Abandons allowed so far after ``human_answers`` humans."""
        strict = self.limit * human_answers - self.reserve * self.scale * self.cushion
        return max(strict, self.young * self.limit * human_answers)

    def threshold(
        self,
        t: float,
        human_answers: int,
        abandoned: int,
        pending: float = 0.0,
        shift_left_s: float | None = None,
    ) -> float:
        """Marginal abandon risk the pacer may accept at ``t`` (0 = progressive only).

        ``pending`` is the pacer's estimate of abandons already on their way (humans due
        from calls in flight beyond the agents due to free up): they are spent slack.
        ``shift_left_s`` (``None``: unknown) lets the reserve and the buffer shrink as the
        shift's end nears (``end_cushion``).
        """
        new = 0 if self._last_humans is None else max(0, human_answers - self._last_humans)
        self._last_humans = human_answers
        self._humans.start(t)
        if new:
            self._humans.add(t, new)
        expected = self.limit * self._humans.rate(t) * self.horizon_s
        self.scale = max(
            self.min_scale, math.sqrt(expected * self._dispersion.update(t, abandoned))
        )
        self.cushion = self.end_cushion(t, shift_left_s)
        self.slack = self.line(human_answers) - abandoned - pending
        gain = self.gain / self.scale
        excess = self.slack - self.buffer * self.scale * self.cushion
        if new:
            # integral action, a fraction ``learn`` of critical damping: much slower than
            # the proportional part, it only removes the slack's steady offset
            step = self.learn * gain * gain * self.limit / 4.0 * min(new, 50) * excess
            self._log_base = min(self._log_hi, max(self._log_lo, self._log_base + step))
        self.headroom = self.limit * human_answers - abandoned - pending
        # one more abandon must fit (and, with guard_burst, part of a burst)
        burst = pending + self.guard_burst * (self._dispersion.value - 1.0)
        if self.slack <= 0.0 or not window_can_absorb(human_answers, abandoned, self.limit, burst):
            self.value = 0.0
        else:
            boost = min(gain * excess, math.log(4.0))
            self.value = min(self.max_threshold, math.exp(self._log_base + boost))
        return self.value

    def allowance(self, safety: float) -> float:
        """Share of the window's headroom a batch may use: ``1 / safety``, rising towards
        all of it as the cushion falls near the shift's end."""
        return self.headroom / (safety - (safety - 1.0) * (1.0 - self.cushion))

    def tail_eps(self, eps: float) -> float:
        """The tail bound's chance of a burst over the window: ``eps``, falling to ``eps x
        end_eps`` in the shift's last stretch, once the rest of it earns less than
        ``end_from`` of an abandon (a burst then would leave the window over the limit when
        dialling stops, with nothing left to earn it back)."""
        earn = self.earn_left
        if earn is None or earn >= self.end_from:
            return eps
        return eps * max(self.end_eps, earn / self.end_from)

    def end_cushion(self, t: float, shift_left_s: float | None) -> float:
        """Share of the reserve and buffer still worth keeping, 1 down to 0 at the end.

        They insure the window against the rest of the shift's bad luck; abandons kept in
        hand when dialling stops are occupancy given away. The rest of the shift will
        earn ``limit x answers left`` abandons; while that is under ``end_ramp x sigma``
        the cushion shrinks in proportion, so the slack target falls to 0 at the end and
        the budget is spent at a rate that rises as the end nears (the slack guard and
        the tail bound still decide each abandon risked).
        """
        self.earn_left = None
        if shift_left_s is None or self.end_ramp <= 0.0:
            return 1.0
        rate = self._humans.rate(t)
        if rate <= 0.0:
            return 1.0  # no answers seen yet: nothing to judge the rest of the shift by
        earned = self.earn_left = self.limit * rate * max(0.0, shift_left_s)
        full = (self.reserve + self.buffer) * self.scale  # headroom the loop aims at
        floor = min(1.0, self.end_keep / full) if full > 0.0 else 1.0
        return max(floor, min(1.0, earned / (self.end_ramp * self.scale)))


def window_can_absorb(
    human_answers: int, abandoned: int, limit: float, pending: float = 0.0
) -> bool:
    """True while one more abandon keeps the window's rate within ``limit``.

    ``pending`` counts abandons already expected from calls in flight; they are spent.
    """
    return abandoned + pending + 1.0 <= limit * human_answers + 1e-9


def guard_launch(wanted: int, state: PacingState, limit: float, pending: float = 0.0) -> int:
    """Any pacer's answer, cut to progressive's while the window cannot absorb an abandon.

    For the engine (or a simulator) to wrap pacers that do not guard themselves: dialling
    more calls than free agents risks an abandon, which is allowed only with slack left.
    """
    if window_can_absorb(state.window_human_answers, state.window_abandoned, limit, pending):
        return wanted
    return max(0, min(wanted, uncommitted_agents(state)))


def uncommitted_agents(state: PacingState) -> int:
    """Free agents no call in flight or waiting person (of any campaign sharing them) has
    a claim on: how many calls progressive dialling may launch (negative when over)."""
    return (
        state.agents_available
        - state.calls_in_flight
        - state.calls_waiting
        - state.shared_calls_in_flight
    )


class _Dispersion:
    """Index of dispersion (variance / mean) of abandons per minute, at least 1.

    Poisson abandons give 1; bursts give more. Starts at 2 (a prior worth 20 minutes) and
    forgets with a one-hour half-life.
    """

    def __init__(self, interval_s: float = 60.0, prior: float = 2.0) -> None:
        self.interval_s = interval_s
        self._decay = 0.5 ** (interval_s / 3600.0)
        self._n = 20.0
        self._mean = 0.1
        self._var = prior * 0.1
        self._start: float | None = None
        self._count_at_start = 0
        self.value = prior

    def update(self, t: float, abandoned: int) -> float:
        """Feed the running abandon count at ``t``; returns the current index."""
        if self._start is None or t < self._start:
            self._start, self._count_at_start = t, abandoned
            return self.value
        while t - self._start >= self.interval_s:
            c = float(abandoned - self._count_at_start)
            self._count_at_start = abandoned  # later minutes of a gap count as zero
            self._start += self.interval_s
            self._n = self._n * self._decay + 1.0
            w = 1.0 / self._n
            delta = c - self._mean
            self._mean += w * delta
            self._var = (1.0 - w) * (self._var + w * delta * delta)
        if self._mean > 1e-9:
            self.value = max(1.0, self._var / self._mean)
        return self.value


class GuardedPacer:
    """Any pacer with the engine's legal guard on top (``guard_launch`` on every answer).

    This is what a fixed-ratio ("power") campaign really dials in the engine
    (``dialer.engine.pacers.PaceControl``), so benchmarks compare against it too.
    """

    def __init__(self, inner: Pacer, limit: float = 0.03) -> None:
        self.inner = inner
        self.limit = limit

    def observe(self, event: PacingEvent) -> None:
        self.inner.observe(event)

    def calls_to_launch(self, state: PacingState) -> int:
        return guard_launch(self.inner.calls_to_launch(state), state, self.limit)


def safe_uncovered(p: float, absorbable: int, eps: float, cap: int = 10_000) -> int:
    """Most calls without an agent waiting for them that keep ``P(more humans than
    absorbable) <= eps``: the largest ``m`` with ``P(Binomial(m, p) > absorbable) <= eps``.

    The slack guard's tail bound: an expected count that fits the window is not enough
    when the window can absorb one or two abandons, because humans come in bursts.
    """
    if absorbable < 0:
        return 0
    if p <= 0.0:
        return cap
    if p >= 1.0:
        return absorbable
    good, bad = absorbable, None  # m <= absorbable can never exceed it
    step = max(1, absorbable)
    while bad is None:
        probe = good + step
        if probe > cap:
            return cap
        if _binomial_tail(probe, p, absorbable) <= eps:
            good, step = probe, step * 2
        else:
            bad = probe
    while bad - good > 1:
        mid = (good + bad) // 2
        if _binomial_tail(mid, p, absorbable) <= eps:
            good = mid
        else:
            bad = mid
    return good


def _binomial_tail(m: int, p: float, k: int) -> float:
    """``P(Binomial(m, p) > k)``."""
    if m <= k:
        return 0.0
    term = math.exp(m * math.log1p(-p))  # P(X = 0)
    cdf = term
    ratio = p / (1.0 - p)
    for j in range(k):
        term *= (m - j) / (j + 1) * ratio
        cdf += term
    return max(0.0, 1.0 - cdf)


def largest_below(risk: Callable[[int], float], theta: float, good: int, room: int) -> int:
    """Largest ``n`` in ``[good, room]`` with ``risk(n) <= theta``, given ``risk(good) <= theta``.

    ``risk`` grows with ``n``; galloping then bisection keeps it O(log n) evaluations.
    """
    step = 1
    bad = None
    while bad is None:
        probe = min(good + step, room)
        if probe <= good:
            return good
        if risk(probe) <= theta:
            good = probe
            step *= 2
        else:
            bad = probe
    while bad - good > 1:
        mid = (good + bad) // 2
        if risk(mid) <= theta:
            good = mid
        else:
            bad = mid
    return good
