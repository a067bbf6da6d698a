"""Consent at the dial, on a real database: a revocation recorded between two dials stops the
second one (even for a lead already in a runner's hopper); a wireless registry entry makes the
TCPA consent rule apply; an NCPR preference is checked against the campaign's category."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from dialer.auth.roles import SYSTEM
from dialer.clock import FakeClock
from dialer.engine import gate
from dialer.engine.model import CampaignConfig, Lead
from dialer.leads import store as lead_store
from dialer.leads.submit import DncOptions
from dialer.sim.model import CalleeModel
from tests.integration.engine_support import (
    NOON_SF,
    add_leads,
    make_campaign,
    running_engine,
    start,
    us_numbers,
    wait_for,
)
from tests.integration.test_import_support import import_dnc, write

NO_ANSWER = CalleeModel(
    p_human=0.0, p_machine=0.0, p_busy=0.0, p_failed=0.0, ring_min_s=30, ring_max_s=40, talk_s=1
)


async def _value(pool: asyncpg.Pool, sql: str, *args: Any) -> Any:
    return await pool.fetchval(sql, *args)


async def test_a_revocation_between_two_dials_stops_the_second(epool: asyncpg.Pool) -> None:
    clock = FakeClock(NOON_SF)
    phone = us_numbers(1)[0]
    async with epool.acquire() as conn:
        campaign = await make_campaign(
            conn,
            clock.now(),
            dial_mode="agentless",
            max_lines=1,
            retry_policy={"no_answer": 60},
        )
        [lead_id] = await add_leads(conn, campaign["id"], [phone], clock.now())
        await lead_store.patch(
            conn, lead_id, {"consent": "express_written"}, None, who=SYSTEM, now=clock.now()
        )
        await start(conn, campaign["id"], clock.now())
    attempts = "SELECT count(*) FROM attempts WHERE lead_id = $1"
    async with running_engine(epool, clock=clock, callee=NO_ANSWER, speed=200) as _env:
        await wait_for(
            lambda: _value(
                epool,
                "SELECT count(*) FROM attempts WHERE lead_id = $1 AND ended_at IS NOT NULL",
                lead_id,
            ),
            timeout=60,
        )
        async with epool.acquire() as conn:
            await lead_store.patch(
                conn, lead_id, {"consent": "revoked"}, None, who=SYSTEM, now=clock.now()
            )
        clock.advance(120)  # the retry is due
        blocked = await wait_for(
            lambda: _value(
                epool,
                "SELECT payload FROM webhook_outbox WHERE type = 'compliance.blocked'"
                " AND lead_id = $1",
                lead_id,
            ),
            timeout=60,
        )
    assert "consent.revoked" in blocked["rule_ids"]
    assert await _value(epool, attempts, lead_id) == 1


async def test_the_gate_reads_consent_and_registries_at_the_dial(
    epool: asyncpg.Pool, tmp_path: Path
) -> None:
    clock = FakeClock(NOON_SF)
    phones = us_numbers(2, start=10)
    async with epool.acquire() as conn:
        campaign = await make_campaign(conn, clock.now(), dial_mode="agentless", max_lines=1)
        ids = await add_leads(conn, campaign["id"], phones, clock.now())
        row = await conn.fetchrow("SELECT * FROM campaigns WHERE id = $1", campaign["id"])
        config = CampaignConfig.from_row(row)
        claimed = [
            Lead.from_row(await conn.fetchrow("SELECT * FROM leads WHERE id = $1", i), 0.0)
            for i in ids
        ]
    wireless = write(tmp_path / "w.txt", "".join(p[2:] + "\n" for p in phones))
    done = await import_dnc(epool, clock, wireless, DncOptions(list_source="us_wireless"))
    assert done["state"] == "completed", done["error"]
    # The hopper's Lead objects predate both the registry and the consent.
    async with epool.acquire() as conn:
        await lead_store.patch(
            conn, ids[1], {"consent": "express_written"}, None, who=SYSTEM, now=clock.now()
        )
    decisions = await gate.check(epool, config, claimed, now=clock.now(), count=False)
    first, second = (d for _lead, d in decisions)
    assert "us.wireless-telemarketing-consent" in first.rule_ids
    assert second.allowed, second.rule_ids

    async with epool.acquire() as conn:
        await lead_store.patch(
            conn, ids[1], {"consent": "revoked"}, None, who=SYSTEM, now=clock.now()
        )
        decisions = await gate.check(conn, config, claimed, now=clock.now(), count=False)
    assert "consent.revoked" in decisions[1][1].rule_ids


async def test_ncpr_preferences_meet_the_campaign_category(
    epool: asyncpg.Pool, tmp_path: Path
) -> None:
    clock = FakeClock(datetime(2026, 3, 2, 6, 30, tzinfo=UTC))  # 12:00 in India
    phones = ["+919820012345", "+919820012346", "+919820012347"]
    ncpr = write(tmp_path / "ncpr.csv", "9820012345,1#3\n9820012346,0\n")
    done = await import_dnc(epool, clock, ncpr, DncOptions(list_source="ncpr_prefs"))
    assert done["state"] == "completed", done["error"]
    async with epool.acquire() as conn:
        campaign = await make_campaign(conn, clock.now(), category="3", default_region="IN")
        ids = await add_leads(conn, campaign["id"], phones, clock.now())
        config = CampaignConfig.from_row(
            await conn.fetchrow("SELECT * FROM campaigns WHERE id = $1", campaign["id"])
        )
        leads = [
            Lead.from_row(await conn.fetchrow("SELECT * FROM leads WHERE id = $1", i), 0.0)
            for i in ids
        ]
    assert config.category == "3"
    found = [d for _l, d in await gate.check(epool, config, leads, now=clock.now(), count=False)]
    assert [d.allowed for d in found] == [True, False, True]
    assert "in.ncpr-preference" in found[1].rule_ids
