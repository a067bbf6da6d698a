"""A database outage longer than the campaign lease loses no outcome: the runner keeps
following its calls and holding their records while PostgreSQL is out of reach (through a
proxy that drops every connection and refuses new ones), and writes them when it is back;
no attempt is closed ``unknown`` and no lead is dialed twice. Time moves on the injected
clock (past the lease's life); nothing sleeps for timing."""

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

LONG_CALLS = humans(ring_min_s=2, ring_max_s=4, talk_s=60)
TTL = 3.0


async def test_an_outage_past_the_lease_loses_no_outcome_and_redials_nobody(
    pools: tuple[PgProxy, asyncpg.Pool, asyncpg.Pool],
) -> None:
    proxy, service, direct = pools
    clock = FakeClock(NOON_SF)
    cid, _, _ = await started_campaign(
        direct, clock.now(), us_numbers(12), dial_mode="agentless", max_lines=4
    )
    options = RunnerOptions(lease_ttl_s=TTL, tick_s=0.05, shutdown_timeout_s=2)

    async def in_flight() -> int:
        return int(
            await direct.fetchval(
                "SELECT count(*) FROM attempts WHERE campaign_id = $1 AND ended_at IS NULL", cid
            )
        )

    async with running_engine(
        service, clock=clock, callee=LONG_CALLS, speed=10, options=options
    ) as running:
        await wait_for(lambda: _at_least(in_flight, 3), timeout=60)
        runner = running.engine.runners[cid]
        open_before = await in_flight()

        proxy.refuse = True  # PostgreSQL out of reach: every connection dropped
        proxy.drop()
        clock.advance(2 * TTL)  # the lease expires while the database is away

        async def calls_ended_unwritten() -> bool:
            return not runner.flow.calls and runner.recorder.failures >= 6

        await wait_for(calls_ended_unwritten, timeout=60)
        proxy.refuse = False

        async def settled() -> bool:
            row = await direct.fetchrow(
                "SELECT count(*) FILTER (WHERE ended_at IS NULL) AS open, count(*) AS total"
                " FROM attempts WHERE campaign_id = $1",
                cid,
            )
            return row["open"] == 0 and row["total"] >= open_before

        await wait_for(settled, timeout=60)
        assert running.engine.runners.get(cid) is runner, "the runner was replaced"
    unknown = await direct.fetchval(
        "SELECT count(*) FROM attempts WHERE campaign_id = $1 AND outcome = 'unknown'", cid
    )
    assert unknown == 0
    twice = await direct.fetchval(
        "SELECT count(*) FROM (SELECT lead_id FROM attempts WHERE campaign_id = $1"
        " GROUP BY lead_id HAVING count(*) > 1) x",
        cid,
    )
    assert twice == 0


async def _at_least(count: object, n: int) -> bool:
    return await count() >= n  # type: ignore[operator]
