"""The supervisor board and the agent report in a real browser: a manager watches every
agent of a campaign (state, time in state, pause code, current call and its duration,
calls today) change without reloading, then reads the agent report for the shift (with
a clear error for a bad time). Screenshots go to artifacts/screenshots/board-*.png."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from selenium.webdriver.remote.webdriver import WebDriver

from dialer.agents import store as agents
from dialer.engine import records
from tests.e2e.conftest import LiveConsole, Page
from tests.integration.engine_support import add_agent, add_leads, make_campaign, start


def _cell(page: Page, agent_id: int, col: str) -> str:
    return page.find(f"#board-agents tr[data-agent='{agent_id}'] [data-col={col}]").text


def _sign_in(page: Page, token: str) -> None:
    page.open("/ui/sign-in")
    page.type("#f-token", token)
    page.click("#token-sign-in button[type=submit]")
    page.wait_path("/ui/campaigns")


def _board(page: Page, campaign_id: int, paused: int, talking: int) -> None:
    page.open(f"/ui/campaigns/{campaign_id}")
    page.click(f"a[href='/ui/campaigns/{campaign_id}/board']")
    page.wait_text(".tabs [aria-current=page]", "Agents")
    assert _cell(page, paused, "pause-code") == "BREAK"
    assert _cell(page, paused, "in-state") == "5 min 00 s"
    assert _cell(page, talking, "call").startswith("+14155550188")
    assert _cell(page, talking, "call-duration") == "1 min 30 s"
    assert _cell(page, talking, "calls-today") == "1"
    page.shoot("board-01-agents")


def _state(page: Page, agent_id: int) -> str | None:
    row = page.find(f"#board-agents tr[data-agent='{agent_id}']")
    return row.get_attribute("data-state")


def _board_changes(page: Page, paused: int, talking: int) -> None:
    page.wait(lambda _: _state(page, paused) == "available" == _state(page, talking))
    assert _cell(page, paused, "pause-code") == "—"
    assert _cell(page, talking, "call") == "—"
    assert _cell(page, talking, "in-state") == "0 s"


def _report(page: Page, campaign_id: int, since: datetime, talking: int) -> None:
    page.click("a[href='/ui/reports/agents']")
    page.wait_text("h1", "Agent report")
    page.type("#r-from", "yesterday")
    page.click("#agent-report-form button[type=submit]")
    page.wait_text("#re-from", "ISO 8601")
    page.type("#r-from", since.isoformat())
    page.find(f"#r-campaign option[value='{campaign_id}']").click()
    page.click("#agent-report-form button[type=submit]")
    row = f"#agent-report tr[data-agent='{talking}']"
    page.wait_text(f"{row} [data-col=calls]", "1")
    assert page.find(f"{row} [data-col=talk]").text == "2 min 00 s"
    assert page.find(f"{row} [data-col=dispositions]").text == "SALE 1"
    assert (
        page.find("#report-csv")
        .get_attribute("href")
        .startswith(page.base_url + "/ui/reports/agents.csv?")
    )
    page.shoot("board-02-agent-report")
    assert not page.unlabelled_inputs()


async def test_board_and_agent_report(live_console: LiveConsole, driver: WebDriver) -> None:
    clock = live_console.clock
    t0 = clock.now()
    async with live_console.pool.acquire() as conn:
        campaign = await make_campaign(conn, t0, name="Board spring")
        cid = campaign["id"]
        await start(conn, cid, t0)
        paused = await add_agent(conn, cid, t0)
        talking = await add_agent(conn, cid, t0)
        await agents.act(conn, paused, "pause", scope=None, now=t0, reason="BREAK")
        [lead] = await add_leads(conn, cid, ["+14155550188"], t0)
        attempt: int = await conn.fetchval(
            "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, compliance)"
            " VALUES ($1, $2, $3, $4, '{}') RETURNING id",
            lead, cid, "+14155550188", t0 + timedelta(minutes=3),
        )  # fmt: skip
        assert await records.connect(
            conn, agent_id=talking, attempt_id=attempt, campaign_id=cid,
            now=t0 + timedelta(minutes=3, seconds=30), answered_at=t0 + timedelta(minutes=3),
            ring_s=4.0, wait_s=0.2, reserved=False,
        )  # fmt: skip
    clock.advance(300)
    page = Page(driver, live_console.base_url)
    await asyncio.to_thread(_sign_in, page, live_console.tokens["manager"])
    await asyncio.to_thread(_board, page, cid, paused, talking)
    # The break ends and the call is over: the board follows without a reload.
    async with live_console.pool.acquire() as conn:
        await agents.act(conn, paused, "ready", scope=None, now=clock.now())
        clock.advance(30)
        await conn.execute(
            "UPDATE attempts SET ended_at = $2, outcome = 'completed', answer = 'human',"
            " talk_s = 120, disposition = 'SALE' WHERE id = $1",
            attempt, clock.now(),
        )  # fmt: skip
        await agents.act(conn, talking, "hangup", scope=None, now=clock.now(),
                         expect_attempt=attempt)  # fmt: skip
        await agents.act(conn, talking, "finish", scope=None, now=clock.now(),
                         expect_attempt=attempt)  # fmt: skip
    await asyncio.to_thread(_board_changes, page, paused, talking)
    await asyncio.to_thread(_report, page, cid, t0, talking)
    assert not page.console_errors()
