"""The agent bus hears agents again after its connection dies, loudly (the server ended
it, as a restart does) or silently (a proxy or a route dropped it: no error ever comes),
asks its subscribers to resynchronise, and shows on its heartbeat while it cannot listen."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from itertools import count

import asyncpg
import pytest

from dialer import db
from dialer.agents.bus import CHANNEL, AgentBus
from dialer.clock import FakeClock
from tests.fakes.pgproxy import PgProxy
from tests.integration.engine_support import wait_for

_seq = count(1)


@pytest.fixture
async def proxied(
    fresh_db_url: str,
) -> AsyncIterator[tuple[PgProxy, asyncpg.Pool, asyncpg.Connection]]:
    proxy = PgProxy(fresh_db_url)
    url = await proxy.start()
    pool = await db.create_pool(url, min_size=1, max_size=4)
    direct = await asyncpg.connect(fresh_db_url)
    yield proxy, pool, direct
    await direct.close()
    await pool.close()
    await proxy.close()


class Heard:
    def __init__(self, bus: AgentBus, direct: asyncpg.Connection) -> None:
        self.messages: list[int] = []
        self.resyncs = 0
        self.direct = direct
        bus.subscribe(lambda m: self.messages.append(m["n"]), on_resync=self._resync)

    def _resync(self) -> None:
        self.resyncs += 1

    async def announce(self) -> int:
        n = next(_seq)
        await self.direct.execute("SELECT pg_notify($1, $2)", CHANNEL, json.dumps({"n": n}))
        return n

    async def hears_a_new_message(self) -> bool:
        """Announce one more and see whether it arrives (called until it does)."""
        last = await self.announce()
        for _ in range(20):
            if last in self.messages:
                return True
            await self.direct.execute("SELECT 1")  # a round trip, not a timed wait
        return last in self.messages


async def test_a_connection_ended_by_the_server_is_replaced(
    proxied: tuple[PgProxy, asyncpg.Pool, asyncpg.Connection],
) -> None:
    _, pool, direct = proxied
    bus = AgentBus(pool, check_s=0.2, check_timeout_s=1.0, retry_s=0.05)
    heard = Heard(bus, direct)
    await bus.start()
    try:
        await wait_for(heard.hears_a_new_message)
        assert bus._conn is not None
        await direct.execute("SELECT pg_terminate_backend($1)", bus._conn.get_server_pid())
        await wait_for(lambda: _true(heard.resyncs >= 1))
        await wait_for(heard.hears_a_new_message)
    finally:
        await bus.stop()


async def test_a_connection_that_died_silently_is_found_and_replaced(
    proxied: tuple[PgProxy, asyncpg.Pool, asyncpg.Connection],
) -> None:
    proxy, pool, direct = proxied
    clock = FakeClock()
    bus = AgentBus(pool, clock=clock, check_s=0.2, check_timeout_s=0.5, retry_s=0.05)
    heard = Heard(bus, direct)
    await bus.start()
    try:
        await wait_for(heard.hears_a_new_message)
        proxy.refuse = True  # the database stays out of reach for a while
        assert proxy.blackhole() >= 1
        clock.advance(bus.heartbeat.stall_after_s + 1)
        await heard.announce()  # lost with the dead connection: subscribers must resync

        async def reported() -> bool:
            return bus.heartbeat.problem() is not None

        await wait_for(reported)
        assert "agent_bus" in (bus.heartbeat.problem() or "")
        proxy.refuse = False
        await wait_for(lambda: _true(heard.resyncs >= 1))
        await wait_for(heard.hears_a_new_message)
        assert bus.heartbeat.problem() is None
    finally:
        await bus.stop()


async def _true(value: bool) -> bool:
    return value
