"""The lead page shows a lead's consent and records a revocation; a bad date is shown next to
its input. The Calling rules page checks a number with consent, wireless and EBR facts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from selenium.webdriver.remote.webdriver import WebDriver

from dialer.auth.roles import SYSTEM
from dialer.leads import store as lead_store
from tests.e2e.conftest import LiveConsole, Page
from tests.integration.engine_support import add_leads, make_campaign

AT = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


async def _lead(console: LiveConsole) -> int:
    async with console.pool.acquire() as conn:
        campaign = await make_campaign(conn, AT - timedelta(days=1), purpose="telemarketing")
        [lead_id] = await add_leads(conn, campaign["id"], ["+12125550177"], AT)
        await lead_store.patch(
            conn,
            lead_id,
            {
                "consent": "express_written",
                "consent_source": "web form",
                "consent_at": "2025-11-01",
            },
            None,
            who=SYSTEM,
            now=console.clock.now(),
        )
    return lead_id


def _revoke(page: Page, token: str, lead_id: int) -> None:
    page.sign_in_with_token(token)
    page.open(f"/ui/leads/{lead_id}")
    page.wait_text("#consent-level", "Express written")
    page.wait_text("#consent-facts", "web form")
    page.find("#f-ebr_inquiry_at").send_keys("yesterday")  # datetime-local ignores bad text
    page.select("#f-consent", "express")
    page.find("#f-consent_at").clear()
    page.driver.execute_script(
        "document.getElementById('f-consent_at').type='text';"
        "document.getElementById('f-consent_at').value='2999-01-01T00:00';"
    )
    page.click("#consent-save")
    page.wait_text("#e-consent_at", "future")
    page.select("#f-consent", "revoked")
    page.driver.execute_script("document.getElementById('f-consent_at').value='2025-11-01T00:00';")
    page.click("#consent-save")
    page.wait_text("#consent-level", "Revoked")
    assert page.find("#consent-revoked").text != "—"
    page.shoot("lead-consent")
    assert page.console_errors() == []
    assert page.unlabelled_inputs() == []

    page.open("/ui/rules")
    page.type("#f-phone", "+12125550123")
    page.type("#f-at", "2026-07-01T16:00:00Z")
    page.select("#f-wireless", "yes")
    page.click("#check button[type=submit]")
    page.wait_text(".verdict-title", "Blocked")
    page.wait_text("#decision", "us.wireless-telemarketing-consent")
    page.select("#f-consent", "express_written")
    page.click("#check button[type=submit]")
    page.wait_text(".verdict-title", "Allowed")
    assert "consent=express_written" in page.driver.current_url
    assert page.unlabelled_inputs() == []


async def test_the_lead_page_shows_and_revokes_consent(
    live_console: LiveConsole, driver: WebDriver
) -> None:
    lead_id = await _lead(live_console)
    page = Page(driver, live_console.base_url)
    await asyncio.to_thread(_revoke, page, live_console.tokens["manager"], lead_id)
    row = await live_console.pool.fetchrow(
        "SELECT consent, consent_revoked_at, consent_at FROM leads WHERE id = $1", lead_id
    )
    assert row["consent"] == "revoked"
    assert row["consent_revoked_at"] == live_console.clock.now()
    assert row["consent_at"] == datetime(2025, 11, 1, tzinfo=UTC)  # kept
