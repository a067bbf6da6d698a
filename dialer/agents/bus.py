"""The agent bus: every process hears about every agent change through PostgreSQL NOTIFY.

An agent's desktop may talk to one ``dialer serve`` process while the runner of its
campaign lives in another. Changes are announced on the ``dialer_agents`` channel (by a
trigger on ``agents`` and by ``store.announce``) inside the transaction that made them, so
a listener never hears of a change that did not commit. One connection per process
listens and hands each message to the local subscribers: campaign runners, WebSockets of
agent desktops, simulated agents. Listeners that may have missed messages (the connection
dropped) are told to resynchronise from the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from dialer.db import DB_ERRORS

log = logging.getLogger(__name__)

CHANNEL = "dialer_agents"
Message = dict[str, Any]
Handler = Callable[[Message], None]


class AgentBus:
    """Process-wide listener on ``dialer_agents``; subscribers are plain callbacks."""

    def __init__(self, pool: asyncpg.Pool, *, retry_s: float = 1.0) -> None:
        self.pool = pool
        self.retry_s = retry_s
        self._handlers: dict[int, Handler] = {}
        self._by_agent: dict[int, dict[int, Handler]] = {}
        self._resync: dict[int, Callable[[], None]] = {}
        self._next = 0
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self.ready = asyncio.Event()

    def subscribe(
        self,
        handler: Handler,
        *,
        agent_id: int | None = None,
        on_resync: Callable[[], None] | None = None,
    ) -> Callable[[], None]:
        """Call ``handler`` for every message (or only those about ``agent_id``: an agent
        desktop); returns the function that unsubscribes."""
        key = self._next
        self._next += 1
        handlers = self._handlers if agent_id is None else self._by_agent.setdefault(agent_id, {})
        handlers[key] = handler
        if on_resync is not None:
            self._resync[key] = on_resync

        def unsubscribe() -> None:
            handlers.pop(key, None)
            self._resync.pop(key, None)
            if agent_id is not None and not handlers:
                self._by_agent.pop(agent_id, None)

        return unsubscribe

    def publish_local(self, message: Message) -> None:
        """Deliver a message to this process's subscribers only."""
        targets = list(self._handlers.values())
        agent_handlers = self._by_agent.get(message.get("agent"))  # type: ignore[arg-type]
        if agent_handlers:
            targets += agent_handlers.values()
        for handler in targets:
            try:
                handler(message)
            except Exception:
                log.exception("agent bus subscriber failed", extra={"message": message})

    async def start(self) -> None:
        await self._listen()
        self._task = asyncio.create_task(self._keep_alive(), name="agent-bus")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._release()

    async def _listen(self) -> None:
        conn = await self.pool.acquire()
        try:
            await conn.add_listener(CHANNEL, self._on_notify)
        except BaseException:
            await self.pool.release(conn)
            raise
        conn.add_termination_listener(lambda _c: self._lost.set())
        self._conn = conn
        self._lost.clear()
        self.ready.set()

    async def _release(self) -> None:
        conn, self._conn = self._conn, None
        self.ready.clear()
        if conn is None:
            return
        with contextlib.suppress(Exception):
            await conn.remove_listener(CHANNEL, self._on_notify)
        with contextlib.suppress(Exception):
            await self.pool.release(conn)

    async def _keep_alive(self) -> None:
        """Re-listen when the connection drops, then ask subscribers to resynchronise."""
        while True:
            await self._lost.wait()
            log.warning("agent bus connection lost; reconnecting")
            await self._release()
            while self._conn is None:
                try:
                    await self._listen()
                except DB_ERRORS as exc:
                    log.warning("agent bus cannot listen yet: %s", exc)
                    await asyncio.sleep(self.retry_s)
            for resync in list(self._resync.values()):
                resync()

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            log.warning("unreadable agent bus message", extra={"payload": payload[:200]})
            return
        self.publish_local(message)
