"""One campaign cannot stop the engine: a runner that cannot be built or whose pass raises
is logged with its campaign id and set aside while the other campaigns keep dialing, and
``/readyz`` says when a background loop stalls or dies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from dialer.clock import FakeClock
from dialer.config import Settings
from dialer.engine import runner as runner_module
from dialer.engine.runner import CampaignRunner
from dialer.engine.supervisor import Engine
from dialer.http.keys import ENGINE
from dialer.runtime.app import create_app
from dialer.telephony import LoopTimer, SimGatewayParams, SimulatedGateway
from tests.integration.engine_support import (
    NOON_SF,
    add_leads,
    make_campaign,
    running_engine,
    start,
    us_numbers,
    wait_for,
)


async def _campaign(
    pool: asyncpg.Pool, clock: FakeClock, numbers: list[str], **fields: object
) -> int:
    async with pool.acquire() as conn:
        campaign = await make_campaign(
            conn, clock.now(), **{"dial_mode": "agentless", "max_lines": 3, **fields}
        )
        await add_leads(conn, campaign["id"], numbers, clock.now())
        await start(conn, campaign["id"], clock.now())
    return int(campaign["id"])


async def _dials(pool: asyncpg.Pool, campaign_id: int) -> int:
    return int(
        await pool.fetchval("SELECT count(*) FROM attempts WHERE campaign_id = $1", campaign_id)
    )


async def test_a_runner_that_cannot_be_built_stops_only_its_own_campaign(
    epool: asyncpg.Pool, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(NOON_SF)
    broken = await _campaign(epool, clock, us_numbers(5), dial_mode="power")
    # A stored value the pacer refuses (once a NaN dial level, which the database's check
    # now keeps out since migration 0016): building this campaign's runner raises.
    real = runner_module.PaceControl

    class Refusing(real):  # type: ignore[misc, valid-type]
        def update(self, campaign: Any) -> None:
            if campaign.id == broken:
                raise ValueError("dial_level must be finite")
            super().update(campaign)

    monkeypatch.setattr(runner_module, "PaceControl", Refusing)
    healthy = await _campaign(epool, clock, us_numbers(20, start=100))
    with caplog.at_level(logging.ERROR, logger="dialer.engine"):
        async with running_engine(epool, clock=clock) as running:
            await wait_for(lambda: _dials(epool, healthy), timeout=60)
            assert broken in running.engine.failing
            assert broken not in running.engine.runners
            assert running.engine.heartbeat.problem() is None
    assert await _dials(epool, broken) == 0
    logged = [r for r in caplog.records if getattr(r, "campaign_id", None) == broken]
    assert logged and logged[0].exc_info is not None
    assert running.engine.heartbeat.failures >= 1


async def test_a_pass_that_raises_does_not_end_the_campaigns_dialing(
    epool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(NOON_SF)
    campaign = await _campaign(epool, clock, us_numbers(20, start=200))
    real = CampaignRunner._pace_once
    raised: list[int] = []

    async def flaky(self: CampaignRunner, started: object) -> None:
        if len(raised) < 3:
            raised.append(1)
            raise RuntimeError("a bug in one pacing pass")
        await real(self, started)  # type: ignore[arg-type]

    monkeypatch.setattr(CampaignRunner, "_pace_once", flaky)
    async with running_engine(epool, clock=clock) as running:
        await wait_for(lambda: _dials(epool, campaign), timeout=60)
        runner = running.engine.runners[campaign]
        assert not runner.crashed
    assert len(raised) == 3


async def test_readyz_reports_a_stalled_or_dead_engine_loop(epool: asyncpg.Pool) -> None:
    clock = FakeClock(NOON_SF)
    timer = LoopTimer(50.0)
    engine = Engine(
        epool,
        SimulatedGateway(timer, SimGatewayParams()),
        timer,
        clock,
        instance_id="readyz",
        poll_s=3600,  # one pass, then it waits
    )
    app = create_app(Settings(), pool=epool, clock=clock)
    app[ENGINE] = engine
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        await engine.start()

        async def one_pass() -> bool:
            return engine.heartbeat.passes >= 1

        await wait_for(one_pass)
        resp = await client.get("/readyz")
        assert resp.status == 200, await resp.text()
        clock.advance(3 * 3600 + 31)
        resp = await client.get("/readyz")
        body = await resp.json()
        assert resp.status == 503 and "engine loop stalled" in body["reason"]
        assert engine._task is not None
        engine._task.cancel()  # what an exception escaping the loop would leave
        with contextlib.suppress(asyncio.CancelledError):
            await engine._task
        resp = await client.get("/readyz")
        body = await resp.json()
        assert resp.status == 503 and "engine loop is not running" in body["reason"]
    finally:
        await engine.stop()
        await client.close()


async def test_a_lapsed_engine_lease_counts_as_alive_only_just_after_an_outage(
    epool: asyncpg.Pool,
) -> None:
    clock = FakeClock(NOON_SF)
    timer = LoopTimer(50.0)
    engine = Engine(
        epool, SimulatedGateway(timer, SimGatewayParams()), timer, clock, instance_id="grace"
    )
    ttl = engine.options.lease_ttl_s
    assert engine._takeover_grace() == 0.0  # no outage: a lapsed process is gone
    engine.outage_at = clock.monotonic()  # what a pass that found the database away records
    assert engine._takeover_grace() == ttl
    clock.advance(4 * ttl)
    assert engine._takeover_grace() == 0.0
