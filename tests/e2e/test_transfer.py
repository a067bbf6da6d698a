"""A warm transfer between two agent desks in real browsers: the first agent, on a live call,
picks the second agent, writes a note and transfers; the second desk pops the lead with who
transferred it and the note; the first agent talks to them (the caller on music), completes,
and goes to wrap-up while the call stays with the second agent. The engine carrying the call
runs beside the console (simulated switch). Screenshots: artifacts/screenshots/transfer-*.png.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from dialer.agents import store as agents
from dialer.auth.roles import SYSTEM
from dialer.engine import manual
from tests.e2e.conftest import LiveConsole, Page
from tests.integration.engine_support import (
    humans,
    lease_owner,
    make_campaign,
    running_engine,
    start,
    wait_for,
)

ANSWERS = humans(ring_min_s=1, ring_max_s=2, talk_s=1e6)


async def test_a_warm_transfer_from_one_desk_to_another(
    desk: LiveConsole, driver: object, second_driver: object
) -> None:
    now = desk.clock.now()  # 15:00 UTC: 10:00 in New York
    async with desk.pool.acquire() as conn:
        campaign = await make_campaign(conn, now)
        first = await _agent(conn, campaign["id"], f"Alex Fronter {campaign['id']}", now)
        second = await _agent(conn, campaign["id"], f"Sam Closer {campaign['id']}", now)
        await start(conn, campaign["id"], now)
    async with running_engine(desk.pool, instance_id="xfer-e", clock=desk.clock, callee=ANSWERS):
        await wait_for(lambda: lease_owner(desk.pool, campaign["id"]))
        one = Page(driver, desk.base_url)  # type: ignore[arg-type]
        two = Page(second_driver, desk.base_url)  # type: ignore[arg-type]

        def open_desks() -> None:
            for page, agent in ((one, first), (two, second)):
                page.sign_in_with_token(desk.tokens["manager"])
                page.open(f"/ui/agents/{agent}")
                page.wait_text("#transfer-title", "Transfer")
                page.wait_text("#connection", "Connected")  # following the agent's events

        await asyncio.to_thread(open_desks)
        async with desk.pool.acquire() as conn:
            req = manual.Request(first, campaign["id"], "+12125550142")
            dialed = await manual.request_dial(conn, req, who=SYSTEM, now=now)
        call_id = dialed["attempt_id"]
        await wait_for(
            lambda: desk.pool.fetchval("SELECT connected_at FROM attempts WHERE id = $1", call_id)
        )

        def transfer_and_complete() -> None:
            one.wait_text("[data-pop=phone_e164]", "+12125550142")
            one.find("[data-transfer-form]")
            one.select("#f-mode", "warm")
            one.select("#f-to_agent", str(second))
            one.type("#f-xfer_notes", "Wants the premium plan; already verified")
            one.shoot("transfer-01-picker")
            one.click("[data-transfer-go]")
            one.wait(
                lambda d: (
                    one.find("[data-transfer-state]").get_attribute("data-transfer-state")
                    == "consulting"
                )
            )
            two.wait_text("[data-pop=phone_e164]", "+12125550142")
            two.wait_text("[data-pop=transfer_notes]", "premium plan")
            two.wait_text("#transfer-pop", "Transferred by Alex Fronter")
            two.shoot("transfer-02-second-desk-pop")
            one.shoot("transfer-03-consulting")
            one.click("[data-transfer-complete]")
            one.wait_text("#call-kind", "Call ended")
            two.wait_text("#call-kind", "Live call")
            two.shoot("transfer-04-completed")
            assert not one.unlabelled_inputs()

        await asyncio.to_thread(transfer_and_complete)
        leg = await desk.pool.fetchrow(
            "SELECT * FROM attempts WHERE parent_attempt_id = $1", call_id
        )
        assert leg["agent_id"] == second and leg["leg"] == "warm"
        assert leg["leg_state"] == "completed" and leg["leg_notes"].startswith("Wants")
        parent = await desk.pool.fetchrow("SELECT * FROM attempts WHERE id = $1", call_id)
        assert parent["hangup_cause"] == "transferred"


async def _agent(conn: asyncpg.Connection, campaign_id: int, name: str, now: Any) -> int:
    row = await agents.create(conn, {"name": name, "campaigns": [campaign_id]}, SYSTEM, now=now)
    await agents.act(conn, row["id"], "login", scope=None, now=now)
    return int(row["id"])
