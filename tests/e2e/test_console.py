"""The console in a real browser: a campaign manager's first session, and the layout on a
tablet. Screenshots of every page land in artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from dialer.auth.roles import SYSTEM
from dialer.campaigns import store
from tests.e2e.conftest import TABLET, LiveConsole, Page

SEED = [
    {"name": "Spring renewals", "purpose": "telemarketing", "dial_mode": "predictive"},
    {"name": "Customer satisfaction Q1", "purpose": "survey", "dial_mode": "progressive"},
    {"name": "Overdue accounts", "purpose": "debt_collection", "dial_mode": "preview"},
]


async def _seed(console: LiveConsole) -> None:
    """A few campaigns in different states, so the list looks like a working day."""
    async with console.pool.acquire() as conn:
        for i, fields in enumerate(SEED):
            row = await store.create(
                conn, {**fields, "caller_id": "+14155550100"}, SYSTEM, now=console.clock.now()
            )
            action = ("start", "pause", None)[i]
            if action == "pause":
                await store.transition(
                    conn, row["id"], "start", scope=None, now=console.clock.now()
                )
            if action:
                await store.transition(conn, row["id"], action, scope=None, now=console.clock.now())


def _row(page: Page, name: str) -> str:
    """The CSS selector of the campaign row whose title is ``name``."""
    link = page.driver.find_element(By.LINK_TEXT, name)
    row = link.find_element(By.XPATH, "./ancestor::tr")
    return f"#{row.get_attribute('id')}"


def _manager_journey(page: Page, token: str) -> None:
    # Sign in: a wrong token is refused with a message next to the field.
    page.open("/ui/")
    page.wait_path("/ui/sign-in")
    page.shoot("01-sign-in")
    page.type("#f-token", "dlr_this-is-not-a-token")
    page.click("#token-sign-in button[type=submit]")
    page.wait_text("#e-token", "not valid or has been revoked")
    page.shoot("02-sign-in-bad-token")
    page.type("#f-token", token)
    page.click("#token-sign-in button[type=submit]")
    page.wait_path("/ui/campaigns")
    page.wait_text("h1", "Campaigns")
    page.wait_text("#campaigns", "Spring renewals")
    page.shoot("03-campaigns")

    # Create a campaign with a bad caller id: the error sits at the field, input is kept.
    page.click("a.btn-primary[href='/ui/campaigns/new']")
    page.wait_text("h1", "New campaign")
    page.type("#f-name", "Summer survey")
    page.select("#f-purpose", "survey")
    page.select("#f-dial_mode", "progressive")
    page.type("#f-caller_id", "555-0100")
    page.type("#f-retry_policy-no_answer", "3h")
    for day in ("mon", "tue", "wed", "thu", "fri"):
        page.type(f"#f-schedule-{day}", "09:00-12:00, 13:00-18:00")
    page.click("form button.btn-primary[type=submit]")
    page.wait_text("#e-caller_id", "E.164")
    assert page.find("#f-name").get_attribute("value") == "Summer survey"
    assert page.find("#f-schedule-wed").get_attribute("value") == "09:00-12:00, 13:00-18:00"
    assert page.driver.switch_to.active_element.get_attribute("id") == "f-caller_id"
    page.shoot("04-campaign-form-error")

    # Fix it and save: on to its Lead lists (a list comes next) with a confirmation.
    page.type("#f-caller_id", "+1 415 555 0123")
    page.click("form button.btn-primary[type=submit]")
    page.wait_text("#flash", "Campaign “Summer survey” created.")
    page.wait_text(".tabs [aria-current=page]", "Lead lists")
    page.open("/ui/campaigns")
    row = _row(page, "Summer survey")
    page.wait_text(f"{row} .badge", "Draft")

    # Start and pause with the row's buttons (htmx swaps the row in place).
    page.click(f"{row} button[data-action=start]")
    page.wait_text(f"{row} .badge", "Running")
    page.wait_text("#flash", "“Summer survey” is running.")
    page.shoot("05-campaign-running")
    page.click(f"{row} button[data-action=pause]")
    page.wait_text(f"{row} .badge", "Paused")
    page.wait_text("#flash", "is paused")

    # A page whose security token went stale (e.g. signed in again elsewhere) is refused
    # with a message where the messages go, and nothing changes.
    page.driver.execute_script(
        "document.body.setAttribute('hx-headers', '{\"X-CSRF-Token\": \"stale\"}')"
    )
    page.click(f"{row} button[data-action=start]")
    page.wait_text("#flash", "Request refused")
    assert "Paused" in page.find(f"{row} .badge").text
    page.driver.get_log("browser")  # drain: the 403 above was provoked on purpose
    page.open("/ui/campaigns")

    # The edit page shows what was stored.
    page.click(f"{row} a.edit-link")
    page.wait_text("h1", "Summer survey")
    assert page.find("#f-caller_id").get_attribute("value") == "+14155550123"
    assert page.find("#f-retry_policy-no_answer").get_attribute("value") == "3h"
    page.shoot("06-campaign-edit")

    # Calling rules: check a number; the decision, its reasons and next time appear.
    page.click("nav a[href='/ui/rules']")
    page.wait_text("h1", "Calling rules")
    page.shoot("07-calling-rules")
    page.type("#f-phone", "+1 305 555 0123")
    page.select("#f-purpose", "telemarketing")
    page.type("#f-at", "2026-03-08T03:00:00Z")
    page.click("#check button[type=submit]")
    page.wait_text(".verdict-title", "Blocked")
    page.wait_text("#decision", "us-fl.hours")
    page.wait_text("#next-allowed", "Sun 08 Mar 2026, 12:00 UTC")
    assert "phone=%2B1%20305%20555%200123" in page.driver.current_url  # shareable address
    page.driver.find_element(By.CSS_SELECTOR, "#pack-us-fl > summary").click()
    page.wait_text("#pack-us-fl .pack-body", "Fla. Stat. 501.616")
    page.shoot("08-calling-rules-decision")

    assert page.console_errors() == []
    assert page.unlabelled_inputs() == []

    # Sign out: the session is gone, pages lead back to sign-in.
    page.click("button.btn-signout")
    page.wait_text(".auth-card", "You are signed out.")
    page.open("/ui/campaigns")
    page.wait_path("/ui/sign-in")


async def test_manager_signs_in_creates_starts_checks_and_signs_out(
    live_console: LiveConsole, driver: WebDriver
) -> None:
    await _seed(live_console)
    page = Page(driver, live_console.base_url)
    await asyncio.to_thread(_manager_journey, page, live_console.tokens["manager"])
    row = await live_console.pool.fetchrow("SELECT * FROM campaigns WHERE name = 'Summer survey'")
    assert row["state"] == "paused" and row["caller_id"] == "+14155550123"
    assert row["schedule"]["wed"] == [["09:00", "12:00"], ["13:00", "18:00"]]
    assert row["retry_policy"] == {"no_answer": 3 * 3600}
    sessions = await live_console.pool.fetchval(
        "SELECT count(*) FROM ui_sessions s JOIN api_tokens t ON t.id = s.token_id"
        " WHERE t.name = 'Dana (manager)'"
    )
    assert sessions == 0


def _tablet_tour(page: Page, token: str) -> None:
    page.driver.set_window_size(*TABLET)
    page.open("/ui/sign-in")
    page.driver.delete_all_cookies()  # a fresh start, whatever the test before left
    page.open("/ui/sign-in")
    page.type("#f-token", token)
    page.click("#token-sign-in button[type=submit]")
    page.wait_text("h1", "Campaigns")
    for path, name in (
        ("/ui/campaigns", "tablet-campaigns"),
        ("/ui/campaigns/new", "tablet-campaign-form"),
        ("/ui/rules?phone=%2B442079460000&purpose=telemarketing", "tablet-calling-rules"),
    ):
        page.open(path)
        page.find("h1")
        assert not page.overflows_horizontally(), path
        page.shoot(name, size=TABLET)
    page.click("button.btn-signout")
    page.wait_path("/ui/sign-in")


async def test_pages_fit_a_tablet(live_console: LiveConsole, driver: WebDriver) -> None:
    page = Page(driver, live_console.base_url)
    await asyncio.to_thread(_tablet_tour, page, live_console.tokens["manager"])
