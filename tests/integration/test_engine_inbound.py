"""Callbacks from callees end to end (real PostgreSQL, simulated gateway): a callee who
calls the number that called them reaches a free blended agent of that campaign with their
lead on screen; with no agent free they hear the callback message and may opt out; a
caller nobody called hears the message too; every one is an inbound attempt, counted.

The call world runs on a virtual timer: a caller rings, listens and talks only while the
test advances it, so the database work of taking a call never races the caller's patience
(rings, messages and talk would otherwise be timed by a sped-up event loop under load)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from dialer import metrics
from dialer.clock import FakeClock
from dialer.engine.inbound import CALLBACK_MESSAGE, UNROUTED_MESSAGE
from dialer.engine.optout import DNC_SOURCE, OPT_OUT_CONFIRMED
from dialer.timer import VirtualTimer
from tests.integration.engine_support import (
    NOON_SF,
    PlayLog,
    add_agent,
    add_leads,
    make_campaign,
    resolved,
    running_engine,
    start,
    us_numbers,
    wait_for,
)

OURS = "+14155550100"  # both campaigns' caller ID
PLAYS_OUT_S = 30.0  # call seconds for the message, the opt-out prompt and key, a confirmation


@pytest.fixture
def timer() -> VirtualTimer:
    return VirtualTimer()


async def _answered(env: Any, timer: VirtualTimer, call_id: str) -> None:
    """Until the engine has answered ``call_id`` and plays it a message (the caller's time
    stands still meanwhile), then the call plays out: message, prompt, wait for a key."""
    gateway: PlayLog = env.gateway
    await wait_for(lambda: resolved(gateway.heard(call_id)), timer=timer)
    await timer.advance(PLAYS_OUT_S)


async def _campaign(conn: asyncpg.Connection, clock: FakeClock, phones: list[str]) -> int:
    """A running campaign whose leads were all called already (none due for days)."""
    campaign = await make_campaign(conn, clock.now(), caller_id=OURS)
    cid = int(campaign["id"])
    await add_leads(conn, cid, phones, clock.now())
    await conn.execute(
        "UPDATE leads SET status = 'retry', next_attempt_at = $2 WHERE campaign_id = $1",
        cid,
        clock.now() + timedelta(days=3),
    )
    await start(conn, cid, clock.now())
    return cid


async def _called(conn: asyncpg.Connection, cid: int, phone: str, at: datetime) -> int:
    """An earlier outbound call of ``cid`` to ``phone`` from ``OURS``; the lead's id."""
    lead = await conn.fetchval(
        "SELECT id FROM leads WHERE campaign_id = $1 AND phone_e164 = $2", cid, phone
    )
    await conn.execute(
        "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, ended_at, outcome,"
        " compliance, caller_id) VALUES ($1, $2, $3, $4, $4, 'no_answer', '{}', $5)",
        lead,
        cid,
        phone,
        at,
        OURS,
    )
    return int(lead)


async def _agent(conn: asyncpg.Connection, cid: int, now: datetime, *, blended: bool) -> int:
    agent = await add_agent(conn, cid, now)
    await conn.execute("UPDATE agents SET blended = $2 WHERE id = $1", agent, blended)
    return agent


def _count(campaign: int | str, result: str) -> float:
    value = metrics.INBOUND_CALLS.labels(str(campaign), result)._value.get()
    return float(value)


async def _inbound(pool: asyncpg.Pool, cid: int, *, ended: bool = True) -> list[Any]:
    rows = await pool.fetch(
        "SELECT * FROM attempts WHERE campaign_id = $1 AND direction = 'inbound'"
        + (" AND ended_at IS NOT NULL" if ended else "")
        + " ORDER BY id",
        cid,
    )
    return list(rows)


async def _runner_ready(env: Any, cid: int, agents_n: int) -> Any:
    async def ready() -> Any:
        runner = env.engine.runners.get(cid)
        return runner if runner is not None and len(runner.view.agents) >= agents_n else None

    return await wait_for(ready, timeout=30)


async def test_a_callback_reaches_a_free_blended_agent_of_the_campaign_that_called(
    epool: asyncpg.Pool, timer: VirtualTimer
) -> None:
    clock = FakeClock(NOON_SF)
    phone = us_numbers(1)[0]
    async with epool.acquire() as conn:
        other = await _campaign(conn, clock, [phone])  # owns the number, called earlier
        cid = await _campaign(conn, clock, [phone])
        await _called(conn, other, phone, clock.now() - timedelta(hours=3))
        lead = await _called(conn, cid, phone, clock.now() - timedelta(hours=1))
        plain = await _agent(conn, cid, clock.now(), blended=False)
        blended = await _agent(conn, cid, clock.now(), blended=True)
    before = _count(cid, "agent")
    async with running_engine(epool, clock=clock, gateway_cls=PlayLog, timer=timer) as env:
        await _runner_ready(env, cid, 2)
        call_id = env.gateway.place_inbound(phone, OURS, talk_s=3.0)
        bridged: list[str] = env.gateway.bridged  # type: ignore[attr-defined]
        await wait_for(lambda: resolved(call_id in bridged), timer=timer)
        await timer.advance(3.0)  # they talk; then one side hangs up
        [call] = await wait_for(lambda: _inbound(epool, cid), timer=timer)
        agent_row = await epool.fetchrow("SELECT * FROM agents WHERE id = $1", blended)
        counted = _count(cid, "agent")  # (the runner's series go when it stops)
    assert call["lead_id"] == lead and call["agent_id"] == blended
    assert call["connected_at"] is not None and call["outcome"] == "completed"
    assert (call["phone_e164"], call["dialed"], call["mode"]) == (phone, OURS, "inbound")
    assert agent_row["state"] == "wrap_up"  # their disposition of the callback is awaited
    plain_state = await epool.fetchval("SELECT state FROM agents WHERE id = $1", plain)
    assert plain_state == "available"  # not blended: takes no inbound call
    assert counted == before + 1
    events = await epool.fetch(
        "SELECT type, payload FROM webhook_outbox WHERE type = 'inbound.received'"
    )
    [received] = [e["payload"] for e in events]
    assert received["lead_id"] == lead and received["campaign_id"] == cid
    assert received["matched"] is True and received["caller"] == phone
    # Outside the abandon budget: the campaign's answered humans do not count it.
    humans = await epool.fetchval(
        "SELECT count(*) FROM attempts WHERE campaign_id = $1 AND answer = 'human'"
        " AND direction = 'outbound'",
        cid,
    )
    assert humans == 0
    assert other != cid


async def test_no_free_agent_plays_the_callback_message_and_the_key_reaches_dnc(
    epool: asyncpg.Pool, timer: VirtualTimer
) -> None:
    clock = FakeClock(NOON_SF)
    phone = us_numbers(1, start=20)[0]
    async with epool.acquire() as conn:
        cid = await _campaign(conn, clock, [phone])
        lead = await _called(conn, cid, phone, clock.now() - timedelta(hours=1))
        await _agent(conn, cid, clock.now(), blended=False)  # free, but not blended
    async with running_engine(epool, clock=clock, gateway_cls=PlayLog, timer=timer) as env:
        await _runner_ready(env, cid, 1)
        call_id = env.gateway.place_inbound(phone, OURS, presses=True)
        await _answered(env, timer, call_id)
        [call] = await wait_for(lambda: _inbound(epool, cid), timer=timer)
        heard = env.gateway.heard(call_id)  # type: ignore[attr-defined]
        opted_out = _count(cid, "opted_out")
    assert heard[0] == CALLBACK_MESSAGE and OPT_OUT_CONFIRMED in heard
    assert call["agent_id"] is None and call["lead_id"] == lead
    [entry] = await epool.fetch("SELECT * FROM dnc_entries WHERE phone_e164 = $1", phone)
    assert entry["source"] == DNC_SOURCE and entry["campaign_id"] is None
    added = await epool.fetch("SELECT payload FROM webhook_outbox WHERE type = 'dnc.added'")
    assert [a["payload"]["phone_e164"] for a in added] == [phone]
    assert await epool.fetchval("SELECT status FROM leads WHERE id = $1", lead) == "dnc"
    audit = await epool.fetch("SELECT * FROM audit_log WHERE action = 'dnc.opt_out'")
    assert audit[0]["details"]["message"] == "callback"
    assert opted_out == 1


async def test_a_caller_nobody_called_hears_the_message_and_is_still_counted(
    epool: asyncpg.Pool, timer: VirtualTimer
) -> None:
    clock = FakeClock(NOON_SF)
    stranger = us_numbers(1, start=40)[0]
    async with epool.acquire() as conn:
        cid = await _campaign(conn, clock, us_numbers(1, start=41))
    unrouted = _count("none", "unrouted")
    async with running_engine(epool, clock=clock, gateway_cls=PlayLog, timer=timer) as env:
        await _runner_ready(env, cid, 0)
        await _answered(env, timer, env.gateway.place_inbound(stranger, OURS))
        [call] = await wait_for(lambda: _inbound(epool, cid), timer=timer)
        lost = env.gateway.place_inbound(stranger, "+14155550199")  # no campaign's number
        await _answered(env, timer, lost)
        await wait_for(lambda: resolved(_count("none", "unrouted") > unrouted), timer=timer)
        heard = env.gateway.heard(lost)  # type: ignore[attr-defined]
    assert call["lead_id"] is None and call["outcome"] == "completed"
    assert call["phone_e164"] == stranger
    assert heard == [UNROUTED_MESSAGE]
    [received] = await epool.fetch(
        "SELECT payload FROM webhook_outbox WHERE type = 'inbound.received'"
    )
    assert received["payload"]["matched"] is False
    assert received["payload"]["lead_id"] is None


async def test_the_pacer_holds_blended_agents_for_expected_callbacks(
    epool: asyncpg.Pool, timer: VirtualTimer
) -> None:
    clock = FakeClock(NOON_SF)
    async with epool.acquire() as conn:
        cid = await _campaign(conn, clock, us_numbers(1, start=60))
        for _ in range(2):
            await _agent(conn, cid, clock.now(), blended=True)
    async with running_engine(epool, clock=clock, timer=timer) as env:
        runner = await _runner_ready(env, cid, 2)
        quiet = runner.pacing_state()
        for _ in range(6):  # six callbacks within a minute: one every ten seconds
            runner.inbound_rate.arrived(runner.timer.now())
        busy = runner.pacing_state()
    assert quiet.agents_available == 2 and quiet.agents_held_inbound == 0
    assert busy.agents_held_inbound >= 1
    assert busy.agents_available == 2 - busy.agents_held_inbound


async def test_a_callback_to_a_campaign_not_dialing_here_hears_the_message_and_waits(
    epool: asyncpg.Pool, timer: VirtualTimer
) -> None:
    """The campaign that called is paused: no runner, so the message (with the opt-out),
    no agent; the lead, due now, is not dialed while they are on the line."""
    clock = FakeClock(NOON_SF)
    phone = us_numbers(1, start=80)[0]
    async with epool.acquire() as conn:
        cid = await _campaign(conn, clock, [phone])
        lead = await _called(conn, cid, phone, clock.now() - timedelta(hours=1))
        await conn.execute("UPDATE leads SET next_attempt_at = $2 WHERE id = $1", lead, clock.now())
        await conn.execute("UPDATE campaigns SET state = 'paused' WHERE id = $1", cid)
    async with running_engine(epool, clock=clock, gateway_cls=PlayLog, timer=timer) as env:
        call_id = env.gateway.place_inbound(phone, OURS)
        await _answered(env, timer, call_id)
        [call] = await wait_for(lambda: _inbound(epool, cid), timer=timer)
        heard = env.gateway.heard(call_id)  # type: ignore[attr-defined]
    assert heard[0] == CALLBACK_MESSAGE and len(heard) >= 2  # the message, then the prompt
    assert (call["lead_id"], call["agent_id"], call["outcome"]) == (lead, None, "completed")
    due = await epool.fetchval("SELECT next_attempt_at FROM leads WHERE id = $1", lead)
    assert due >= clock.now() + timedelta(minutes=15)
