"""The campaign gauges read from the database: leads by status, leads due, campaign state;
only for running and paused campaigns, removed when a campaign leaves those states, and
served on ``/metrics`` by the service's background task."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from dialer import db
from dialer.clock import FakeClock
from dialer.config import Settings
from dialer.runtime import create_app
from dialer.runtime.parts import gauges_part
from dialer.stats.gauges import CampaignGauges
from tests.integration.test_stats_support import H, Seeded, make_campaign, seed


def value(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


@pytest.fixture
async def seeded(fresh_db_url: str) -> AsyncIterator[tuple[asyncpg.Pool, Seeded, FakeClock]]:
    pool = await db.create_pool(fresh_db_url, min_size=1, max_size=4)
    clock = FakeClock()
    async with pool.acquire() as conn:
        data = await seed(conn, clock.now())
        # One retry lead is not due before an hour from now.
        await conn.execute(
            "UPDATE leads SET next_attempt_at = $2 WHERE id = $1", data.lead_ids[4], clock.now() + H
        )
    yield pool, data, clock
    await pool.close()


async def test_running_and_paused_campaigns_are_exported(
    seeded: tuple[asyncpg.Pool, Seeded, FakeClock],
) -> None:
    pool, data, clock = seeded
    async with pool.acquire() as conn:
        draft = await make_campaign(conn, clock.now(), state="draft")
        paused = await make_campaign(conn, clock.now(), state="paused")
    gauges = CampaignGauges()
    try:
        await gauges.refresh(pool, clock.now())
        cid = str(data.campaign_id)
        assert value("dialer_leads", campaign=cid, status="new") == 4
        assert value("dialer_leads", campaign=cid, status="retry") == 2
        assert value("dialer_leads", campaign=cid, status="paused") == 0  # every status
        assert value("dialer_leads_due", campaign=cid) == 6  # new 4, retry 1, callback 1
        assert value("dialer_campaign_state", campaign=cid, state="running") == 1
        assert value("dialer_campaign_state", campaign=str(paused), state="paused") == 1
        assert value("dialer_leads", campaign=str(paused), status="new") == 0
        assert value("dialer_campaign_state", campaign=str(draft), state="draft") is None
        assert value("dialer_leads", campaign=str(draft), status="new") is None
        refreshed = value("dialer_campaign_figures_refreshed_timestamp_seconds")
        assert refreshed == clock.now().timestamp()
        assert value("dialer_agents_paused", campaign=cid, reason="break") == 0  # a default

        # An agent on a break is counted under its pause code until the break ends.
        await pool.execute(
            "UPDATE agents SET state = 'paused', state_reason = 'BREAK' WHERE id = $1",
            data.agent_id,
        )
        await gauges.refresh(pool, clock.now())
        assert value("dialer_agents_paused", campaign=cid, reason="BREAK") == 1
        assert value("dialer_agents_paused", campaign=cid, reason="break") == 0
        await pool.execute("UPDATE agents SET state = 'offline' WHERE id = $1", data.agent_id)
        await gauges.refresh(pool, clock.now())
        assert value("dialer_agents_paused", campaign=cid, reason="break") == 0  # a default

        # Paused: the state series moves; stopped: every series of the campaign goes.
        await pool.execute("UPDATE campaigns SET state = 'paused' WHERE id = $1", data.campaign_id)
        await pool.execute("UPDATE campaigns SET state = 'stopped' WHERE id = $1", paused)
        clock.advance(2 * 3600)  # the retry lead is due now
        await gauges.refresh(pool, clock.now())
        assert value("dialer_campaign_state", campaign=cid, state="running") is None
        assert value("dialer_campaign_state", campaign=cid, state="paused") == 1
        assert value("dialer_leads_due", campaign=cid) == 7
        assert value("dialer_campaign_state", campaign=str(paused), state="paused") is None
        assert value("dialer_leads", campaign=str(paused), status="new") is None
        assert value("dialer_leads_due", campaign=str(paused)) is None
    finally:
        gauges.clear()
    assert value("dialer_leads", campaign=cid, status="new") is None


async def test_the_service_refreshes_them_and_serves_them_on_metrics(
    seeded: tuple[asyncpg.Pool, Seeded, FakeClock],
) -> None:
    pool, data, clock = seeded
    app = create_app(Settings(), pool=pool, clock=clock, background=[gauges_part])
    client = TestClient(TestServer(app))
    await client.start_server()  # runs the cleanup context: the first refresh happens now
    try:
        resp = await client.get("/metrics")
        text = await resp.text()
    finally:
        await client.close()
    found = {
        (s.name, s.labels.get("campaign"), s.labels.get("status"), s.labels.get("state")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    cid = str(data.campaign_id)
    assert found[("dialer_leads", cid, "completed", None)] == 2
    assert found[("dialer_campaign_state", cid, None, "running")] == 1
    assert ("dialer_leads_due", cid, None, None) in found
    # Stopping the service removes what it exported.
    assert value("dialer_leads", campaign=cid, status="completed") is None
