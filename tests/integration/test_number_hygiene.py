"""Telephony in a running engine: dead numbers are retired and the lead's alternate
is dialed (or the lead is invalid); robocall rejections are counted per caller ID."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from dialer import metrics
from dialer.clock import FakeClock
from dialer.sim.model import CalleeModel
from tests.integration.engine_support import (
    add_leads,
    make_campaign,
    running_engine,
    start,
    us_numbers,
    wait_for,
)

NOON_SF = datetime(2026, 5, 5, 19, 0, tzinfo=UTC)  # 12:00 in San Francisco (a Tuesday)
NOBODY_HOME = CalleeModel(
    p_human=0.0, p_machine=0.0, p_busy=0.0, p_failed=0.0, ring_min_s=2, ring_max_s=4, talk_s=5
)


async def _campaign(pool: asyncpg.Pool, clock: FakeClock, phones: list[str], **fields: Any) -> int:
    async with pool.acquire() as conn:
        campaign = await make_campaign(conn, clock.now(), max_attempts=3, **fields)
        await add_leads(conn, campaign["id"], phones, clock.now())
        return int(campaign["id"])


async def test_a_dead_number_is_retired_and_the_alternate_dialed(epool: asyncpg.Pool) -> None:
    clock = FakeClock(NOON_SF)
    dead, alone, alternate = us_numbers(3, start=100)
    cid = await _campaign(epool, clock, [dead, alone])
    await epool.execute(
        "UPDATE leads SET alt_phones = $2 WHERE campaign_id = $1 AND phone_e164 = $3",
        cid,
        [alternate],
        dead,
    )
    async with epool.acquire() as conn:
        await start(conn, cid, clock.now())

    async def settled() -> Any:
        rows = await epool.fetch(
            "SELECT l.status, l.phone_e164, l.retired_phones,"
            " (SELECT array_agg(a.phone_e164 ORDER BY a.id) FROM attempts a"
            "   WHERE a.lead_id = l.id AND a.ended_at IS NOT NULL) AS dialed"
            " FROM leads l WHERE campaign_id = $1 ORDER BY l.id",
            cid,
        )
        done = rows[1]["status"] == "invalid" and alternate in (rows[0]["dialed"] or [])
        return rows if done else None

    network = {"unallocated": frozenset({dead, alone})}
    async with running_engine(
        epool, clock=clock, callee=NOBODY_HOME, network=network, sim_agents=1
    ):
        first, second = await wait_for(settled, timeout=60)
    assert first["phone_e164"] == alternate and first["retired_phones"] == [dead]
    assert first["dialed"][:2] == [dead, alternate]  # the dead number: dialed once, never again
    assert dead not in first["dialed"][1:]
    assert second["retired_phones"] == [alone] and second["dialed"] == [alone]
    causes = await epool.fetch(
        "SELECT DISTINCT hangup_cause FROM attempts WHERE phone_e164 = ANY($1)", [dead, alone]
    )
    assert [r["hangup_cause"] for r in causes] == ["unallocated"]


async def test_robocall_rejections_are_counted_per_caller_id(epool: asyncpg.Pool) -> None:
    clock = FakeClock(NOON_SF)
    caller = "+14155550177"
    cid = await _campaign(epool, clock, us_numbers(3, start=200), caller_id=caller)
    async with epool.acquire() as conn:
        await start(conn, cid, clock.now())
    counter = metrics.ROBOCALL_REJECTIONS.labels(str(cid), caller)
    before = counter._value.get()

    async def rejected() -> Any:
        return await epool.fetch(
            "SELECT caller_id FROM attempts WHERE campaign_id = $1 AND hangup_cause = 'unwanted'",
            cid,
        )

    network = {"flagged_caller_share": 1.0, "flagged_block_share": 1.0}
    async with running_engine(epool, clock=clock, network=network, sim_agents=1):
        rows = await wait_for(rejected, timeout=60)
        assert counter._value.get() - before >= 1
    assert {r["caller_id"] for r in rows} == {caller}


async def test_each_dial_presents_the_pool_number_nearest_the_callee(
    epool: asyncpg.Pool,
) -> None:
    from dialer.auth.roles import SYSTEM
    from dialer.campaigns import callerids

    clock = FakeClock(NOON_SF)
    sf, ny = "+14155550100", "+12125550111"
    callees = [*us_numbers(3, start=300), "+12125550301", "+12125550302"]
    cid = await _campaign(epool, clock, callees)
    async with epool.acquire() as conn:
        body = {"items": [{"number": ny}, {"number": sf}], "local_presence": True}
        await callerids.put_pool(conn, cid, body, SYSTEM, now=clock.now())
        await start(conn, cid, clock.now())

    async def dialed() -> Any:
        rows = await epool.fetch(
            "SELECT phone_e164, caller_id FROM attempts WHERE campaign_id = $1", cid
        )
        return rows if len({r["phone_e164"] for r in rows}) == len(callees) else None

    async with running_engine(epool, clock=clock, sim_agents=2):
        rows = await wait_for(dialed, timeout=60)
    for row in rows:
        assert row["caller_id"] == (ny if row["phone_e164"].startswith("+1212") else sf), row


MACHINES = CalleeModel(
    p_human=0.0, p_machine=1.0, p_busy=0.0, p_failed=0.0, ring_min_s=2, ring_max_s=4
)


@pytest.mark.parametrize(
    ("purpose", "cause"),
    [("survey", "voicemail_left"), ("telemarketing", "voicemail_barred: us.voicemail-drop")],
)
async def test_a_voicemail_is_left_on_answering_machines_where_the_rules_allow(
    epool: asyncpg.Pool, purpose: str, cause: str
) -> None:
    clock = FakeClock(NOON_SF)
    machines = MACHINES
    cid = await _campaign(
        epool,
        clock,
        us_numbers(3, start=600),
        voicemail_message="sound:dialer/offer",
        purpose=purpose,
    )
    async with epool.acquire() as conn:
        await start(conn, cid, clock.now())

    async def left() -> Any:
        return await epool.fetch(
            "SELECT outcome, answer, hangup_cause FROM attempts WHERE campaign_id = $1"
            " AND hangup_cause = $2",
            cid,
            cause,
        )

    network = {"amd_false_human": 0.0, "fax_share": 0.0}
    async with running_engine(
        epool, clock=clock, callee=machines, network=network, sim_agents=1
    ) as env:
        rows = await wait_for(left, timeout=60)
        assert env.gateway.originated >= len(rows)
    assert {(r["outcome"], r["answer"]) for r in rows} == {("machine", "machine")}
