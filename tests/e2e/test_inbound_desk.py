"""A callback in a real browser: a manager makes an agent blended from the agent list; the
callee the campaign called calls its number back and the call pops on that agent's desk as
"Callback from <lead>" with the lead's details; the campaign's live view counts it.
Screenshots go to artifacts/screenshots/inbound-*.png."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from tests.e2e.conftest import LiveConsole, Page
from tests.integration.engine_support import (
    add_agent,
    add_leads,
    make_campaign,
    running_engine,
    start,
    wait_for,
)

OURS = "+14155550177"


async def test_a_callback_pops_on_the_blended_agents_desk(
    desk: LiveConsole, driver: object
) -> None:
    now = desk.clock.now()
    phone = f"+1415555{time.monotonic_ns() % 10000:04d}"
    async with desk.pool.acquire() as conn:
        campaign = await make_campaign(conn, now, caller_id=OURS)
        cid = int(campaign["id"])
        [lead] = await add_leads(conn, cid, [phone], now)
        await conn.execute(
            "UPDATE leads SET status = 'retry', next_attempt_at = $2,"
            ' fields = \'{"name": "Robin Callback"}\' WHERE id = $1',
            lead,
            now + timedelta(days=3),
        )
        await conn.execute(
            "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, ended_at,"
            " outcome, compliance, caller_id) VALUES ($1, $2, $3, $4, $4, 'no_answer', '{}', $5)",
            lead,
            cid,
            phone,
            now - timedelta(hours=1),
            OURS,
        )
        agent_id = await add_agent(conn, cid, now)
        await start(conn, cid, now)
    page = Page(driver, desk.base_url)  # type: ignore[arg-type]

    def blend() -> None:
        page.sign_in_with_token(desk.tokens["manager"])
        page.open("/ui/desk")
        page.click(f"[data-blended='{agent_id}']")
        page.wait_text(f"[data-blended='{agent_id}']", "Blended")
        page.shoot("inbound-01-blended")
        page.open(f"/ui/agents/{agent_id}")
        page.wait_text("#call-empty-text", "Waiting for a call")

    def popped() -> None:
        page.wait_text("#call-kind", "Callback from Robin Callback")
        page.wait_text("[data-pop=phone_e164]", phone)
        page.shoot("inbound-02-callback-pop")

    def counted() -> None:
        page.open(f"/ui/campaigns/{cid}")
        page.wait_text("#kpi-inbound .kpi-value", "1")
        page.shoot("inbound-03-live-view")

    async with running_engine(desk.pool, instance_id="inbound-e", clock=desk.clock) as env:
        await asyncio.to_thread(blend)

        async def ready() -> bool:
            runner = env.engine.runners.get(cid)
            slot = runner.view.agents.get(agent_id) if runner is not None else None
            return bool(slot is not None and slot.blended and slot.state == "available")

        await wait_for(ready, timeout=30)
        env.gateway.place_inbound(phone, OURS, talk_s=600.0)
        await asyncio.to_thread(popped)
        desk.clock.advance(5.0)  # the live view counts calls started before now
        await asyncio.to_thread(counted)
    row = await desk.pool.fetchrow(
        "SELECT agent_id, lead_id, direction FROM attempts WHERE campaign_id = $1"
        " AND direction = 'inbound'",
        cid,
    )
    assert (row["agent_id"], row["lead_id"]) == (agent_id, lead)
