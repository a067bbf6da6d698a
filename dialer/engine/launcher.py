"""Launch batches in the background, so the pacing loop answers the next event at once.

Placing a batch of calls takes a few round trips to PostgreSQL (the rules gate, the attempt
records) before its originates. If the pacing loop waited for them, an event arriving
meanwhile would wait for the whole batch before it is even looked at: under load that
queueing, not the database, is most of the event-to-dial time. So each batch runs as its
own task, at most ``slots`` at once per runner (each holds a database connection); the
calls a running batch was asked for count as in flight for the next pacing decision
(``pending``), so the pacer never asks twice for the same call.

A probe while the gateway is down is placed directly: its result decides whether the
next step may dial (see ``engine.health``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from dialer.db import DB_ERRORS, OUTAGE_ERRORS
from dialer.engine.dialing import Dialing, Trigger
from dialer.engine.hopper import Hopper
from dialer.engine.ramp import OutageRamp

log = logging.getLogger(__name__)


class Launcher:
    """A runner's launch batches in flight (see the module docstring)."""

    def __init__(
        self,
        *,
        dialing: Dialing,
        hopper: Hopper,
        spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]],
        again: Callable[[Trigger | None], None],
        slots: int,
        max_batch: int,
        campaign_id: int,
        ramp: OutageRamp | None = None,
    ) -> None:
        self.ramp = ramp or OutageRamp(lambda: 0.0)
        self.dialing = dialing
        self.hopper = hopper
        self.spawn = spawn
        self.again = again  # look again at once (more to place), timed from the same event
        self.max_batch = max_batch
        self.slots = slots
        self.campaign_id = campaign_id
        self.pending = 0  # calls asked for by batches still being placed
        self._free = asyncio.Semaphore(slots)

    @property
    def step_capacity(self) -> int:
        """Calls one pacing step may ask for; the rest is asked for again at once."""
        return self.max_batch * self.slots

    async def submit(
        self, want: int, mode: str, started: Trigger | None, counted: Sequence[int] = ()
    ) -> None:
        """Start placing ``want`` calls (at most one step's capacity) in batches; returns
        once they are under way, waiting only for a free slot. ``counted``: the agents the
        decision counted as free (a batch is placed only while none of them has paused)."""
        if self.dialing.lapsed:  # the lease's fence refused the last batch: wait for renewal
            return
        left = min(want, self.step_capacity)
        while left > 0 and not self.dialing.closed:
            n = min(left, self.max_batch)
            await self._free.acquire()
            if self.ramp.down:  # the database went away while this step waited: a decision
                self._free.release()  # made before the outage is not placed after it
                return
            self.pending += n
            self.spawn(self._run(n, mode, started, counted))
            left -= n
        if want > self.step_capacity:
            self.again(started)

    async def _run(
        self, n: int, mode: str, started: Trigger | None, counted: Sequence[int]
    ) -> None:
        placed = 0
        try:
            placed = await self.dialing.launch(n, mode, started, counted)
        except DB_ERRORS as exc:
            log.warning("calls not placed: %s", exc, extra={"campaign_id": self.campaign_id})
            if isinstance(exc, OUTAGE_ERRORS):
                self.ramp.failed()
            await asyncio.sleep(1.0)  # holds the slot: a failing database slows the runner
        finally:
            self.pending -= n
            self._free.release()
        stopped = self.dialing.closed or self.dialing.lapsed
        if placed < n and not self.hopper.exhausted and not stopped:
            self.again(started)  # blocked leads or a short hopper: the pacer asks again

    async def probe(self, mode: str, started: Trigger | None, counted: Sequence[int] = ()) -> None:
        """One call while the gateway is down (``GatewayHealth.may_originate`` lets it
        through as the probe unless another runner's call got there first)."""
        self.pending += 1
        try:
            await self.dialing.launch(1, mode, started, counted)
        finally:
            self.pending -= 1
