"""The call floor in a real browser: a manager signs in with a password, creates an agent
user on the Users page and sets the campaign's dispositions, pause codes and script; the
agent signs in with that password, takes a call (injected as the engine records one), sees
the script with the lead's field (a ``<script>`` shown as text) and the campaign's
dispositions, saves one with its hotkey, and pauses with a campaign pause code.
Screenshots go to artifacts/screenshots/floor-*.png."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from dialer.agents import store as agents
from dialer.auth import users
from dialer.auth.roles import SYSTEM
from dialer.engine import records
from dialer.runtime.parts import agent_bus_part
from tests.e2e.conftest import LiveConsole, Page, serving_console
from tests.integration.engine_support import add_agent, add_leads, make_campaign, start

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
async def floor(
    pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveConsole]:
    """The console with the agent bus (desk sockets), on a real port."""
    data_dir = tmp_path_factory.mktemp("e2e-floor")
    async with serving_console(pool, data_dir, [agent_bus_part]) as console:
        yield console


def _sign_in(page: Page, name: str, password: str) -> None:
    page.open("/ui/sign-in")
    page.type("#f-username", name)
    page.type("#f-password", password)
    page.click("#password-sign-in button[type=submit]")


def _manager(page: Page, campaign_id: int, agent_id: int) -> None:
    _sign_in(page, "floor-boss", "not the password")
    page.wait_text("#e-password", "do not match")
    page.shoot("floor-01-sign-in-wrong-password")
    _sign_in(page, "floor-boss", PASSWORD)
    page.wait_path("/ui/campaigns")
    page.click("a[href='/ui/users']")
    page.wait_text("h1", "Users")
    page.type("#f-name", "floor-agent")
    page.select("#f-role", "agent")
    page.type("#f-password", "short")
    page.click("#new-user button[type=submit]")
    page.wait_text("#e-password", "10-200 characters")
    page.type("#f-password", PASSWORD)
    page.type("#f-agent", str(agent_id))
    page.click("#new-user button[type=submit]")
    page.wait_text("#users", "floor-agent")
    page.shoot("floor-02-users")
    assert not page.unlabelled_inputs()
    # The campaign's dispositions and pause codes.
    page.open(f"/ui/campaigns/{campaign_id}/floor")
    page.wait_text("h2", "Dispositions")
    rows = [("PTP", "Promise to pay", "callback", "3600", "1"),
            ("REFUSED", "Refused to pay", "complete", "", "2")]  # fmt: skip
    for n, (code, label, action, retry, key) in enumerate(rows):
        page.type(f"[name=d-{n}-code]", code)
        page.type(f"[name=d-{n}-label]", label)
        page.select(f"[name=d-{n}-action]", action)
        page.type(f"[name=d-{n}-retry_after_s]", retry)
        page.type(f"[name=d-{n}-max_attempts]", "")
        page.type(f"[name=d-{n}-hotkey]", key)
    for n in range(2, 11):  # the defaults beyond two rows are removed
        page.type(f"[name=d-{n}-code]", "")
    page.click("[data-save=dispositions]")
    page.wait_text(".flash", "2 dispositions saved")
    page.type("[name=p-0-code]", "BIO")
    page.type("[name=p-0-label]", "Bio break")
    for n in range(1, 6):  # the other default pause codes are removed
        page.type(f"[name=p-{n}-code]", "")
    page.click("[data-save=pauses]")
    page.wait_text(".flash", "pause codes saved")
    # The script: an attempt to reach Python internals is refused at the field.
    page.type("#f-body", "{{ ''.__class__ }}")
    page.click("[data-save=script]")
    page.wait_text("#e-script", "may only use the lead's fields")
    page.type("#f-body", "Hello {{ lead.first_name }}, this is Spring Collections.")
    page.click("[data-save=script]")
    page.wait_text(".flash", "Script saved")
    page.shoot("floor-03-dispositions")
    assert not page.unlabelled_inputs()


def _agent_until_call(page: Page, agent_id: int) -> None:
    _sign_in(page, "floor-agent", PASSWORD)
    page.wait_path(f"/ui/agents/{agent_id}")
    page.click("[data-agent-action=login]")
    page.wait(lambda d: d.find_element(By.ID, "agent-state").get_attribute("data-state")
              == "available")  # fmt: skip
    page.wait_text("#connection", "Connected")


def _agent_dispositions_and_pauses(page: Page) -> None:
    page.wait_text("#script-text", "Hello <script>alert(1)</script>, this is Spring")
    assert not page.driver.find_elements(By.CSS_SELECTOR, "#script-text script")
    page.wait_text("[data-dispositions]", "1 · Promise to pay")
    options = page.driver.find_elements(By.CSS_SELECTOR, "[data-dispositions] option")
    assert [o.get_attribute("value") for o in options] == ["", "PTP", "REFUSED"]
    page.wait(lambda d: d.find_element(By.CSS_SELECTOR, "[data-save]").is_enabled())
    page.shoot("floor-04-wrap-up")
    page.driver.find_element(By.TAG_NAME, "body").send_keys("2")
    page.wait_text(".flash", "Call saved as “REFUSED”")
    page.wait(lambda d: d.find_element(By.ID, "agent-state").get_attribute("data-state")
              == "available")  # fmt: skip
    pause = Select(page.find("#f-pause-reason"))
    assert [o.get_attribute("value") for o in pause.options] == ["BIO"]
    page.click("[data-agent-action=pause]")
    page.wait(lambda d: d.find_element(By.ID, "agent-state").get_attribute("data-state")
              == "paused")  # fmt: skip
    assert "bio" in page.find("#status").text.lower()
    page.shoot("floor-05-paused")


def _manager_finds_the_lead(page: Page) -> None:
    page.click("a[href='/ui/leads']")
    page.type("#q-phone", "(415) 555-0177")
    page.type("#q-region", "US")
    page.click("#lead-search button[type=submit]")
    page.click("#leads-found a")
    page.wait_text("#lead-attempts", "REFUSED")
    assert "<script>alert(1)</script>" in page.find("#lead-fields").text
    page.shoot("floor-06-lead")


async def _call(floor: LiveConsole, campaign_id: int, agent_id: int) -> int:
    """A call connected to the agent and hung up, as the engine records one."""
    now = floor.clock.now()
    async with floor.pool.acquire() as conn:
        [lead_id] = await add_leads(conn, campaign_id, ["+14155550177"], now)
        await conn.execute(
            "UPDATE leads SET fields = $2 WHERE id = $1",
            lead_id, {"first_name": "<script>alert(1)</script>"},
        )  # fmt: skip
        attempt: int = await conn.fetchval(
            "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, compliance)"
            " VALUES ($1, $2, $3, $4, '{}') RETURNING id",
            lead_id, campaign_id, "+14155550177", now,
        )  # fmt: skip
        await conn.execute(
            "UPDATE leads SET status = 'retry', attempts_count = 1, updated_at = $2,"
            " claimed_by = 'test', claimed_until = 'infinity' WHERE id = $1",
            lead_id, now,
        )  # fmt: skip
        assert await records.connect(
            conn, agent_id=agent_id, attempt_id=attempt, campaign_id=campaign_id, now=now,
            answered_at=now, ring_s=4.0, wait_s=0.2, reserved=False,
        )  # fmt: skip
        await conn.execute(
            "UPDATE attempts SET ended_at = $2, outcome = 'completed', answer = 'human',"
            " talk_s = 42 WHERE id = $1",
            attempt, now,
        )  # fmt: skip
        await agents.act(conn, agent_id, "hangup", scope=None, now=now, expect_attempt=attempt)
    return lead_id


async def test_floor_journey(
    floor: LiveConsole, driver: WebDriver, second_driver: WebDriver
) -> None:
    now = floor.clock.now()
    async with floor.pool.acquire() as conn:
        campaign = await make_campaign(conn, now, name="Collections spring")
        await start(conn, campaign["id"], now)
        agent_id = await add_agent(conn, campaign["id"], now, login=False)
        await users.create_user(
            conn, {"name": "floor-boss", "role": "manager", "password": PASSWORD}, SYSTEM,
            now=now,
        )  # fmt: skip
    manager = Page(driver, floor.base_url)
    await asyncio.to_thread(_manager, manager, campaign["id"], agent_id)
    agent = Page(second_driver, floor.base_url)
    await asyncio.to_thread(_agent_until_call, agent, agent_id)
    lead_id = await _call(floor, campaign["id"], agent_id)
    await asyncio.to_thread(_agent_dispositions_and_pauses, agent)
    lead = await floor.pool.fetchrow("SELECT status, last_disposition FROM leads WHERE id = $1",
                                     lead_id)  # fmt: skip
    assert lead["status"] == "completed" and lead["last_disposition"] == "REFUSED"
    await asyncio.to_thread(_manager_finds_the_lead, manager)
    assert not manager.console_errors() and not agent.console_errors()
