"""Blended agents: how many free agents to keep for the inbound calls that may arrive.

Pure. ``InboundRate`` estimates the arrival rate of inbound calls from their recent arrival
times (a sliding window); ``agents_to_hold`` turns a rate into agents: arrivals within the
horizon (the time a call dialed now takes to reach an agent) are taken as Poisson, and
``k`` agents are held, the fewest such that more than ``k`` arrivals are less likely than
``risk``. A pacer shown ``agents_available`` without them (``PacingState.agents_held_inbound``)
does not dial for an agent an inbound call is about to take, so its abandon estimate holds.
"""

from __future__ import annotations

import math
from collections import deque

WINDOW_S = 900.0  # arrivals older than this no longer count
MIN_SPAN_S = 60.0  # a rate is never estimated over less than this (first arrivals)


class InboundRate:
    """Inbound arrivals per second over the last ``window_s`` (times in ``t`` seconds)."""

    def __init__(self, window_s: float = WINDOW_S) -> None:
        self.window_s = window_s
        self.times: deque[float] = deque()
        self.first_t: float | None = None

    def arrived(self, t: float) -> None:
        if self.first_t is None:
            self.first_t = t
        self.times.append(t)
        self._forget(t)

    def rate(self, t: float) -> float:
        self._forget(t)
        if not self.times or self.first_t is None:
            return 0.0
        span = min(self.window_s, max(MIN_SPAN_S, t - self.first_t))
        return len(self.times) / span

    def _forget(self, t: float) -> None:
        while self.times and self.times[0] < t - self.window_s:
            self.times.popleft()


def agents_to_hold(rate_per_s: float, horizon_s: float, free: int, risk: float) -> int:
    """The fewest agents ``k`` (at most ``free``) with P(arrivals in horizon > k) < risk."""
    if free <= 0 or rate_per_s <= 0 or horizon_s <= 0:
        return 0
    lam = rate_per_s * horizon_s
    term = cdf = math.exp(-lam)
    k = 0
    while 1.0 - cdf >= risk and k < free:
        k += 1
        term *= lam / k
        cdf += term
    return k
