"""The caller-ID page: a manager sets a pool with local presence, asks which number a Miami
call would present, gets a bad number pointed out, and retires a number."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from selenium.webdriver.remote.webdriver import WebDriver

from tests.e2e.conftest import LiveConsole, Page
from tests.integration.engine_support import make_campaign

AT = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def _manage_pool(page: Page, token: str, campaign_id: int) -> None:
    page.sign_in_with_token(token)
    page.click(f"#campaign-{campaign_id} a.cell-title")  # the campaign's pages carry the tab
    page.click("nav.tabs a[href$='/caller-ids']")
    page.wait_text("h1", "Caller IDs")
    page.type("#f-numbers", "+14155550100\n305 555")
    page.click("#pool-form button[type=submit]")
    page.wait_text("#e-numbers", "must be a phone number in E.164 form")
    page.find("#f-numbers").clear()
    page.type("#f-numbers", "+14155550100\n+13055550100")
    page.click("#pool-form input[name=local_presence]")
    page.type("#f-daily_cap", "300")
    page.click("#pool-form button[type=submit]")
    page.wait_text(".flash", "Caller IDs saved")
    page.wait_text("#pool-settings", "Local presence on · daily cap 300")
    page.type("#q-phone", "+13055559999")
    page.click("#pick-form button[type=submit]")
    page.wait_text("#pick-result", "+13055550100")
    page.wait_text("#pick-result", "same area code 305")
    page.shoot("caller-ids")
    page.find("#f-numbers").clear()
    page.type("#f-numbers", "+14155550100")
    page.type("#f-retired", "+13055550100")
    page.click("#pool-form button[type=submit]")
    page.wait_text("#caller-ids tr[data-number='+13055550100']", "Retired")
    assert page.console_errors() == []
    assert page.unlabelled_inputs() == []


async def test_a_manager_sets_checks_and_retires_caller_ids(
    live_console: LiveConsole, driver: WebDriver
) -> None:
    async with live_console.pool.acquire() as conn:
        campaign = await make_campaign(conn, AT)
    page = Page(driver, live_console.base_url)
    await asyncio.to_thread(_manage_pool, page, live_console.tokens["manager"], int(campaign["id"]))
