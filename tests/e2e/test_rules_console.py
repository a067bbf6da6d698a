"""The calling-rules page checks a stored lead with its history: a Florida lead called three
times in the last day is blocked by the FTSA cap (Fla. Stat. 501.616(6)(b)), and the page
says when the cap lapses."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from selenium.webdriver.remote.webdriver import WebDriver

from tests.e2e.conftest import LiveConsole, Page
from tests.integration.engine_support import add_leads, make_campaign

AT = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # 10:00 in Miami, a Wednesday


async def _lead(console: LiveConsole) -> int:
    async with console.pool.acquire() as conn:
        campaign = await make_campaign(conn, AT - timedelta(days=1), purpose="telemarketing")
        [lead_id] = await add_leads(conn, campaign["id"], ["+13055550166"], AT)
        for hours in (20, 5, 1):
            await conn.execute(
                "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, ended_at,"
                " outcome, compliance) VALUES ($1, $2, '+13055550166', $3, $3, 'busy', '{}')",
                lead_id,
                campaign["id"],
                AT - timedelta(hours=hours),
            )
    return lead_id


def _check_lead(page: Page, token: str, lead_id: int) -> None:
    page.open("/ui/sign-in")
    page.driver.delete_all_cookies()
    page.open("/ui/sign-in")
    page.type("#f-token", token)
    page.click("#token-sign-in button[type=submit]")
    page.wait_path("/ui/campaigns")
    page.open("/ui/rules")
    page.wait_text("h1", "Calling rules")
    page.type("#f-lead", "lead 7")
    page.click("#check button[type=submit]")
    page.wait_text("#e-lead", "Enter a lead")
    page.find("#f-lead").clear()
    page.type("#f-lead", str(lead_id))
    page.type("#f-at", "2026-12-02T15:00:00Z")
    page.click("#check button[type=submit]")
    page.wait_text(".verdict-title", "Blocked")
    page.wait_text("#decision", "us-fl.24h-cap")
    page.wait_text(".reason-until", "Lapses Wed 02 Dec 2026, 19:00 UTC")
    assert f"lead={lead_id}" in page.driver.current_url
    assert page.find("#f-phone").get_attribute("value") == "+13055550166"
    page.shoot("rules-lead-check")
    assert page.console_errors() == []
    assert page.unlabelled_inputs() == []


async def test_the_console_checks_a_lead_with_its_contact_history(
    live_console: LiveConsole, driver: WebDriver
) -> None:
    lead_id = await _lead(live_console)
    page = Page(driver, live_console.base_url)
    await asyncio.to_thread(_check_lead, page, live_console.tokens["manager"], lead_id)
