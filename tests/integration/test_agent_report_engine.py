"""The per-agent report against the engine's own call records: an agent's talk time in the
report (from the agent state log) is the talk time of the calls that agent took
(``attempts.talk_s``), for paced calls and for a manual dial whose ringing the agent waited
through. The engine runs in real time (speed 1) on a wall clock that starts at a fixed
instant and moves with the event loop, so the calling rules see a known hour."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg

from dialer.auth.roles import SYSTEM
from dialer.engine import manual
from dialer.stats.agents import agent_report
from tests.integration.engine_support import (
    add_agent,
    add_leads,
    humans,
    make_campaign,
    running_engine,
    start,
    wait_for,
)

NOON_NY = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
SHORT_CALLS = humans(ring_min_s=0.5, ring_max_s=1.0, talk_s=1.0)


class TickingClock:
    """A wall clock from a fixed instant, moving with the event loop (real seconds)."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.t0 = asyncio.get_running_loop().time()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=asyncio.get_running_loop().time() - self.t0)

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()


async def test_report_talk_time_is_the_calls_talk_time(pool: asyncpg.Pool) -> None:
    clock = TickingClock(NOON_NY)
    since = clock.now()
    async with pool.acquire() as conn:
        campaign = await make_campaign(conn, since)
        cid = campaign["id"]
        await add_leads(conn, cid, [f"+1212555{i:04d}" for i in range(6)], since)
        await start(conn, cid, since)
    async with running_engine(
        pool, speed=1.0, callee=SHORT_CALLS, sim_agents=2, clock=clock, loop_paced=False
    ):

        async def all_done() -> bool:
            return bool(
                await pool.fetchval(
                    "SELECT count(*) = 6 FROM attempts WHERE campaign_id = $1"
                    " AND ended_at IS NOT NULL AND (disposition IS NOT NULL"
                    " OR connected_at IS NULL)",
                    cid,
                )
            )

        await wait_for(all_done, timeout=60)
        async with pool.acquire() as conn:  # a manual dial: the agent waits through the ring
            manual_agent = await add_agent(conn, cid, clock.now())
        async with pool.acquire() as conn:
            got = await manual.request_dial(
                conn,
                manual.Request(manual_agent, cid, "+12125559999"),
                who=SYSTEM,
                now=clock.now(),
            )
        await wait_for(
            lambda: pool.fetchval(
                "SELECT ended_at IS NOT NULL FROM attempts WHERE id = $1", got["attempt_id"]
            )
        )
    until = clock.now()
    async with pool.acquire() as conn:
        report = await agent_report(
            conn, scope=None, campaign_id=cid, since=since, until=until, now=until
        )
        talked = {
            r["agent_id"]: (r["talk"], r["calls"])
            for r in await conn.fetch(
                "SELECT agent_id, sum(talk_s) AS talk, count(*) AS calls FROM attempts"
                " WHERE campaign_id = $1 AND connected_at IS NOT NULL GROUP BY agent_id",
                cid,
            )
        }
    lines = {a["agent_id"]: a for a in report["agents"]}
    assert set(talked) <= set(lines) and manual_agent in talked
    for agent_id, (talk, calls) in talked.items():
        # The agent's state change and the call's record are two writes a moment apart (more
        # on a loaded machine): within 0.15 s a call, well short of the 0.5-1 s ring.
        assert abs(lines[agent_id]["talk_s"] - talk) < 0.15 * calls, (agent_id, lines[agent_id])
    assert lines[manual_agent]["dialing_s"] >= 0.4  # it waited through the ring (0.5-1 s)
    assert sum(a["talk_s"] for a in lines.values()) > 1.0
