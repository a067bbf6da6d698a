"""The scheduler: one leader across processes; starts/pauses at scheduled times."""

from __future__ import annotations

import logging
from datetime import timedelta

import asyncpg
import pytest

from dialer.auth.roles import SYSTEM
from dialer.campaigns import store
from dialer.clock import FakeClock
from dialer.scheduler import CampaignScheduler


async def test_one_leader_and_takeover_after_expiry(pool: asyncpg.Pool) -> None:
    clock = FakeClock()
    a = CampaignScheduler(pool, clock, instance_id="a", lease_ttl_s=15)
    b = CampaignScheduler(pool, clock, instance_id="b", lease_ttl_s=15)
    await a.tick()
    await b.tick()
    assert (a.leader, b.leader) == (True, False)
    clock.advance(10)
    await a.tick()  # renews
    clock.advance(10)
    await b.tick()
    assert not b.leader
    clock.advance(16)  # a died: no renewal for longer than the TTL
    await b.tick()
    assert b.leader
    await b.stop()  # releases at once
    await a.tick()
    assert a.leader
    await a.stop()


async def test_starts_at_and_shift_drive_the_campaign(pool: asyncpg.Pool) -> None:
    clock = FakeClock()
    now = clock.now()
    async with pool.acquire() as conn:
        c = await store.create(
            conn,
            {
                "name": "scheduled",
                "caller_id": "+14155550100",
                "starts_at": (now + timedelta(minutes=5)).isoformat(),
                "shift": {
                    "timezone": "UTC",
                    "windows": {
                        d: [["00:00", "24:00"]]
                        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                    },
                },
            },
            SYSTEM,
            now=now,
        )
    sched = CampaignScheduler(pool, clock, instance_id="s")
    await sched.tick()
    assert (await _state(pool, c["id"])) == "draft"
    assert any(j.id == f"c{c['id']}:starts_at" for j in sched._aps.get_jobs())
    clock.advance(300)
    assert await sched.apply(c["id"]) == "start"
    assert (await _state(pool, c["id"])) == "running"
    # A manual pause is respected by later ticks.
    async with pool.acquire() as conn:
        await store.transition(conn, c["id"], "pause", scope=None, now=clock.now())
    await sched.tick()
    assert (await _state(pool, c["id"])) == "paused"
    await sched.stop()


async def _state(pool: asyncpg.Pool, campaign_id: int) -> str:
    state: str = await pool.fetchval("SELECT state FROM campaigns WHERE id = $1", campaign_id)
    return state


async def test_one_campaigns_broken_timetable_does_not_stop_the_others(
    pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    now = clock.now()
    every_day = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    async with pool.acquire() as conn:
        broken = await store.create(
            conn,
            {
                "name": "broken",
                "caller_id": "+14155550100",
                "shift": {"timezone": "UTC", "windows": every_day},
            },
            SYSTEM,
            now=now,
        )
        due = await store.create(
            conn,
            {
                "name": "due",
                "caller_id": "+14155550100",
                "starts_at": (now + timedelta(minutes=1)).isoformat(),
            },
            SYSTEM,
            now=now,
        )
    # A shift an older version stored (or a hand edit): its time zone no longer exists.
    await pool.execute(
        "UPDATE campaigns SET shift = jsonb_set(shift, '{timezone}', '\"Nowhere/Atlantis\"')"
        " WHERE id = $1",
        broken["id"],
    )
    clock.advance(120)
    sched = CampaignScheduler(pool, clock, instance_id="isolated")
    with caplog.at_level(logging.ERROR, logger="dialer.scheduler"):
        await sched.tick()
    assert (await _state(pool, due["id"])) == "running"
    assert [r for r in caplog.records if getattr(r, "campaign_id", None) == broken["id"]]
    assert sched.heartbeat.failures == 1 and sched.heartbeat.problem() is None
    await sched.stop()
