"""Manual dial from the agent desk in a real browser: a number the calling rules refuse
shows the reasons and when it becomes callable; a callable one is dialed by the engine that
holds the campaign (not the console's process) and pops on this desk. Screenshots go to
artifacts/screenshots/manual-*.png."""

from __future__ import annotations

from tests.e2e.conftest import LiveConsole, Page
from tests.integration.engine_support import (
    add_agent,
    humans,
    lease_owner,
    make_campaign,
    running_engine,
    start,
    wait_for,
)

ANSWERS = humans(ring_min_s=1, ring_max_s=2, talk_s=600)


async def test_manual_dial_from_the_desk(desk: LiveConsole, driver: object) -> None:
    import asyncio

    now = desk.clock.now()  # 15:00 UTC: 10:00 in New York, 07:00 in San Francisco
    async with desk.pool.acquire() as conn:
        campaign = await make_campaign(conn, now)
        agent_id = await add_agent(conn, campaign["id"], now)
        await start(conn, campaign["id"], now)
    async with running_engine(desk.pool, instance_id="desk-e", clock=desk.clock, callee=ANSWERS):
        await wait_for(lambda: lease_owner(desk.pool, campaign["id"]))
        page = Page(driver, desk.base_url)  # type: ignore[arg-type]

        def refused_then_dialed() -> None:
            page.sign_in_with_token(desk.tokens["manager"])
            page.open(f"/ui/agents/{agent_id}")
            page.wait_text("#manual-title", "Manual dial")
            page.type("#f-phone", "(415) 555-0199")  # no country code, no default region
            page.click("[data-manual-dial]")
            page.wait_text("#e-phone", "country code")
            page.type("#f-phone", "+1 (415) 555-0199")
            page.click("[data-manual-dial]")
            page.wait_text("#manual-result", "do not allow")
            page.wait_text("#manual-result", "Allowed from")
            page.shoot("manual-01-refused")
            page.type("#f-phone", "+1 212 555 0199")
            page.click("[data-manual-dial]")
            page.wait_text("#manual-result", "Dialing +12125550199")
            page.wait_text("[data-pop=phone_e164]", "+12125550199")
            page.shoot("manual-02-on-the-call")
            assert not page.unlabelled_inputs()

        await asyncio.to_thread(refused_then_dialed)
        row = await desk.pool.fetchrow(
            "SELECT agent_id, mode, connected_at FROM attempts WHERE campaign_id = $1",
            campaign["id"],
        )
        assert row["agent_id"] == agent_id and row["mode"] == "manual" and row["connected_at"]
