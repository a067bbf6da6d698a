"""Heartbeats of background loops: a loop that died or stopped making passes shows on
``/readyz`` instead of failing silently.

Every long-running loop of a process (engine, agent bus, webhook deliveries, imports,
scheduler) owns a ``Heartbeat``: it ``beat()``s after each pass, reports each exception it
caught and survived with ``failed()`` (logged by the loop with what it was working on, and
counted in ``dialer_loop_errors_total``), and ``watch()``es its task. ``problem()`` names
what is wrong: the task ended, or no pass for longer than ``stall_after_s`` on the
injected clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from dialer import metrics


class Heartbeat:
    """When a background loop last completed a pass, and whether its task still runs."""

    def __init__(self, name: str, monotonic: Callable[[], float], *, stall_after_s: float) -> None:
        self.name = name
        self.stall_after_s = stall_after_s
        self._monotonic = monotonic
        self.last = monotonic()
        self.passes = 0
        self.failures = 0
        self.last_error: str | None = None
        self._tasks: tuple[asyncio.Task[Any], ...] = ()
        self.stopped = False

    def beat(self) -> None:
        self.passes += 1
        self.last = self._monotonic()

    def failed(self, exc: BaseException) -> None:
        self.failures += 1
        self.last_error = f"{type(exc).__name__}: {exc}"[:300]
        metrics.LOOP_ERRORS.labels(self.name).inc()

    def watch(self, *tasks: asyncio.Task[Any]) -> None:
        """Report the loop dead when any of ``tasks`` (its workers) ends."""
        self._tasks = tasks
        self.stopped = False
        self.last = self._monotonic()  # its first pass is due from now

    def problem(self) -> str | None:
        """Why this loop is not healthy, or None."""
        if self.stopped:
            return None
        if any(task.done() for task in self._tasks):
            return f"{self.name} loop is not running"
        idle = self._monotonic() - self.last
        if idle > self.stall_after_s:
            return f"{self.name} loop stalled: no pass for {idle:.0f} s"
        return None
