"""Campaign settings for recording, voicemail and alternate numbers: a manager sets them on
the edit form, a bad retention is pointed out next to its input, and what was saved is
shown again (and is what the engine reads)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from tests.e2e.conftest import LiveConsole, Page
from tests.integration.engine_support import make_campaign

AT = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def _edit(page: Page, token: str, campaign_id: int) -> None:
    page.sign_in_with_token(token)
    page.open(f"/ui/campaigns/{campaign_id}/edit")
    assert Select(page.find("#f-record")).first_selected_option.get_attribute("value") == "off"
    page.select("#f-record", "connected")
    page.select("#f-recording_consent", "always")
    page.select("#f-alt_phone_policy", "on_failure")
    page.type("#f-recording_retention_days", "0")
    page.type("#f-recording_announcement", "sound:acme/this-call-is-recorded")
    page.type("#f-voicemail_message", "sound:acme/call-us-back")
    page.click("form[action$='/edit'] button[type=submit]")
    page.wait_text("#e-recording_retention_days", "")
    assert "1" in page.find("#e-recording_retention_days").text  # says the allowed range
    # What was typed is kept next to the message.
    assert page.find("#f-voicemail_message").get_attribute("value") == "sound:acme/call-us-back"
    page.find("#f-recording_retention_days").clear()
    page.type("#f-recording_retention_days", "30")
    page.click("form[action$='/edit'] button[type=submit]")
    page.wait_text("#flash", "saved")
    page.open(f"/ui/campaigns/{campaign_id}/edit")
    assert page.find("#f-recording_retention_days").get_attribute("value") == "30"
    assert Select(page.find("#f-record")).first_selected_option.get_attribute("value") == (
        "connected"
    )
    page.shoot("campaign-recording-settings")
    assert page.console_errors() == []
    assert page.unlabelled_inputs() == []


async def test_a_manager_sets_recording_voicemail_and_alternate_numbers(
    live_console: LiveConsole, driver: WebDriver
) -> None:
    async with live_console.pool.acquire() as conn:
        campaign = await make_campaign(conn, AT)
    page = Page(driver, live_console.base_url)
    cid = int(campaign["id"])
    await asyncio.to_thread(_edit, page, live_console.tokens["manager"], cid)
    row = await live_console.pool.fetchrow(
        "SELECT record, recording_retention_days, recording_consent, recording_announcement,"
        " voicemail_message, alt_phone_policy FROM campaigns WHERE id = $1",
        cid,
    )
    assert dict(row) == {
        "record": "connected",
        "recording_retention_days": 30,
        "recording_consent": "always",
        "recording_announcement": "sound:acme/this-call-is-recorded",
        "voicemail_message": "sound:acme/call-us-back",
        "alt_phone_policy": "on_failure",
    }
