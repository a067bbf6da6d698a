"""The in-call opt-out end to end: a callee who hears an agentless telemarketing message
presses 9; the number is on the client's DNC list at once, the CRM hears ``dnc.added``, the
lead is ``dnc`` and the number is not dialed again."""

from __future__ import annotations

import asyncpg

from dialer.clock import FakeClock
from dialer.engine.optout import DNC_SOURCE, OPT_OUT_CONFIRMED, OPT_OUT_PROMPT
from tests.integration.engine_support import (
    NOON_SF,
    PlayLog,
    add_leads,
    humans,
    make_campaign,
    running_engine,
    start,
    us_numbers,
    wait_for,
)

HUMANS = humans(ring_min_s=2, ring_max_s=4, talk_s=10)


async def _campaign(pool: asyncpg.Pool, clock: FakeClock, phones: list[str], **fields) -> int:  # type: ignore[no-untyped-def]
    async with pool.acquire() as conn:
        campaign = await make_campaign(
            conn,
            clock.now(),
            dial_mode="agentless",
            max_lines=2,
            safe_harbor_message="Your order ships tomorrow.",
            **fields,
        )
        await add_leads(conn, campaign["id"], phones, clock.now())
        await start(conn, campaign["id"], clock.now())
    return int(campaign["id"])


async def test_pressing_9_puts_the_number_on_dnc_and_it_is_not_dialed_again(
    epool: asyncpg.Pool,
) -> None:
    clock = FakeClock(NOON_SF)
    phones = us_numbers(2)
    cid = await _campaign(epool, clock, phones)  # telemarketing to US numbers: required
    async with running_engine(
        epool, clock=clock, callee=HUMANS, gateway_cls=PlayLog, network={"opt_out_share": 1.0}
    ) as env:
        entries = await wait_for(
            lambda: epool.fetch(
                "SELECT * FROM dnc_entries WHERE source = $1 ORDER BY phone_e164", DNC_SOURCE
            ),
            timeout=60,
        )
        await wait_for(lambda: _count(epool, "dnc_entries", len(phones)), timeout=60)
        entries = await epool.fetch("SELECT * FROM dnc_entries ORDER BY phone_e164")
        # Every callee heard the message, the prompt, and the confirmation.
        await wait_for(
            lambda: _closed(epool, cid, len(phones)),
            timeout=60,
        )
        heard = [m for _, m in env.gateway.plays]  # type: ignore[attr-defined]
    client = await epool.fetchval("SELECT client_id FROM campaigns WHERE id = $1", cid)
    assert [e["phone_e164"] for e in entries] == phones
    assert {(e["client_id"], e["campaign_id"], e["source"]) for e in entries} == {
        (client, None, DNC_SOURCE)
    }
    assert heard.count(OPT_OUT_CONFIRMED) == len(phones)
    assert heard.count(OPT_OUT_PROMPT) <= len(phones)  # the key may come during the message
    # The CRM hears it: dnc.added with the attempt, and lead.dnc for the blocked lead.
    events = await epool.fetch(
        "SELECT type, payload FROM webhook_outbox WHERE type IN ('dnc.added', 'lead.dnc')"
    )
    added = [e["payload"] for e in events if e["type"] == "dnc.added"]
    assert sorted(a["phone_e164"] for a in added) == phones
    assert all(a["source"] == DNC_SOURCE and a["attempt_id"] for a in added)
    assert sum(e["type"] == "lead.dnc" for e in events) == len(phones)
    audit = await epool.fetch("SELECT * FROM audit_log WHERE action = 'dnc.opt_out'")
    assert len(audit) == len(phones)
    assert audit[0]["details"]["offered_by"] == "us.opt-out.prerecorded"
    leads = await epool.fetch(
        "SELECT status, attempts_count FROM leads WHERE campaign_id = $1", cid
    )
    assert {(r["status"], r["attempts_count"]) for r in leads} == {("dnc", 1)}

    # Made due again by hand, the leads are screened out by the DNC entries: no new dial.
    await epool.execute(
        "UPDATE leads SET status = 'retry', next_attempt_at = $2 WHERE campaign_id = $1",
        cid,
        clock.now(),
    )
    await epool.execute("UPDATE campaigns SET state = 'running' WHERE id = $1", cid)
    async with running_engine(epool, clock=clock, callee=HUMANS):
        blocked = await wait_for(
            lambda: epool.fetch(
                "SELECT payload FROM webhook_outbox WHERE type = 'compliance.blocked'"
                " AND campaign_id = $1",
                cid,
            ),
            timeout=60,
        )
    assert any("dnc" in " ".join(b["payload"]["rule_ids"]) for b in blocked)
    assert await epool.fetchval("SELECT count(*) FROM attempts WHERE campaign_id = $1", cid) == 2


async def test_without_a_rule_or_the_campaign_asking_no_opt_out_is_offered(
    epool: asyncpg.Pool,
) -> None:
    clock = FakeClock(NOON_SF)
    # A survey's message to the US needs it (residential lines); the UK needs none.
    cid = await _campaign(epool, clock, ["+442079460000"], purpose="survey")
    async with running_engine(
        epool, clock=clock, callee=HUMANS, gateway_cls=PlayLog, network={"opt_out_share": 1.0}
    ) as env:
        await wait_for(lambda: _closed(epool, cid, 1), timeout=60)
        heard = [m for _, m in env.gateway.plays]  # type: ignore[attr-defined]
    assert heard == ["Your order ships tomorrow."]
    assert await epool.fetchval("SELECT count(*) FROM dnc_entries") == 0


async def _count(pool: asyncpg.Pool, table: str, n: int) -> bool:
    return bool(await pool.fetchval(f"SELECT count(*) >= $1 FROM {table}", n))


async def _closed(pool: asyncpg.Pool, cid: int, n: int) -> bool:
    return bool(
        await pool.fetchval(
            "SELECT count(*) >= $2 FROM attempts WHERE campaign_id = $1 AND ended_at IS NOT NULL",
            cid,
            n,
        )
    )
