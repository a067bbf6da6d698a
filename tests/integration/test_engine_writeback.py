"""An outage longer than the lease, during which another process takes the campaign over:
the replacement closes the cut-off runner's calls ``unknown``, and when the database
answers again the old runner writes their real outcomes back, fenced (only over its own
recovered attempts, once, and a lead the replacement or the CRM touched since keeps that
change). A person who was talking to an agent is not redialed: their lead waits for the
agent's disposition, which applies. Time: a 40-second outage on the injected clock."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from dialer.auth.roles import SYSTEM
from dialer.clock import FakeClock
from dialer.engine.dispositions import record_disposition
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

TTL = 3.0
OUTAGE_S = 40.0
TALKERS = humans(ring_min_s=2, ring_max_s=3, talk_s=50)


async def test_a_runner_cut_off_past_a_takeover_writes_its_outcomes_back_fenced(
    pools: tuple[PgProxy, asyncpg.Pool, asyncpg.Pool],
) -> None:
    proxy, cut_off, direct = pools
    clock = FakeClock(NOON_SF)
    cid, [lead_a, lead_b], _ = await started_campaign(
        direct, clock.now(), us_numbers(2), agents=2, dial_mode="progressive"
    )
    options = RunnerOptions(lease_ttl_s=TTL, tick_s=0.05, shutdown_timeout_s=30)

    async def attempts() -> list[asyncpg.Record]:
        return await direct.fetch(
            "SELECT * FROM attempts WHERE campaign_id = $1 ORDER BY lead_id", cid
        )

    old = running_engine(
        cut_off, instance_id="old", clock=clock, callee=TALKERS, speed=10, options=options
    )
    async with old as first:

        async def both_talking() -> bool:
            runner = first.engine.runners.get(cid)
            states = [c.state for c in runner.flow.calls.values()] if runner else []
            return states == ["connected", "connected"]

        await wait_for(both_talking, timeout=60)
        proxy.refuse = True  # the old process is cut off from PostgreSQL
        proxy.drop()
        clock.advance(OUTAGE_S)  # its leases lapse; another process takes the campaign
        new = running_engine(direct, instance_id="new", clock=clock, speed=10, options=options)
        async with new as second:

            async def recovered() -> bool:
                rows = await attempts()
                return cid in second.engine.runners and all(r["outcome"] == "unknown" for r in rows)

            await wait_for(recovered, timeout=60)
            # the replacement's (or the CRM's) work on lead b after the recovery
            await direct.execute(
                "UPDATE leads SET status = 'callback', next_attempt_at = $2, updated_at = $3"
                " WHERE id = $1",
                lead_b,
                clock.now() + timedelta(days=1),
                clock.now() + timedelta(seconds=1),
            )
            proxy.refuse = False  # the database answers the old process again

            async def written_back() -> bool:
                return all(r["outcome"] == "completed" for r in await attempts())

            await wait_for(written_back, timeout=90)
            assert cid not in first.engine.runners or first.engine.runners[cid].lost
    rows = await attempts()
    assert [r["lead_id"] for r in rows] == [lead_a, lead_b], "a lead was dialed again"
    for row in rows:
        assert row["connected_at"] is not None and row["agent_id"] is not None
        assert row["recovered_at"] is not None and row["talk_s"] > 0
    events = await direct.fetch(
        "SELECT payload FROM webhook_outbox WHERE type = 'attempt.completed'"
        " AND campaign_id = $1 ORDER BY id",
        cid,
    )
    outcomes = sorted(
        (e["payload"]["outcome"], e["payload"].get("corrects_unknown")) for e in events
    )
    assert outcomes == [("completed", True)] * 2 + [("unknown", None)] * 2
    leads = {
        r["id"]: r
        for r in await direct.fetch("SELECT * FROM leads WHERE id = ANY($1)", [lead_a, lead_b])
    }
    # lead a waits for its disposition (not dialable); lead b keeps the later change
    assert leads[lead_a]["claimed_until"] > clock.now()
    assert leads[lead_b]["status"] == "callback" and leads[lead_b]["claimed_by"] is None
    async with direct.acquire() as conn:
        await record_disposition(
            conn, rows[0]["id"], {"disposition": "sale"}, who=SYSTEM, now=clock.now()
        )
    lead = await direct.fetchrow("SELECT status, claimed_by FROM leads WHERE id = $1", lead_a)
    assert lead["status"] == "completed" and lead["claimed_by"] is None
