"""Background steps of a switch adapter: tracked, cancelled on close, failures logged.

Adapters react to events synchronously (the engine's callback runs on the event loop) but
often owe the switch a request in return (hang up the other leg, start AMD, destroy a
bridge). Those requests run as tasks kept here, so none is lost silently or outlives the
gateway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from dialer.gateway import GatewayError


class Spawner:
    def __init__(self, logger: logging.Logger) -> None:
        self.log = logger
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._reap)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _reap(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, GatewayError):
            self.log.warning("switch request failed: %s", exc)
        elif exc is not None:
            self.log.error("switch step failed", exc_info=exc)
