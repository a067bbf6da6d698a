"""End-to-end fixtures: the real application on a real port and Debian's Chromium driven by
Selenium through Debian's chromedriver (never a downloaded driver or browser).

The server runs in the test session's event loop (the database pool belongs to it); every
Selenium call blocks, so a test runs its browser steps in a worker thread
(``await asyncio.to_thread(steps)``) while the loop keeps serving pages.

Missing Chromium or chromedriver is a failure, not a skip: ``.ci/run`` installs both.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from dialer.auth.tokens import create_token
from dialer.clock import FakeClock
from dialer.config import Settings
from dialer.runtime import create_app
from dialer.runtime.parts import agent_bus_part

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
LAPTOP = (1366, 860)
TABLET = (820, 1180)
WAIT_S = 10.0
HEADLESS_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def _find(names: tuple[str, ...], fixed: tuple[str, ...]) -> str | None:
    for path in fixed:
        if Path(path).exists():
            return path
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium() -> tuple[str, str]:
    """(browser binary, chromedriver) from Debian's packages; fail clearly without them."""
    browser = _find(("chromium", "chromium-browser"), ("/usr/bin/chromium",))
    driver = _find(("chromedriver",), ("/usr/bin/chromedriver",))
    if browser is None or driver is None:
        pytest.fail(
            "end-to-end tests need Chromium and chromedriver: "
            "apt-get install -y chromium chromium-driver (.ci/run installs them)",
            pytrace=False,
        )
    return browser, driver


@dataclass
class LiveConsole:
    """The application served on 127.0.0.1 with a FakeClock, and its tokens by role."""

    base_url: str
    pool: asyncpg.Pool
    clock: FakeClock
    tokens: dict[str, str] = field(default_factory=dict)

    async def token(self, role: str, *, name: str) -> str:
        async with self.pool.acquire() as conn:
            token, _ = await create_token(conn, name=name, role=role, now=self.clock.now())
        return token


@asynccontextmanager
async def serving_console(
    pool: asyncpg.Pool, data_dir: Path, background: Sequence[Any] = ()
) -> AsyncIterator[LiveConsole]:
    """The application (with ``background`` parts) on a free 127.0.0.1 port, a FakeClock."""
    clock = FakeClock()
    app = create_app(Settings(data_dir=data_dir), pool=pool, clock=clock, background=background)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield LiveConsole(f"http://{host}:{port}", pool, clock)
    finally:
        await runner.cleanup()


@pytest.fixture(scope="module")
async def live_console(
    pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveConsole]:
    async with serving_console(pool, tmp_path_factory.mktemp("e2e-data")) as console:
        for role in ("manager", "viewer"):
            console.tokens[role] = await console.token(role, name=f"Dana ({role})")
        yield console


@pytest.fixture(scope="module")
async def desk(
    pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveConsole]:
    """The console with the agent bus (desks follow their agent's events) and a manager."""
    data_dir = tmp_path_factory.mktemp("e2e-desk")
    async with serving_console(pool, data_dir, [agent_bus_part]) as console:
        console.tokens["manager"] = await console.token("manager", name="Dana (manager)")
        yield console


def _start_browser(binary: str, driver_path: str, profile: str) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*HEADLESS_FLAGS, f"--user-data-dir={profile}", "--lang=en-GB"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_window_size(*LAPTOP)
    return driver


@asynccontextmanager
async def _browser(chromium: tuple[str, str], prefix: str) -> AsyncIterator[WebDriver]:
    """A browser with a fresh profile of its own (cookies, storage), quit afterwards."""
    binary, driver_path = chromium
    with tempfile.TemporaryDirectory(prefix=prefix) as profile:
        started = await asyncio.to_thread(_start_browser, binary, driver_path, profile)
        try:
            yield started
        finally:
            await asyncio.to_thread(started.quit)


@pytest.fixture(scope="module")
async def driver(chromium: tuple[str, str]) -> AsyncIterator[WebDriver]:
    async with _browser(chromium, "dialer-e2e-chromium-") as started:
        yield started


@pytest.fixture(scope="module")
async def second_driver(chromium: tuple[str, str]) -> AsyncIterator[WebDriver]:
    """Another browser (its own profile and cookies): a second person, e.g. an agent."""
    async with _browser(chromium, "dialer-e2e-chromium-2-") as started:
        yield started


class Page:
    """Browser steps with explicit waits (never sleeps) and screenshots."""

    def __init__(self, driver: WebDriver, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def sign_in_with_token(self, token: str) -> None:
        """A fresh session signed in with an API token; lands on the campaign list."""
        self.open("/ui/sign-in")
        self.driver.delete_all_cookies()
        self.open("/ui/sign-in")
        self.type("#f-token", token)
        self.click("#token-sign-in button[type=submit]")
        self.wait_path("/ui/campaigns")

    def wait(self, condition: Callable[[Any], Any], timeout: float = WAIT_S) -> Any:
        """Wait for ``condition``; elements that htmx replaces meanwhile are looked up again."""
        waiting = WebDriverWait(
            self.driver, timeout, ignored_exceptions=(StaleElementReferenceException,)
        )

        def again_if_swapped(driver: Any) -> Any:
            try:
                return condition(driver)
            except WebDriverException as exc:  # Chrome's word for a node htmx just replaced
                if "does not belong to the document" in str(exc):
                    return False
                raise

        return waiting.until(again_if_swapped)

    def find(self, css: str) -> WebElement:
        return self.wait(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def wait_text(self, css: str, text: str) -> WebElement:
        self.wait(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def wait_path(self, path: str) -> None:
        self.wait(lambda d: d.current_url.split("?")[0] == self.base_url + path)

    def type(self, css: str, text: str) -> None:
        element = self.find(css)
        element.clear()
        element.send_keys(text)

    def click(self, css: str) -> None:
        """Click ``css`` once it is clickable; a node htmx swaps between the look-up and the
        click is looked up again (the click is retried, never lost)."""
        clickable = ec.element_to_be_clickable((By.CSS_SELECTOR, css))

        def clicked(driver: Any) -> bool:
            element = clickable(driver)
            if not element:
                return False
            element.click()  # StaleElementReferenceException: wait() retries
            return True

        self.wait(clicked)

    def select(self, css: str, value: str) -> None:
        """Choose ``value`` in the ``<select>`` at ``css``; a node htmx swaps between the
        look-up and the choice is looked up again (the choice is retried, never lost)."""
        visible = ec.visibility_of_element_located((By.CSS_SELECTOR, css))

        def chosen(driver: Any) -> bool:
            element = visible(driver)
            if not element:
                return False
            Select(element).select_by_value(value)  # StaleElementReferenceException: retried
            return True

        self.wait(chosen)

    def shoot(self, name: str, *, size: tuple[int, int] = LAPTOP) -> Path:
        """A full-page screenshot (the window grows to the page's height for the picture)."""
        width, height = size
        self.driver.set_window_size(width, height)
        self.driver.execute_script("window.scrollTo(0, 0)")
        full, chrome = self.driver.execute_script(
            "return [document.documentElement.scrollHeight, "
            "window.outerHeight - window.innerHeight]"
        )
        self.driver.set_window_size(width, max(height, int(full) + int(chrome)))
        path = SCREENSHOTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(width, height)
        return path

    def console_errors(self) -> list[str]:
        """Errors the page logged: CSP violations, script errors, failed loads. A form sent
        back with errors answers 400 by design; Chromium logs that too, so it is left out."""
        return [
            entry["message"]
            for entry in self.driver.get_log("browser")
            if entry["level"] == "SEVERE" and "status of 400 (Bad Request)" not in entry["message"]
        ]

    def unlabelled_inputs(self) -> list[str]:
        """Visible form controls without a label: an accessibility basic."""
        return list(
            self.driver.execute_script(
                "return [...document.querySelectorAll("
                "'input:not([type=hidden]), select, textarea')]"
                ".filter(e => !e.labels.length && !e.getAttribute('aria-label'))"
                ".map(e => e.name || e.id);"
            )
        )

    def overflows_horizontally(self) -> bool:
        return bool(
            self.driver.execute_script(
                "return document.documentElement.scrollWidth > window.innerWidth + 1;"
            )
        )
