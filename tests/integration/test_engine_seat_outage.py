"""A person who answers while the database is out of reach still reaches a free agent.

The runner seats the call from its own picture of the agents and writes the connect when
the database answers again (through a proxy that drops every connection and refuses new
ones); the call is then recorded once, connected, with its agent.
"""

from __future__ import annotations

import asyncpg

from dialer.clock import FakeClock
from dialer.engine.runner import RunnerOptions
from tests.fakes.pgproxy import PgProxy
from tests.integration.engine_support import (
    NOON_SF,
    humans,
    running_engine,
    started_campaign,
    us_numbers,
    wait_for,
)

# Every callee answers, after ringing long enough for the test to cut the database first.
SLOW_ANSWERS = humans(ring_min_s=12, ring_max_s=14, talk_s=20)


async def test_a_person_answering_while_the_database_is_away_is_bridged_and_written_once(
    pools: tuple[PgProxy, asyncpg.Pool, asyncpg.Pool],
) -> None:
    proxy, service, direct = pools
    clock = FakeClock(NOON_SF)
    cid, [lead_id], [agent_id] = await started_campaign(
        direct, clock.now(), us_numbers(1), agents=1, dial_mode="progressive"
    )
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
