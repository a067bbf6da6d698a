"""Erasing a person from the console: the lead page's erase button asks for confirmation,
the person's data is gone afterwards and the call records stay; retention is set on the
Find a lead page."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions

from tests.e2e.conftest import LiveConsole, Page
from tests.integration.engine_support import make_campaign
from tests.integration.test_stats_support import add_attempt

AT = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def _erase(page: Page, token: str, lead_id: int) -> None:
    page.sign_in_with_token(token)
    page.open(f"/ui/leads/{lead_id}")
    page.wait_text("#lead-fields", "Anselm Pettigrew")
    page.shoot("lead-erase-button")
    # Dismissing the confirmation keeps the person.
    page.click("#lead-erase button[type=submit]")
    page.wait(expected_conditions.alert_is_present()).dismiss()
    page.open(f"/ui/leads/{lead_id}")
    page.wait_text("#lead-fields", "Anselm Pettigrew")
    page.click("#lead-erase button[type=submit]")
    page.wait(expected_conditions.alert_is_present()).accept()
    page.wait_path("/ui/leads")
    page.wait_text("#flash", f"Lead #{lead_id} erased")
    # Retention for the client, on the same page.
    page.type("#f-retention-1", "365")
    page.click("#retention-1 button[type=submit]")
    page.wait_text("#flash", "365 days")
    assert page.console_errors() == []


async def test_a_manager_erases_a_person_from_the_lead_page(
    live_console: LiveConsole, driver: WebDriver
) -> None:
    async with live_console.pool.acquire() as conn:
        campaign = await make_campaign(conn, AT)
        lead_id = await conn.fetchval(
            "INSERT INTO leads (campaign_id, phone_e164, fields) VALUES ($1, '+14155550187',"
            " $2) RETURNING id",
            campaign["id"],
            {"name": "Anselm Pettigrew"},
        )
        await add_attempt(
            conn,
            campaign["id"],
            lead_id,
            AT,
            outcome="completed",
            answer="human",
            connected=True,
            talk_s=30.0,
        )
    page = Page(driver, live_console.base_url)
    await asyncio.to_thread(_erase, page, live_console.tokens["manager"], lead_id)
    lead = await live_console.pool.fetchrow(
        "SELECT status, phone_e164, fields FROM leads WHERE id = $1", lead_id
    )
    assert lead["status"] == "erased" and lead["fields"] == {}
    assert "4155550187" not in lead["phone_e164"]
    attempts = await live_console.pool.fetchrow(
        "SELECT count(*), sum(talk_s) FROM attempts WHERE lead_id = $1", lead_id
    )
    assert tuple(attempts) == (1, 30.0)
    days = await live_console.pool.fetchval("SELECT lead_retention_days FROM clients WHERE id = 1")
    assert days == 365
