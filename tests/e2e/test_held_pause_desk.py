"""A held pause on the agent desk in a real browser: paused while a call rings for them and
nobody else is free, the agent sees "Pausing…" with the pause code, can cancel it, and,
held again (the supervisor's board shows it), is paused as soon as the call is over (the
engine's settle step, here run by the test; the desk follows the agent bus).
Screenshots: artifacts/screenshots/held-*.png."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from dialer.agents import store as agents
from dialer.runtime.parts import agent_bus_part
from tests.e2e.conftest import LiveConsole, Page, serving_console
from tests.integration.engine_support import add_agent, add_leads, make_campaign


@pytest.fixture(scope="module")
async def desk(
    pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveConsole]:
    async with serving_console(pool, tmp_path_factory.mktemp("e2e-held"), [agent_bus_part]) as c:
        c.tokens["manager"] = await c.token("manager", name="Dana (manager)")
        yield c


async def test_a_held_pause_shows_pausing_can_be_cancelled_and_ends_with_the_call(
    desk: LiveConsole, driver: object
) -> None:
    now = desk.clock.now()
    async with desk.pool.acquire() as conn:
        campaign = await make_campaign(conn, now, dial_mode="predictive")
        cid = int(campaign["id"])
        agent_id = await add_agent(conn, cid, now)
        [lead] = await add_leads(conn, cid, ["+14155550166"], now)
        call = await conn.fetchval(
            "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, compliance)"
            " VALUES ($1, $2, '+14155550166', $3, '{}') RETURNING id",
            lead,
            cid,
            now,
        )  # a call rings that counts on this agent: nobody else is free
    page = Page(driver, desk.base_url)  # type: ignore[arg-type]

    def pause_cancel_pause() -> None:
        page.sign_in_with_token(desk.tokens["manager"])
        page.open(f"/ui/agents/{agent_id}")
        page.wait_text("#agent-state", "Available")
        page.wait(lambda d: d.execute_script("return document.getElementById('connection')"
                                             ".dataset.connection") == "live")  # fmt: skip
        Select(page.find("#f-pause-reason")).select_by_value("lunch")
        page.click("[data-agent-action=pause]")
        page.wait_text("#held-pause", "Pausing…")
        held = page.find("#held-pause").text
        assert "Lunch" in held and "UTC" in held
        page.wait_text("#agent-state", "Available")  # still free: the call may reach them
        page.shoot("held-01-pausing")
        page.wait_text("[data-agent-action=ready]", "Cancel the pause")
        page.click("[data-agent-action=ready]")
        page.wait(lambda d: not d.find_elements(By.CSS_SELECTOR, "#held-pause"))
        Select(page.find("#f-pause-reason")).select_by_value("lunch")
        page.click("[data-agent-action=pause]")
        page.wait_text("#held-pause", "Pausing…")

    await asyncio.to_thread(pause_cancel_pause)

    def on_the_board() -> None:  # the supervisor sees the held pause
        page.open(f"/ui/campaigns/{cid}/board")
        held = page.find(f"#board-agents tr[data-agent='{agent_id}'] [data-held=pause]").text
        assert "pausing" in held and "UTC" in held
        page.open(f"/ui/agents/{agent_id}")
        page.wait_text("#held-pause", "Pausing…")
        page.wait(lambda d: d.execute_script("return document.getElementById('connection')"
                                             ".dataset.connection") == "live")  # fmt: skip

    await asyncio.to_thread(on_the_board)
    async with desk.pool.acquire() as conn:
        await conn.execute("UPDATE attempts SET ended_at = $2 WHERE id = $1", call, now)
        [row] = await agents.settle_holds(conn, now, campaign_id=cid)  # as a runner does
    assert (row["state"], row["state_reason"]) == ("paused", "lunch")

    def paused_on_screen() -> None:
        page.wait_text("#agent-state", "Paused")
        page.wait(lambda d: not d.find_elements(By.CSS_SELECTOR, "#held-pause"))
        page.wait_text("[data-agent-action=ready]", "Ready for calls")
        page.shoot("held-02-paused")
        assert not page.console_errors()

    await asyncio.to_thread(paused_on_screen)
