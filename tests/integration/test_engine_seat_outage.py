"""A person who answers while the database is out of reach still reaches a free agent.

The runner seats the call from its own picture of the agents and writes the connect when
the database answers again (through a proxy that drops every connection and refuses new
ones); the call is then recorded once, connected, with its agent.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from dialer.clock import FakeClock
from dialer.engine.runner import RunnerOptions
from dialer.sim.model import CalleeModel
from tests.fakes.pgproxy import PgProxy
from tests.integration.engine_support import (
    add_agent,
    add_leads,
    make_campaign,
    running_engine,
    start,
    us_numbers,
    wait_for,
)

NOON_SF = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
# Every callee answers, after ringing long enough for the test to cut the database first.
SLOW_ANSWERS = CalleeModel(
    p_human=1.0, p_machine=0.0, p_busy=0.0, p_failed=0.0, ring_min_s=12, ring_max_s=14, talk_s=20
)


async def test_a_person_answering_while_the_database_is_away_is_bridged_and_written_once(
    pools: tuple[PgProxy, asyncpg.Pool, asyncpg.Pool],
) -> None:
    proxy, service, direct = pools
    clock = FakeClock(NOON_SF)
    async with direct.acquire() as conn:
        campaign = await make_campaign(conn, clock.now(), dial_mode="progressive")
        cid = campaign["id"]
        (lead_id,) = await add_leads(conn, cid, us_numbers(1), clock.now())
        agent_id = await add_agent(conn, cid, clock.now())
        await start(conn, cid, clock.now())
    options = RunnerOptions(lease_ttl_s=30, tick_s=0.05, shutdown_timeout_s=5)

    async def attempt() -> asyncpg.Record | None:
        return await direct.fetchrow(
            "SELECT id, ended_at, outcome, agent_id, connected_at FROM attempts"
            " WHERE campaign_id = $1",
            cid,
        )

    async with running_engine(
        service, clock=clock, callee=SLOW_ANSWERS, speed=10, options=options
    ) as running:
        dialed = await wait_for(attempt, timeout=60)
        runner = running.engine.runners[cid]
        (call,) = runner.flow.calls.values()
        assert call.state in ("dialing", "ringing")  # not answered yet

        proxy.refuse = True  # PostgreSQL out of reach: every connection dropped
        proxy.drop()

        async def bridged() -> bool:
            return call.state == "connected"

        await wait_for(bridged, timeout=30)
        assert call.agent_id == agent_id
        row = await attempt()
        assert row is not None and row["connected_at"] is None  # not written yet

        proxy.refuse = False

        async def written() -> asyncpg.Record | None:
            row = await attempt()
            return row if row is not None and row["ended_at"] is not None else None

        row = await wait_for(written, timeout=60)
    assert row["id"] == dialed["id"]
    assert row["outcome"] == "completed"
    assert row["agent_id"] == agent_id and row["connected_at"] is not None
    events = await direct.fetchval(
        "SELECT count(*) FROM webhook_outbox WHERE type = 'attempt.completed'"
        " AND (payload->>'attempt_id')::bigint = $1",
        row["id"],
    )
    assert events == 1
    assert await direct.fetchval("SELECT count(*) FROM attempts WHERE lead_id = $1", lead_id) == 1
    assert (
        await direct.fetchval(
            "SELECT count(*) FROM attempts WHERE campaign_id = $1 AND outcome = 'abandoned'", cid
        )
        == 0
    )
