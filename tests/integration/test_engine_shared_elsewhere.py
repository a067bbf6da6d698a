"""Campaigns sharing agents across engine processes: a runner counts the calls that another
live process has ringing for the agents it shares (read from the attempt records), so two
processes do not both dial for the same free agents. Calls of campaigns that share no agent,
calls already connected, and calls of a process whose lease has lapsed do not count."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from dialer.agents import store as agents
from dialer.auth.roles import SYSTEM
from dialer.clock import FakeClock
from dialer.engine.runner import CampaignRunner, RunnerOptions
from tests.integration.engine_support import (
    NOON_SF,
    add_leads,
    make_campaign,
    running_engine,
    start,
    us_numbers,
    wait_for,
)


async def _calls(
    conn: asyncpg.Connection,
    leads: list[int],
    process: str,
    now: datetime,
    *,
    connected: bool = False,
) -> None:
    """Open calls on ``leads`` placed by ``process`` (connected to an agent or not)."""
    for lead in leads:
        await conn.execute(
            "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, connected_at,"
            " compliance, runner, mode) SELECT id, campaign_id, phone_e164, $2, $3,"
            " '{}'::jsonb, $4, 'predictive' FROM leads WHERE id = $1",
            lead,
            now,
            now if connected else None,
            f"{process}#1",
        )


async def _lease(conn: asyncpg.Connection, process: str, expires: datetime) -> None:
    await conn.execute(
        "INSERT INTO leases (name, owner, expires_at, acquired_at) VALUES ($1, $2, $3, $3)",
        f"engine:{process}",
        process,
        expires,
    )


async def test_calls_another_process_rings_for_shared_agents_count_as_shared(
    epool: asyncpg.Pool,
) -> None:
    clock = FakeClock(NOON_SF)
    now = clock.now()
    async with epool.acquire() as conn:
        mine = (await make_campaign(conn, now, dial_mode="predictive"))["id"]
        shared = (await make_campaign(conn, now, dial_mode="predictive"))["id"]
        apart = (await make_campaign(conn, now, dial_mode="predictive"))["id"]
        await agents.create(conn, {"name": "both", "campaigns": [mine, shared]}, SYSTEM, now=now)
        await agents.create(conn, {"name": "other", "campaigns": [apart]}, SYSTEM, now=now)
        await add_leads(conn, mine, us_numbers(5), now)
        on_shared = await add_leads(conn, shared, us_numbers(9, start=100), now)
        on_apart = await add_leads(conn, apart, us_numbers(2, start=200), now)
        await _lease(conn, "ghost", now + timedelta(hours=1))
        await _lease(conn, "gone", now - timedelta(minutes=1))
        await _calls(conn, on_shared[:3], "ghost", now)  # counted
        await _calls(conn, on_shared[3:5], "ghost", now, connected=True)  # agent has it
        await _calls(conn, on_shared[5:7], "gone", now)  # its process is gone
        await _calls(conn, on_apart, "ghost", now)  # no agent in common
        await start(conn, mine, now)

    options = RunnerOptions(lease_ttl_s=5, tick_s=0.05, shared_every_s=0.1)
    engine = running_engine(epool, clock=clock, options=options, loop_paced=False)
    async with engine as running:
        runners = running.engine.runners

        async def counted() -> CampaignRunner | None:
            runner = runners.get(mine)
            return runner if runner is not None and runner.shared_elsewhere == 3 else None

        runner = await wait_for(counted)
        assert runner.pacing_state().shared_calls_in_flight == 3
