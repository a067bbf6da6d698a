"""A free agent's pause is held while calls ring that count on them (dialer.agents.holds).

From the rows only (no engine): the API and the engine may be different processes. Calls
"ring" here as open, unconnected attempts written by the test; time is the test's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from dialer.agents import store as agents
from tests.integration.engine_support import add_agent, add_leads, make_campaign, us_numbers

NOW = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
HOLD = timedelta(seconds=27)  # the default 25-s ring timeout + the 2-s abandon wait


async def _ring(conn: asyncpg.Connection, campaign_id: int, n: int, start: int = 0) -> list[int]:
    """``n`` calls of the campaign ringing for no agent yet (attempt ids)."""
    leads = await add_leads(conn, campaign_id, us_numbers(n, start), NOW)
    return [
        await conn.fetchval(
            "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, compliance)"
            " SELECT id, campaign_id, phone_e164, $2, '{}' FROM leads WHERE id = $1 RETURNING id",
            lead,
            NOW,
        )
        for lead in leads
    ]


async def _end(conn: asyncpg.Connection, attempts: list[int]) -> None:
    await conn.execute(
        "UPDATE attempts SET ended_at = $2, outcome = 'no_answer' WHERE id = ANY($1)",
        attempts,
        NOW,
    )


async def _row(conn: asyncpg.Connection, agent_id: int) -> dict[str, object]:
    return agents.present(await agents.get(conn, agent_id, None))


Floor = tuple[asyncpg.Connection, int, int, int]


@pytest.fixture
async def floor(pool: asyncpg.Pool) -> AsyncIterator[Floor]:
    """(connection, campaign, agent A, agent B): two free agents of one predictive campaign."""
    async with pool.acquire() as conn:
        campaign = await make_campaign(conn, NOW, dial_mode="predictive")
        cid = int(campaign["id"])
        a, b = await add_agent(conn, cid, NOW), await add_agent(conn, cid, NOW)
        yield conn, cid, a, b


async def test_a_pause_with_no_call_counting_on_the_agent_applies_at_once(floor: Floor) -> None:
    conn, cid, a, _ = floor
    await _ring(conn, cid, 1)  # one call, and B is free for it
    row, step = await agents.act(conn, a, "pause", scope=None, now=NOW, reason="lunch")
    assert (row["state"], row["state_reason"], row["pending_action"]) == ("paused", "lunch", None)
    assert step.changes_state


async def test_a_pause_while_more_calls_ring_than_other_free_agents_is_held(floor: Floor) -> None:
    conn, cid, a, b = floor
    await _ring(conn, cid, 2)
    row, _ = await agents.act(conn, a, "pause", scope=None, now=NOW, reason="lunch")
    shown = await _row(conn, a)
    assert (shown["state"], shown["pending_action"], shown["pending_reason"]) == (
        "available",
        "pause",
        "lunch",
    )
    assert shown["pending_until"] == NOW + HOLD
    # B asks too: A holding a pause is no free agent, so B is held as well
    row, _ = await agents.act(conn, b, "logout", scope=None, now=NOW)
    assert (row["state"], row["pending_action"]) == ("available", "logout")


async def test_ready_cancels_a_held_pause(floor: Floor) -> None:
    conn, cid, a, _ = floor
    await _ring(conn, cid, 2)
    await agents.act(conn, a, "pause", scope=None, now=NOW)
    row, _ = await agents.act(conn, a, "ready", scope=None, now=NOW)
    assert (row["state"], row["pending_action"], row["pending_until"]) == ("available", None, None)
    assert await agents.settle_holds(conn, NOW + HOLD, campaign_id=cid) == []


async def test_a_held_pause_applies_when_the_calls_are_gone(floor: Floor) -> None:
    conn, cid, a, _ = floor
    calls = await _ring(conn, cid, 2)
    await agents.act(conn, a, "pause", scope=None, now=NOW, reason="lunch")
    assert await agents.settle_holds(conn, NOW, campaign_id=cid) == []  # still needed
    await _end(conn, calls[:1])  # one call left, and B is free for it
    [row] = await agents.settle_holds(conn, NOW + timedelta(seconds=3), campaign_id=cid)
    assert (row["id"], row["state"], row["state_reason"]) == (a, "paused", "lunch")
    assert (row["pending_action"], row["pending_until"]) == (None, None)


async def test_a_held_pause_applies_at_its_deadline_at_the_latest(floor: Floor) -> None:
    conn, cid, a, b = floor
    await _ring(conn, cid, 3)
    await agents.act(conn, a, "pause", scope=None, now=NOW)
    await agents.act(conn, b, "logout", scope=None, now=NOW + timedelta(seconds=5))
    assert await agents.settle_holds(conn, NOW + HOLD - timedelta(seconds=1), campaign_id=cid) == []
    [row] = await agents.settle_holds(conn, NOW + HOLD, campaign_id=cid, skip=[])
    assert (row["id"], row["state"]) == (a, "paused")
    [row] = await agents.settle_holds(conn, NOW + HOLD + timedelta(seconds=5), campaign_id=cid)
    assert (row["id"], row["state"], row["logged_in_at"]) == (b, "offline", None)


async def test_a_held_agent_takes_a_call_that_connects_and_pauses_after_it(floor: Floor) -> None:
    conn, cid, a, b = floor
    calls = await _ring(conn, cid, 2)
    await agents.act(conn, b, "pause", scope=None, now=NOW)  # A is still free: B is held
    await agents.act(conn, a, "pause", scope=None, now=NOW, reason="lunch")  # held too
    assert await agents.reserve(conn, a, now=NOW, attempt_id=calls[0], campaign_id=cid)
    row, _ = await agents.act(conn, a, "hangup", scope=None, now=NOW)
    assert (row["state"], row["pending_action"]) == ("wrap_up", "pause")
    assert (await _row(conn, a))["pending_until"] is None  # only a free agent is held
    row, _ = await agents.act(conn, a, "finish", scope=None, now=NOW)
    assert (row["state"], row["state_reason"], row["pending_action"]) == ("paused", "lunch", None)
    # B is left alone while a runner seats it
    assert await agents.settle_holds(conn, NOW, campaign_id=cid, skip=[b]) == []


async def test_only_the_campaigns_short_of_agents_hold_a_pause(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        x = int((await make_campaign(conn, NOW, dial_mode="predictive"))["id"])
        y = int((await make_campaign(conn, NOW, dial_mode="power", ring_timeout_s=40))["id"])
        both = await add_agent(conn, x, NOW)
        await conn.execute("INSERT INTO agent_campaigns VALUES ($1, $2)", both, y)
        await add_agent(conn, x, NOW)  # free for x's calls only
        await _ring(conn, x, 1, start=200)  # a call of x: the other agent is free for it
        calls = await _ring(conn, y, 1, start=100)  # a call of y: nobody else can take it
        row, _ = await agents.act(conn, both, "pause", scope=None, now=NOW)
        assert row["pending_until"] == NOW + timedelta(seconds=42)  # y's ring timeout + 2 s
        assert await agents.settle_holds(conn, NOW, campaign_id=x) == []
        await _end(conn, calls)
        [row] = await agents.settle_holds(conn, NOW, campaign_id=x)  # y needs nobody now
        assert (row["id"], row["state"]) == (both, "paused")
