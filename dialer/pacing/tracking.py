"""Who is where, rebuilt from events: ages of calls in flight and of busy agents.

The predictive pacer needs to know *how long* each call has been ringing and each agent
has been talking or wrapping up, not just how many there are. Events carry enough to
rebuild that (a resolution's ``ring_s`` dates its dial; ``talk_s`` dates its connect), so
the engine need not send per-call data. The state's counts remain the truth: whenever a
tracker disagrees with them (a missed event, a restart), it is reconciled — unknown
calls and agents are assumed to have just started, which is the cautious guess.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort


class InFlightTracker:
    """Dial times of calls still in flight, counted per whole second."""

    def __init__(self) -> None:
        self.bins: dict[int, int] = {}
        self.total = 0

    def add(self, dialled_at: float) -> int:
        """A call was dialled at ``dialled_at``; returns its bin."""
        b = math.floor(dialled_at)
        self.bins[b] = self.bins.get(b, 0) + 1
        self.total += 1
        return b

    def remove(self, dialled_at: float) -> int | None:
        """A call dialled at about ``dialled_at`` resolved; returns the bin it came from."""
        b = math.floor(dialled_at + 1e-6)
        for cand in (b, b - 1, b + 1):
            n = self.bins.get(cand, 0)
            if n > 0:
                if n == 1:
                    del self.bins[cand]
                else:
                    self.bins[cand] = n - 1
                self.total -= 1
                return cand
        return None

    def reconcile(self, count: int, now: float) -> bool:
        """Match ``count`` calls in flight: drop the oldest or add fresh ones. True if changed."""
        if count == self.total:
            return False
        while self.total > count:
            oldest = min(self.bins)
            self.bins[oldest] -= 1
            if self.bins[oldest] == 0:
                del self.bins[oldest]
            self.total -= 1
        while self.total < count:
            self.add(now)
        return True

    def forget_older_than(self, cutoff: float) -> None:
        """Drop calls dialled before ``cutoff`` (their resolution was missed)."""
        for b in [b for b in self.bins if b + 1 <= cutoff]:
            self.total -= self.bins.pop(b)


class StartTimes:
    """Start times of agents in one state (on call, or wrapping up), kept sorted."""

    def __init__(self) -> None:
        self.starts: list[float] = []

    def __len__(self) -> int:
        return len(self.starts)

    def add(self, start: float) -> None:
        """An agent entered the state at ``start``."""
        if not self.starts or start >= self.starts[-1]:
            self.starts.append(start)
        else:
            insort(self.starts, start)

    def remove(self, start: float) -> None:
        """The agent that entered at about ``start`` left (nearest match is removed)."""
        s = self.starts
        if not s:
            return
        i = bisect_left(s, start)
        if i == len(s) or (i > 0 and start - s[i - 1] <= s[i] - start):
            i -= 1
        del s[i]

    def reconcile(self, count: int, now: float) -> bool:
        """Match ``count`` agents: drop the oldest or add ones starting now. True if changed."""
        if count == len(self.starts):
            return False
        if count < len(self.starts):
            del self.starts[: len(self.starts) - count]
        else:
            self.starts.extend([now] * (count - len(self.starts)))
        return True

    def replace(self, now: float, elapsed: tuple[float, ...]) -> None:
        """Take per-agent elapsed seconds supplied by the engine instead of our own."""
        self.starts = sorted(now - e for e in elapsed)

    def count_started_between(self, lo: float, hi: float) -> int:
        """Agents that entered the state in ``[lo, hi)``."""
        return bisect_left(self.starts, hi) - bisect_left(self.starts, lo)
