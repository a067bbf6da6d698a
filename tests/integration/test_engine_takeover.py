"""Taking a campaign over from a process that is still alive (it lived through a database
outage and its runner still follows its calls): the new runner leaves those calls to it,
counts them as in flight (its lines are busy, so it dials no more than the rest), and
closes them as ``unknown`` only once that process is gone."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg

from dialer.clock import FakeClock
from dialer.engine.runner import RunnerOptions
from tests.integration.engine_support import (
    NOON_SF,
    humans,
    make_campaign,
    running_engine,
    started_campaign,
    us_numbers,
    wait_for,
)

LINES = 4
TTL = 3.0
# They ring for a minute: the runner's own call is still ringing (in flight) when the test
# looks, however slowly a loaded machine runs it.
LONG_CALLS = humans(ring_min_s=60, ring_max_s=90, talk_s=600)


async def _ghost_calls(
    pool: asyncpg.Pool, campaign_id: int, leads: list[int], now: datetime
) -> None:
    """Calls in flight placed by process ``ghost``, whose engine lease is live."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO leases (name, owner, expires_at, acquired_at) VALUES"
            " ('engine:ghost', 'ghost', $1, $2)",
            now + timedelta(seconds=TTL),
            now,
        )
        for lead in leads:
            await conn.execute(
                "UPDATE leads SET claimed_by = 'ghost#1', claimed_until = 'infinity',"
                " attempts_count = 1, status = 'retry',"
                " next_attempt_at = $2::timestamptz + interval '1 hour',"
                " last_attempt_at = $2, updated_at = $2 WHERE id = $1",
                lead,
                now,
            )
            await conn.execute(
                "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, compliance,"
                " runner, mode) SELECT id, campaign_id, phone_e164, $2, '{}'::jsonb, 'ghost#1',"
                " 'agentless' FROM leads WHERE id = $1",
                lead,
                now,
            )


async def test_a_live_processs_calls_are_left_to_it_and_count_as_in_flight(
    epool: asyncpg.Pool,
) -> None:
    clock = FakeClock(NOON_SF)
    cid, leads, _ = await started_campaign(
        epool, clock.now(), us_numbers(20), dial_mode="agentless", max_lines=LINES
    )
    ghost = leads[:3]
    await _ghost_calls(epool, cid, ghost, clock.now())

    async def mine() -> int:
        return int(
            await epool.fetchval(
                "SELECT count(*) FROM attempts WHERE campaign_id = $1 AND runner LIKE 'test#%'",
                cid,
            )
        )

    options = RunnerOptions(lease_ttl_s=TTL, tick_s=0.05, orphans_every_s=0.1)
    # Wall and monotonic time move together, only when the test says: the claim and lease
    # lapses below are decided by the test, not by how fast the machine runs it.
    engine = running_engine(
        epool, clock=clock, callee=LONG_CALLS, options=options, loop_paced=False
    )
    async with engine as running:
        await wait_for(mine)  # the runner dials: one line was free
        still_open = await epool.fetchval(
            "SELECT count(*) FROM attempts WHERE lead_id = ANY($1) AND ended_at IS NULL", ghost
        )
        assert still_open == 3, "the live process's calls were closed under it"
        assert await mine() == 1, "it dialed lines the live process still uses"
        runner = running.engine.runners[cid]
        assert runner.inherited == 3
        assert runner.pacing_state().calls_in_flight == LINES
        # ghost stops renewing: its engine lease lapses. Only its own: jumping the clock
        # past TTL would lapse this runner's lease too, and a launch the fence refuses
        # drops its leads from the hopper until their claims expire, a minute later.
        await epool.execute(
            "UPDATE leases SET expires_at = $1 WHERE name = 'engine:ghost'",
            clock.now() - timedelta(seconds=1),
        )
        clock.advance(2 * options.orphans_every_s)  # the runner's next look for orphans

        async def closed() -> bool:
            return bool(
                await epool.fetchval(
                    "SELECT bool_and(outcome = 'unknown') FROM attempts WHERE lead_id = ANY($1)",
                    ghost,
                )
            )

        await wait_for(closed)
        await wait_for(lambda: _at_least(mine, LINES))
        assert runner.inherited == 0


async def _at_least(count: object, n: int) -> bool:
    return await count() >= n  # type: ignore[operator]


async def test_simulated_agents_of_a_runner_that_lost_its_lease_stay_logged_in(
    epool: asyncpg.Pool,
) -> None:
    """Two processes simulate the same agent rows: the one that lost the campaign must not
    log out the agents the new holder just logged in (its campaign would stand idle)."""
    from dialer.agents.bus import AgentBus
    from dialer.engine.simagents import SimulatedAgents
    from dialer.telephony import LoopTimer

    clock = FakeClock(NOON_SF)
    async with epool.acquire() as conn:
        campaign = await make_campaign(conn, clock.now(), dial_mode="predictive")
    bus = AgentBus(epool)
    await bus.start()
    timer = LoopTimer(50.0)
    try:

        def agents() -> SimulatedAgents:
            return SimulatedAgents(
                epool, bus, timer, clock, campaign_id=campaign["id"], client_id=1, count=3
            )

        lost, holder = agents(), agents()
        await lost.start()
        await holder.start()  # the new holder logs the same rows in
        await lost.stop(logout=False)
        states = await epool.fetch("SELECT state FROM agents WHERE id = ANY($1)", holder.ids)
        assert {r["state"] for r in states} == {"available"}
        await holder.stop()
        states = await epool.fetch("SELECT state FROM agents WHERE id = ANY($1)", holder.ids)
        assert {r["state"] for r in states} == {"offline"}
    finally:
        await bus.stop()


async def test_a_batch_the_lapsed_lease_refuses_keeps_its_leads_and_dials_once_renewed(
    epool: asyncpg.Pool,
) -> None:
    """The runner's lease lapsed before its renewal (a stalled process, a long outage): the
    fence refuses the batch, the leads stay in the hopper (not stranded in claims for a
    minute), nothing is launched until the lease is renewed, and then dialing resumes."""
    clock = FakeClock(NOON_SF)
    cid, _, _ = await started_campaign(
        epool, clock.now(), us_numbers(8), dial_mode="agentless", max_lines=LINES
    )
    options = RunnerOptions(lease_ttl_s=TTL, tick_s=0.05, orphans_every_s=0.1)

    async def attempts() -> int:
        return int(
            await epool.fetchval("SELECT count(*) FROM attempts WHERE campaign_id = $1", cid)
        )

    engine = running_engine(
        epool, clock=clock, callee=LONG_CALLS, options=options, loop_paced=False
    )
    async with engine as running:
        await wait_for(lambda: _at_least(attempts, LINES))  # every line rings
        runner = await wait_for(lambda: _listed(running.engine.runners, cid))
        await epool.execute(  # lapsed, and the runner's clock says no renewal is due yet
            "UPDATE leases SET expires_at = $2 WHERE name = $1",
            f"campaign:{cid}",
            clock.now() - timedelta(seconds=1),
        )
        for call in await epool.fetch(
            "SELECT gateway_call_id FROM attempts WHERE campaign_id = $1", cid
        ):
            await running.gateway.hangup(call["gateway_call_id"])
        await wait_for(lambda: _lapsed(runner))
        assert await attempts() == LINES, "a dial was written past the lease's expiry"
        assert len(runner.hopper.leads) == 8 - LINES, "refused leads left the hopper"
        clock.advance(TTL)  # the renewal falls due
        await wait_for(lambda: _at_least(attempts, 8))
        assert not runner.dialing.lapsed


async def _lapsed(runner: Any) -> bool:
    return bool(runner.dialing.lapsed) and runner.launcher.pending == 0


async def _listed(runners: dict[int, Any], cid: int) -> Any:
    return runners.get(cid)
