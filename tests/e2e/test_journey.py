"""The campaign manager's and the agent's day in a real browser, on the real service: sign
in → create a campaign → upload a CSV with bad rows → watch the import finish and see the
rejected rows → download errors.csv → start the campaign with simulated agents → see the
dials rise on the live view → a person at the agent desktop gets a screen pop and saves a
disposition. Screenshots of every page (laptop and tablet) go to artifacts/screenshots/.

The server runs the dialing engine with the simulated gateway and simulated agents at a
high speed-up, the import service, and the real clock: the calling rules apply, so the
list holds numbers of places whose calling hours are open now (chosen with the same
``check_number`` the rules page uses).
"""

from __future__ import annotations

import asyncio
import csv
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from aiohttp import web
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from dialer import db
from dialer.agents import store as agents
from dialer.auth.roles import SYSTEM
from dialer.auth.tokens import create_token
from dialer.clock import SystemClock
from dialer.compliance import check_number
from dialer.config import Settings
from dialer.engine.demo import generate_leads
from dialer.engine.runner import RunnerOptions
from dialer.runtime import EngineParts, create_app, engine_part
from dialer.runtime.parts import imports_part
from dialer.sim.model import CalleeModel
from dialer.telephony import LoopTimer, SimGatewayParams, SimulatedGateway
from tests.e2e.conftest import TABLET, Page

SPEED = 20.0  # call-world seconds per real second
PURPOSE = "survey"
GOOD_ROWS = 40
BAD_ROWS = ["not-a-number", "12", ""]  # invalid, invalid, missing; plus one repeat below
CALL_WAIT_S = 45.0
CALLEES = CalleeModel(
    p_human=0.6, p_machine=0.1, p_busy=0.05, p_failed=0.0, ring_min_s=2, ring_max_s=8,
    talk_s=40.0,
)  # fmt: skip


@dataclass
class LiveService:
    base_url: str
    pool: asyncpg.Pool
    tokens: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
async def service(
    db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveService]:
    """``dialer serve`` as the tests need it: engine (simulated gateway and agents, sped
    up), import service, real clock, on a free port."""
    pool = await db.create_pool(db_url, min_size=2, max_size=30)
    timer = LoopTimer(SPEED)
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("e2e-service"), sim_agents=2, sim_speed=SPEED,
        instance_id="e2e", shutdown_timeout_s=3.0,
    )  # fmt: skip
    engine = EngineParts(
        timer=timer,
        gateway=SimulatedGateway(timer, SimGatewayParams(callee=CALLEES), seed=11),
        options=RunnerOptions(lease_ttl_s=5, tick_s=0.1, shutdown_timeout_s=3),
    )
    app = create_app(
        settings, pool=pool, clock=SystemClock(),
        background=[engine_part(engine), imports_part],
    )  # fmt: skip
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=3)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    live = LiveService(f"http://{host}:{port}", pool)
    async with pool.acquire() as conn:
        live.tokens["manager"], _ = await create_token(
            conn, name="Maya (manager)", role="manager", now=SystemClock().now()
        )
    try:
        yield live
    finally:
        await runner.cleanup()
        await pool.close()


def callable_numbers(count: int) -> list[tuple[str, dict[str, str]]]:
    """Numbers whose calling hours are open now and for the next 15 minutes."""
    now = SystemClock().now()
    found = []
    for phone, fields in generate_leads(900, seed=5):
        if all(
            check_number(phone, PURPOSE, None, now=at).allowed
            for at in (now, now + timedelta(minutes=15))
        ):
            found.append((phone, fields))
        if len(found) == count:
            return found
    raise AssertionError(
        f"only {len(found)} generated numbers may be called for a {PURPOSE} "
        f"now ({now:%a %H:%M} UTC)"
    )


def write_list(folder: Path) -> tuple[Path, int]:
    """The CSV to upload and how many of its rows must be rejected."""
    good = callable_numbers(GOOD_ROWS)
    path = folder / "autumn-survey.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["phone", "first_name", "country", "account"])
        for phone, fields in good:
            writer.writerow([phone, fields["name"], fields["country"], fields["account"]])
        for n, bad in enumerate(BAD_ROWS):
            writer.writerow([bad, f"Bad {n}", "??", f"X{n:03d}"])
        writer.writerow([good[0][0], "Repeat", good[0][1]["country"], "A-REPEAT"])
    return path, len(BAD_ROWS) + 1


def _attribute(driver: WebDriver, css: str, name: str) -> str | None:
    return driver.find_element(By.CSS_SELECTOR, css).get_attribute(name)


def _call_on_screen(driver: WebDriver) -> str | None:
    """The screen pop's "call #<id>" (None when no call is on screen)."""
    if not driver.find_element(By.ID, "call-pop").is_displayed():
        return None
    return str(driver.find_element(By.CSS_SELECTOR, "#call-pop [data-pop=call]").text)


def _number(page: Page, css: str) -> int:
    text = page.driver.find_element(By.CSS_SELECTOR, css).text
    return int(text.replace(",", "").strip() or 0)


def create_and_import(
    page: Page, token: str, csv_path: Path, rejected: int, downloads: Path
) -> int:
    page.open("/ui/")
    page.type("#f-token", token)
    page.click("#token-sign-in button[type=submit]")
    page.wait_text("h1", "Campaigns")
    page.click("a.btn-primary[href='/ui/campaigns/new']")
    page.type("#f-name", "Autumn survey")
    page.select("#f-purpose", PURPOSE)
    page.select("#f-dial_mode", "progressive")
    page.type("#f-caller_id", "+14155550100")
    page.click("form button.btn-primary[type=submit]")
    page.wait_text("#flash", "Campaign “Autumn survey” created.")
    page.wait_text("h1", "Autumn survey")  # straight to its Lead lists
    page.wait_text(".tabs [aria-current=page]", "Lead lists")
    page.shoot("10-lead-lists-empty")

    # Choose the file (the drop zone's file picker); the page streams it to the server.
    page.driver.find_element(By.CSS_SELECTOR, "#f-file").send_keys(str(csv_path))
    page.wait_text("[data-file-name]", "autumn-survey.csv")
    page.click("[data-upload-button]")
    card = page.find(".import-card")
    import_id = int((card.get_attribute("id") or "").split("-")[1])
    page.wait(
        lambda d: (
            d.find_element(By.CSS_SELECTOR, ".import-card").get_attribute("data-state")
            == "completed"
        ),
        30,
    )
    page.wait_text(".import-card [data-rejected]", str(rejected))
    assert _number(page, ".import-card [data-accepted]") == GOOD_ROWS
    assert "100 %" in page.find(".import-card [data-progress]").text
    page.wait_text(".import-summary", "invalid_number")
    assert "duplicate_in_file" in page.find(".import-summary").text
    page.shoot("11-lead-list-imported")

    # errors.csv: a real download, through the console with the session's scope.
    page.driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    page.click("[data-errors-link]")
    target = downloads / f"import-{import_id}-errors.csv"
    page.wait(lambda _d: target.exists() and target.stat().st_size > 0, 15)
    rows = list(csv.DictReader(target.open()))
    assert len(rows) == rejected
    assert {r["reason"] for r in rows} == {"invalid_number", "missing_phone", "duplicate_in_file"}
    return import_id


def agent_logs_in(page: Page, token: str) -> None:
    page.open("/ui/")
    page.type("#f-token", token)
    page.click("#token-sign-in button[type=submit]")
    page.wait_text("h1", "Sam Agent")
    page.wait_text("#connection", "Connected")
    page.wait_text("#call-empty-text", "logged out")
    page.click("[data-agent-action=login]")
    page.wait(
        lambda d: d.find_element(By.ID, "agent-state").get_attribute("data-state") == "available"
    )
    page.wait_text("#call-empty-text", "Waiting for a call")
    page.shoot("20-agent-desktop-ready")


def start_and_watch(page: Page, campaign_id: int) -> None:
    page.open(f"/ui/campaigns/{campaign_id}")
    page.wait_text("#campaign-state", "Draft")
    page.shoot("12-live-view-draft")
    page.click("button[data-action=start]")
    page.wait_text("#flash", "is running")
    page.wait_text("#campaign-state", "Running")
    # The figures refresh on their own (htmx polling): dials appear, then rise.
    page.wait(lambda _d: _number(page, "#kpi-dials .kpi-value") > 0, 30)
    first = _number(page, "#kpi-dials .kpi-value")
    page.wait(lambda _d: _number(page, "#kpi-dials .kpi-value") > first, 30)
    page.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#attempts tbody tr")) > 0)
    page.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".chart .bar-dials[height]")) > 0)
    page.wait_text("#attempts", "Allowed")
    page.shoot("13-live-view-running")


def agent_takes_a_call(page: Page) -> str:
    page.wait(lambda d: d.find_element(By.ID, "call-pop").is_displayed(), CALL_WAIT_S)
    phone = page.find("#call-pop [data-pop=phone_e164]").text
    call_id = page.find("#call-pop [data-pop=call]").text  # "call #<id>"
    assert phone.startswith("+") and call_id.startswith("call #")
    fields = page.find("#lead-fields").get_attribute("textContent") or ""
    assert "Account" in fields and "First name" in fields
    page.shoot("21-agent-screen-pop")
    # The form is saved once the call has ended (wrap-up).
    page.wait(
        lambda d: d.find_element(By.CSS_SELECTOR, "#disposition [data-save]").is_enabled(), 30
    )
    page.select("#f-disposition", "sale")
    page.type("#f-notes", "Happy to take part; prefers email follow-up.")
    page.shoot("22-agent-wrap-up")
    page.click("#disposition [data-save]")
    # The confirmation sits by the Save button (the page's messages clear for the next call).
    page.wait_text("#disposition-saved", "Call saved as “sale”.")
    # The call leaves the screen: the agent waits for the next one (or already has it).
    page.wait(lambda d: _attribute(d, "#agent-state", "data-state") != "wrap_up")
    page.wait(lambda d: _call_on_screen(d) != call_id)
    return phone


def manager_finishes(page: Page, campaign_id: int) -> None:
    page.open(f"/ui/campaigns/{campaign_id}")
    page.click("button[data-action=stop]")
    page.wait_text("#campaign-state", "Stopped")
    page.open("/ui/campaigns")
    page.wait_text("#campaigns", "Autumn survey")
    page.shoot("14-campaigns-with-figures")
    page.open("/ui/dnc")
    page.type("#f-phone", "+44 20 7946 0999")
    page.type("#f-reason", "asked by email")
    page.click("#dnc-add button[type=submit]")
    page.wait_text("#flash", "added to the DNC list")
    page.wait_text("#dnc-entries", "+442079460999")
    page.shoot("15-dnc")
    page.open("/ui/desk")
    page.wait_text("#agents", "Sam Agent")
    page.shoot("16-agent-picker")
    assert page.console_errors() == []
    assert page.unlabelled_inputs() == []
    for path, name in (
        (f"/ui/campaigns/{campaign_id}", "tablet-live-view"),
        (f"/ui/campaigns/{campaign_id}/lists", "tablet-lead-lists"),
        ("/ui/dnc", "tablet-dnc"),
    ):
        page.driver.set_window_size(*TABLET)
        page.open(path)
        page.find("h1")
        assert not page.overflows_horizontally(), path
        page.shoot(name, size=TABLET)


async def test_manager_and_agent_journey(
    service: LiveService, driver: WebDriver, second_driver: WebDriver
) -> None:
    started = time.monotonic()
    manager = Page(driver, service.base_url)
    agent = Page(second_driver, service.base_url)
    with tempfile.TemporaryDirectory(prefix="dialer-e2e-") as scratch:
        folder = Path(scratch)
        downloads = folder / "downloads"
        downloads.mkdir()
        csv_path, rejected = write_list(folder)
        await asyncio.to_thread(
            create_and_import, manager, service.tokens["manager"], csv_path, rejected, downloads
        )
    campaign_id = await service.pool.fetchval(
        "SELECT id FROM campaigns WHERE name = 'Autumn survey'"
    )
    assert (
        await service.pool.fetchval(
            "SELECT count(*) FROM leads WHERE campaign_id = $1", campaign_id
        )
        == GOOD_ROWS
    )

    # A person at an agent desktop works the campaign beside the simulated agents.
    async with service.pool.acquire() as conn:
        row = await agents.create(
            conn, {"name": "Sam Agent", "campaigns": [campaign_id]}, SYSTEM, now=SystemClock().now()
        )
        token, _ = await create_token(
            conn, name="Sam (agent)", role="agent", agent_id=row["id"], now=SystemClock().now()
        )
    await asyncio.to_thread(agent_logs_in, agent, token)
    await asyncio.to_thread(start_and_watch, manager, campaign_id)
    phone = await asyncio.to_thread(agent_takes_a_call, agent)
    attempt = await service.pool.fetchrow(
        "SELECT * FROM attempts WHERE agent_id = $1 AND disposition IS NOT NULL", row["id"]
    )
    assert attempt["phone_e164"] == phone and attempt["disposition"] == "sale"
    assert attempt["notes"] == "Happy to take part; prefers email follow-up."
    assert attempt["compliance"]["allowed"] is True
    await asyncio.to_thread(manager_finishes, manager, campaign_id)
    assert time.monotonic() - started < 80
