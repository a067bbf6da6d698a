"""The running engine and a held pause: the call dialed for a free agent who then pauses is
not abandoned, and the pause comes after it (or once the call is gone, or at the deadline).

One agent on a progressive campaign: the runner dials one call for them; the test waits for
that call's attempt row and pauses the agent while it rings.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from dialer.agents import store as agents
from dialer.clock import FakeClock
from dialer.sim.model import CalleeModel
from tests.integration.engine_support import (
    add_agent,
    add_leads,
    make_campaign,
    running_engine,
    start,
    us_numbers,
    wait_for,
)

NOON_SF = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # Monday noon in San Francisco


def _callees(p_human: float) -> CalleeModel:
    """Every callee answers (a person) or none does, after 10-12 s of ringing."""
    return CalleeModel(
        p_human=p_human,
        p_machine=0.0,
        p_busy=0.0,
        p_failed=0.0,
        ring_min_s=10,
        ring_max_s=12,
        talk_s=5.0,
    )


async def _floor(pool: asyncpg.Pool, clock: FakeClock) -> tuple[int, int]:
    async with pool.acquire() as conn:
        campaign = await make_campaign(conn, clock.now(), dial_mode="progressive")
        cid = int(campaign["id"])
        await add_leads(conn, cid, us_numbers(3), clock.now())
        agent = await add_agent(conn, cid, clock.now())
        await start(conn, cid, clock.now())
    return cid, agent


async def _pause_while_ringing(pool: asyncpg.Pool, cid: int, agent: int, clock: FakeClock) -> None:
    async def ringing() -> bool:
        return bool(
            await pool.fetchval(
                "SELECT count(*) FROM attempts WHERE campaign_id = $1 AND ended_at IS NULL"
                " AND connected_at IS NULL",
                cid,
            )
        )

    await wait_for(ringing, timeout=30.0, every=0.01)
    async with pool.acquire() as conn:
        row, _ = await agents.act(conn, agent, "pause", scope=None, now=clock.now(), reason="lunch")
    assert (row["state"], row["pending_action"]) == ("available", "pause")  # held


async def _until_state(pool: asyncpg.Pool, agent: int, state: str) -> None:
    """Wait until the agent's row is in ``state``."""

    async def reached() -> bool:
        return await pool.fetchval("SELECT state FROM agents WHERE id = $1", agent) == state

    await wait_for(reached, timeout=60.0)


async def test_a_free_agent_pausing_while_their_call_rings_takes_it_then_pauses(
    epool: asyncpg.Pool,
) -> None:
    clock = FakeClock(NOON_SF)
    cid, agent = await _floor(epool, clock)
    async with running_engine(epool, clock=clock, speed=5.0, callee=_callees(1.0)):
        await _pause_while_ringing(epool, cid, agent, clock)

        await _until_state(epool, agent, "wrap_up")
        async with epool.acquire() as conn:
            row, _ = await agents.act(conn, agent, "finish", scope=None, now=clock.now())
    assert (row["state"], row["state_reason"], row["pending_action"]) == ("paused", "lunch", None)
    outcomes = await epool.fetch(
        "SELECT outcome, agent_id FROM attempts WHERE campaign_id = $1", cid
    )
    assert [(r["outcome"], r["agent_id"]) for r in outcomes] == [("completed", agent)]
    states = await epool.fetch(
        "SELECT state FROM agent_state_log WHERE agent_id = $1 ORDER BY id", agent
    )
    assert [r["state"] for r in states][-4:] == ["available", "on_call", "wrap_up", "paused"]


async def test_a_held_pause_applies_when_the_call_ends_unanswered(epool: asyncpg.Pool) -> None:
    clock = FakeClock(NOON_SF)
    cid, agent = await _floor(epool, clock)
    async with running_engine(epool, clock=clock, speed=5.0, callee=_callees(0.0)):
        await _pause_while_ringing(epool, cid, agent, clock)

        await _until_state(epool, agent, "paused")
        calls = await epool.fetchval("SELECT count(*) FROM attempts WHERE campaign_id = $1", cid)
    assert calls == 1  # nothing was dialed for the agent once they asked to pause


async def test_a_held_pause_applies_at_its_deadline_while_calls_still_ring(
    epool: asyncpg.Pool,
) -> None:
    clock = FakeClock(NOON_SF)
    cid, agent = await _floor(epool, clock)
    async with running_engine(epool, clock=clock, speed=0.5, callee=_callees(0.0)):
        await _pause_while_ringing(epool, cid, agent, clock)
        clock.advance(26.0)  # the hold is 27 s (ring timeout 25 s + 2 s)
        state = await epool.fetchval("SELECT state FROM agents WHERE id = $1", agent)
        assert state == "available"
        clock.advance(1.0)
        await _until_state(epool, agent, "paused")
        ringing = await epool.fetchval(
            "SELECT count(*) FROM attempts WHERE campaign_id = $1 AND ended_at IS NULL", cid
        )
    assert ringing == 1  # the call still rings (call-world time runs at half speed)
    assert clock.now() - NOON_SF == timedelta(seconds=27)
