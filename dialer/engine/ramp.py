"""After a database outage, dial no further ahead than the free agents for a while.

While PostgreSQL is out of reach a runner's picture goes stale: agents' wrap-ups and pauses
cannot be written, so the picture keeps them "on a call" or "wrapping up" for ever longer,
and a predictive pacer reads long-running calls as calls about to end: it dials ahead for
every one of them. Launch attempts that failed meanwhile are asked for again at once. The
first decision after the outage then places a burst (the 92 and 109 dials within single
seconds of issue 23, item 4) for agents who are not there to take the answers.

So, from the first database error a runner sees until ``ramp_s`` after the database
answers again:

* while it is down nothing is launched (no dial could be recorded anyway), and a launch
  step waiting for a slot gives up instead of placing a decision made before the outage;
* when it answers the runner reloads its picture from the tables first (agents, and the
  calls other runners still have open there, counted in flight), then
* each pacing step launches at most what the picture from the database allows without
  dialing ahead: free agents less calls in flight (own, being placed, and the database's)
  less humans waiting. The pacer's own number applies again after ``ramp_s``.
"""

from __future__ import annotations

from collections.abc import Callable

from dialer.pacing.base import PacingState

RAMP_S = 30.0  # call-world seconds of progressive-only dialing after the database returns


class OutageRamp:
    def __init__(self, monotonic: Callable[[], float], ramp_s: float = RAMP_S) -> None:
        self.monotonic = monotonic
        self.ramp_s = ramp_s
        self.down = False
        self.until: float | None = None
        self.outages = 0
        self.capped = 0  # calls the cap held back

    def failed(self) -> None:
        """The database did not answer (an outage error)."""
        if not self.down:
            self.outages += 1
        self.down = True

    def answered(self) -> None:
        """The database answered again and the picture was reloaded from it."""
        if self.down:
            self.down = False
            self.until = self.monotonic() + self.ramp_s

    @property
    def active(self) -> bool:
        return self.down or (self.until is not None and self.monotonic() < self.until)

    def cap(self, want: int, state: PacingState) -> int:
        """``want`` as the pacer asked, cut to what the guard allows now."""
        if not self.active:
            return want
        allowed = 0
        if not self.down:
            free = state.agents_available - state.calls_in_flight - state.calls_waiting
            allowed = max(0, free)
        if want > allowed:
            self.capped += want - allowed
            return allowed
        return want
