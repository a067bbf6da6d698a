"""The agent bus: every process hears about every agent change through PostgreSQL NOTIFY.

An agent's desktop may talk to one ``dialer serve`` process while the runner of its
campaign lives in another. Changes are announced on the ``dialer_agents`` channel (by a
trigger on ``agents`` and by ``store.announce``) inside the transaction that made them, so
a listener never hears of a change that did not commit. One connection per process
listens and hands each message to the local subscribers: campaign runners, WebSockets of
agent desktops, simulated agents. Listeners that may have missed messages (the connection
dropped) are told to resynchronise from the table. A connection that died without a word
(a database restart behind a proxy, a dropped route) is found by a ``SELECT 1`` every
``check_s``; the bus's heartbeat shows on ``/readyz`` while it cannot listen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from dialer.clock import Clock, SystemClock
from dialer.loops import Heartbeat

log = logging.getLogger(__name__)

CHANNEL = "dialer_agents"
CHECK_S = 5.0  # how often the listening connection is asked whether it still answers
Message = dict[str, Any]
Handler = Callable[[Message], None]


class AgentBus:
    """Process-wide listener on ``dialer_agents``; subscribers are plain callbacks."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        clock: Clock | None = None,
        retry_s: float = 1.0,
        check_s: float = CHECK_S,
        check_timeout_s: float = 5.0,
    ) -> None:
        self.pool = pool
        self.retry_s = retry_s
        self.check_s = check_s
        self.check_timeout_s = check_timeout_s
        monotonic = (clock or SystemClock()).monotonic
        self.heartbeat = Heartbeat(
            "agent_bus", monotonic, stall_after_s=3 * check_s + 2 * check_timeout_s
        )
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
        self.heartbeat.watch(self._task)

    async def stop(self) -> None:
        self.heartbeat.stopped = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._release()

    async def _listen(self) -> None:
        """Take a connection and LISTEN on it. The termination listener goes on first, so a
        connection that dies while LISTEN is being sent is noticed too."""
        self._lost.clear()
        async with asyncio.timeout(self.check_timeout_s):
            conn = await self.pool.acquire()
        self._conn = conn
        conn.add_termination_listener(self._on_terminated)
        try:
            async with asyncio.timeout(self.check_timeout_s):
                await conn.add_listener(CHANNEL, self._on_notify)
        except BaseException:
            await self._release(broken=True)
            raise
        self.ready.set()
        self.heartbeat.beat()

    def _on_terminated(self, conn: object) -> None:
        if conn is self._conn:
            self._lost.set()

    async def _release(self, *, broken: bool = False) -> None:
        conn, self._conn = self._conn, None
        self.ready.clear()
        if conn is None:
            return
        with contextlib.suppress(Exception):  # a proxy the pool already took back
            conn.remove_termination_listener(self._on_terminated)
        if broken:
            with contextlib.suppress(Exception):
                conn.terminate()  # never wait on a connection that may be dead
        else:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.check_timeout_s):
                    await conn.remove_listener(CHANNEL, self._on_notify)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.check_timeout_s):
                await self.pool.release(conn)

    async def _keep_alive(self) -> None:
        """Every ``check_s`` make sure the connection still answers (a connection a proxy
        or a restart dropped without a word never reports its end); re-listen when it is
        lost, then ask subscribers to resynchronise. Survives any exception."""
        while True:
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._lost.wait(), self.check_s)
                if not self._lost.is_set() and await self._alive():
                    self.heartbeat.beat()
                    continue
                log.warning("agent bus connection lost; reconnecting")
                await self._reconnect()
                log.info("agent bus listening again")
                for resync in list(self._resync.values()):
                    try:
                        resync()
                    except Exception:
                        log.exception("agent bus resync failed")
            except Exception as exc:
                self.heartbeat.failed(exc)
                log.exception("agent bus keep-alive failed; trying again")
                await asyncio.sleep(self.retry_s)

    async def _alive(self) -> bool:
        conn = self._conn
        if conn is None or conn.is_closed():
            return False
        try:
            async with asyncio.timeout(self.check_timeout_s):
                await conn.fetchval("SELECT 1")
        except Exception as exc:
            log.warning("agent bus connection does not answer: %s", exc or type(exc).__name__)
            return False
        return True

    async def _reconnect(self) -> None:
        await self._release(broken=True)
        while self._conn is None:
            try:
                await self._listen()
            except Exception as exc:
                log.warning("agent bus cannot listen yet: %s", exc or type(exc).__name__)
                await asyncio.sleep(self.retry_s)

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            log.warning("unreadable agent bus message", extra={"payload": payload[:200]})
            return
        self.publish_local(message)
