"""The composition root wires one engine into the HTTP app, and both front ends act on it
the same way: a campaign started through the API dials at once, without waiting for the
engine's next look at the campaigns (its poll is made an hour long here)."""

from __future__ import annotations

import asyncpg
from aiohttp.test_utils import TestClient, TestServer

from dialer.auth.tokens import create_token
from dialer.clock import FakeClock
from dialer.config import Settings
from dialer.engine.runner import RunnerOptions
from dialer.http.keys import ENGINE
from dialer.runtime import EngineParts, create_app, engine_part
from dialer.telephony import LoopTimer, SimGatewayParams, SimulatedGateway
from tests.integration.engine_support import (
    FAST_HUMANS,
    add_leads,
    make_campaign,
    us_numbers,
    wait_for,
)
from tests.integration.test_engine import NOON_SF


async def test_an_api_start_dials_at_once_not_at_the_engines_next_poll(
    epool: asyncpg.Pool,
) -> None:
    clock = FakeClock(NOON_SF)
    async with epool.acquire() as conn:
        campaign = await make_campaign(conn, clock.now(), dial_mode="agentless")
        await add_leads(conn, campaign["id"], us_numbers(5), clock.now())
        token, _ = await create_token(conn, name="m", role="manager", now=clock.now())
    timer = LoopTimer(50.0)
    parts = EngineParts(
        timer=timer,
        gateway=SimulatedGateway(timer, SimGatewayParams(callee=FAST_HUMANS), seed=1),
        options=RunnerOptions(lease_ttl_s=5, tick_s=0.05, shutdown_timeout_s=5),
        poll_s=3600.0,  # without the wake-up nothing would dial during this test
    )
    app = create_app(Settings(), pool=epool, clock=clock, background=[engine_part(parts)])
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        engine = client.app[ENGINE]  # type: ignore[index]
        assert engine.runners == {}
        resp = await client.post(
            f"/api/v1/campaigns/{campaign['id']}/start",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["state"] == "running"
        dialled = await wait_for(
            lambda: epool.fetchval(
                "SELECT count(*) FROM attempts WHERE campaign_id = $1", campaign["id"]
            ),
            timeout=30,
        )
        assert dialled > 0
        assert campaign["id"] in engine.runners
    finally:
        await client.close()
