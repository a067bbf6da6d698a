"""Heartbeats of background loops: what ``/readyz`` says about a loop."""

from __future__ import annotations

import asyncio

from dialer.clock import FakeClock
from dialer.loops import Heartbeat


async def test_a_loop_is_stalled_only_after_its_limit_without_a_pass() -> None:
    clock = FakeClock()
    beat = Heartbeat("engine", clock.monotonic, stall_after_s=30)
    clock.advance(30)
    assert beat.problem() is None
    clock.advance(1)
    assert beat.problem() == "engine loop stalled: no pass for 31 s"
    beat.beat()
    assert beat.problem() is None and beat.passes == 1


async def test_a_loop_whose_task_ended_is_not_running_and_a_stopped_one_is_fine() -> None:
    clock = FakeClock()
    beat = Heartbeat("imports", clock.monotonic, stall_after_s=float("inf"))
    idle = asyncio.Event()
    waiting = asyncio.create_task(idle.wait())
    ended = asyncio.create_task(asyncio.sleep(0))
    beat.watch(waiting, ended)
    await ended
    assert beat.problem() == "imports loop is not running"
    beat.stopped = True
    assert beat.problem() is None
    waiting.cancel()


def test_a_failure_is_counted_and_remembered() -> None:
    beat = Heartbeat("scheduler", FakeClock().monotonic, stall_after_s=60)
    beat.failed(ValueError("bad time zone"))
    assert beat.failures == 1 and beat.last_error == "ValueError: bad time zone"
