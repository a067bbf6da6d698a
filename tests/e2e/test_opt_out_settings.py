"""In-call opt-out settings: a manager sees which rules force the opt-out for the campaign's
purpose, chooses the key, the prompt and "always", and what was saved is what the engine
reads."""

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
    assert Select(page.find("#f-opt_out_key")).first_selected_option.get_attribute("value") == "9"
    # The rules that force it on for telemarketing are shown, with their ids.
    rules = page.find("#opt-out .opt-out-rules").text
    assert "us.opt-out.prerecorded" in rules and "us.opt-out.abandoned" in rules
    page.select("#f-opt_out", "always")
    page.select("#f-opt_out_key", "#")
    page.type("#f-opt_out_prompt", "To stop these calls, press the hash key.")
    page.click("form[action$='/edit'] button[type=submit]")
    page.wait_text("#flash", "saved")
    page.open(f"/ui/campaigns/{campaign_id}/edit")
    assert Select(page.find("#f-opt_out")).first_selected_option.get_attribute("value") == (
        "always"
    )
    assert page.find("#f-opt_out_prompt").get_attribute("value").startswith("To stop")
    page.shoot("campaign-opt-out-settings")
    assert page.console_errors() == []
    assert page.unlabelled_inputs() == []


async def test_a_manager_sets_the_in_call_opt_out(
    live_console: LiveConsole, driver: WebDriver
) -> None:
    async with live_console.pool.acquire() as conn:
        campaign = await make_campaign(conn, AT, purpose="telemarketing")
    page = Page(driver, live_console.base_url)
    cid = int(campaign["id"])
    await asyncio.to_thread(_edit, page, live_console.tokens["manager"], cid)
    row = await live_console.pool.fetchrow(
        "SELECT opt_out, opt_out_key, opt_out_prompt FROM campaigns WHERE id = $1", cid
    )
    assert dict(row) == {
        "opt_out": "always",
        "opt_out_key": "#",
        "opt_out_prompt": "To stop these calls, press the hash key.",
    }
