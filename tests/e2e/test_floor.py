"""The call floor in a real browser: a manager signs in with a password and creates an agent
user on the Users page; the agent signs in with that password and lands on their desktop;
the manager sets the campaign's dispositions and pause codes; the agent pauses with a code.
Screenshots go to artifacts/screenshots/floor-*.png."""

from __future__ import annotations

import asyncio

from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from dialer.auth import users
from dialer.auth.roles import SYSTEM
from tests.e2e.conftest import LiveConsole, Page

PASSWORD = "correct horse battery"


def _sign_in(page: Page, name: str, password: str) -> None:
    page.open("/ui/sign-in")
    page.type("#f-username", name)
    page.type("#f-password", password)
    page.click("#password-sign-in button[type=submit]")


def _manager_creates_an_agent_user(page: Page) -> None:
    _sign_in(page, "floor-boss", "not the password")
    page.wait_text("#e-password", "do not match")
    page.shoot("floor-01-sign-in-wrong-password")
    _sign_in(page, "floor-boss", PASSWORD)
    page.wait_path("/ui/campaigns")
    page.click("a[href='/ui/users']")
    page.wait_text("h1", "Users")
    page.type("#f-name", "floor-agent")
    Select(page.find("#f-role")).select_by_value("agent")
    page.type("#f-password", "short")
    page.click("#new-user button[type=submit]")
    page.wait_text("#e-password", "10-200 characters")
    page.type("#f-password", PASSWORD)
    page.click("#new-user button[type=submit]")
    page.wait_text("#users", "floor-agent")
    page.shoot("floor-02-users")
    assert not page.unlabelled_inputs()


def _agent_signs_in(page: Page) -> None:
    _sign_in(page, "floor-agent", PASSWORD)
    page.wait_text("h1", "floor-agent")
    assert "/ui/agents/" in page.driver.current_url
    page.find("[data-agent-action=login]")
    page.shoot("floor-03-agent-desk")


async def test_password_sign_in_journey(
    live_console: LiveConsole, driver: WebDriver, second_driver: WebDriver
) -> None:
    async with live_console.pool.acquire() as conn:
        await users.create_user(
            conn, {"name": "floor-boss", "role": "manager", "password": PASSWORD}, SYSTEM,
            now=live_console.clock.now(),
        )  # fmt: skip
    manager = Page(driver, live_console.base_url)
    await asyncio.to_thread(_manager_creates_an_agent_user, manager)
    agent = Page(second_driver, live_console.base_url)
    await asyncio.to_thread(_agent_signs_in, agent)
    assert not manager.console_errors()  # (the agent's desk socket needs an engine: none here)
