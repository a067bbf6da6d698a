"""A running engine behind the real HTTP application, with calls that stay connected until
the test hangs them up: what the monitoring tests (API, CLI, console) share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient, TestServer

from dialer.auth.tokens import create_token
from dialer.clients import create_client
from dialer.clock import FakeClock
from dialer.config import Settings
from dialer.http.keys import ENGINE
from dialer.runtime import create_app
from dialer.sim.model import TalkDistribution
from tests.integration.engine_support import (
    NOON_SF,
    RunningEngine,
    add_agent,
    add_leads,
    humans,
    make_campaign,
    running_engine,
    start,
    us_numbers,
    wait_for,
)

# Every callee answers and talks "forever" (until the test hangs up).
TALKERS = humans(
    ring_min_s=1, ring_max_s=2, talk_s=1e6, talk_dist=TalkDistribution.LOGNORMAL, talk_sigma=0.01
)


@dataclass
class Floor:
    client: TestClient
    pool: asyncpg.Pool
    running: RunningEngine
    campaign: int
    agent: int
    tokens: dict[str, str]

    async def call(
        self, method: str, path: str, *, as_: str = "manager", json: Any = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.tokens.get(as_, as_)}"}
        resp = await self.client.request(method, path, json=json, headers=headers)
        ctype = resp.content_type
        return resp.status, await resp.json() if ctype == "application/json" else await resp.text()

    async def live_call(self) -> asyncpg.Record:
        """The call connected to the agent (waits for the engine to connect one)."""

        async def connected() -> asyncpg.Record | None:
            return await self.pool.fetchrow(
                "SELECT * FROM attempts WHERE campaign_id = $1 AND connected_at IS NOT NULL"
                " AND ended_at IS NULL ORDER BY id LIMIT 1",
                self.campaign,
            )

        row = await wait_for(connected)
        # The switch bridges just after the agent is seated.
        await wait_for(lambda: _bridged(self.running, row["gateway_call_id"]))
        return row


async def _bridged(running: RunningEngine, call_id: str) -> bool:
    call = running.gateway._calls.get(call_id)
    return call is not None and call.bridged


@asynccontextmanager
async def monitored_floor(pool: asyncpg.Pool, *, leads: int = 1) -> AsyncIterator[Floor]:
    """A running campaign with one signed-in agent and ``leads`` leads, an engine on the
    simulated gateway, and the HTTP application of the same process."""
    clock = FakeClock(NOON_SF)
    now = clock.now()
    async with pool.acquire() as conn:
        campaign = await make_campaign(conn, now)
        agent = await add_agent(conn, campaign["id"], now)
        await add_leads(conn, campaign["id"], us_numbers(leads), now)
        await start(conn, campaign["id"], now)
        other = await create_client(conn, f"other-{campaign['id']}")
        tokens = {}
        for role, client_id, agent_id in (
            ("manager", None, None),
            ("viewer", None, None),
            ("agent", None, agent),
            ("manager", other["id"], None),
        ):
            name = f"{role}-{client_id}-{agent_id}-{now.timestamp()}-{campaign['id']}"
            tokens[role if client_id is None else "other"], _ = await create_token(
                conn, name=name, role=role, client_id=client_id, agent_id=agent_id, now=now
            )
    async with running_engine(pool, clock=clock, callee=TALKERS) as running:
        app = create_app(Settings(), pool=pool, clock=clock)
        app[ENGINE] = running.engine
        client = TestClient(TestServer(app))
        await client.start_server()
        try:
            yield Floor(client, pool, running, campaign["id"], agent, tokens)
        finally:
            await client.close()
