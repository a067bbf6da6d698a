"""Time of the telephony world: real time, sped-up simulated time, or virtual time for tests.

Everything that happens on a call (ring times, the 2-second abandon rule, talk, wrap-up) is
measured on a ``Timer``. In production it is the event loop's clock. With the simulated
gateway it may run ``speed`` times faster than the wall clock, so a demo shows an hour of
calling in minutes while the engine's own timers (the abandon deadline) keep their meaning.
Unit tests use ``VirtualTimer`` and move time by hand.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from typing import Protocol


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Timer(Protocol):
    """Monotonic seconds of the call world, and callbacks scheduled on it."""

    speed: float

    def now(self) -> float:
        """Seconds on this timer (never goes backwards)."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` after ``delay`` seconds of this timer's time."""
        ...

    async def sleep(self, delay: float) -> None:
        """Wait ``delay`` seconds of this timer's time."""
        ...


class LoopTimer:
    """The event loop's clock, optionally sped up ``speed`` times."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def now(self) -> float:
        return self.loop.time() * self.speed

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        return self.loop.call_later(max(0.0, delay) / self.speed, callback)

    async def sleep(self, delay: float) -> None:
        await asyncio.sleep(max(0.0, delay) / self.speed)


class _VirtualHandle:
    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class VirtualTimer:
    """Time that only moves when a test calls ``advance``; callbacks run in time order."""

    speed = 1.0

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._heap: list[tuple[float, int, _VirtualHandle, Callable[[], None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        handle = _VirtualHandle()
        heapq.heappush(self._heap, (self._now + max(0.0, delay), next(self._seq), handle, callback))
        return handle

    async def sleep(self, delay: float) -> None:
        future = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        self.call_later(delay, wake)
        await future

    def pending(self) -> int:
        """Callbacks scheduled and not cancelled."""
        return sum(1 for _, _, h, _ in self._heap if not h.cancelled)

    async def advance(self, seconds: float) -> None:
        """Move time forward, running every callback that falls due, in order, and letting
        the tasks they wake run before the next one."""
        end = self._now + seconds
        while self._heap and self._heap[0][0] <= end:
            at, _, handle, callback = heapq.heappop(self._heap)
            self._now = max(self._now, at)
            if not handle.cancelled:
                callback()
                await _settle()
        self._now = end
        await _settle()


async def _settle(rounds: int = 20) -> None:
    """Let ready tasks run (a few loop iterations) without moving time."""
    for _ in range(rounds):
        await asyncio.sleep(0)
