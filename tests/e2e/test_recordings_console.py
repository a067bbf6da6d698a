"""Recordings in the console: the lead page shows each attempt's recording with a player and
a download link (a deleted one says so); the agent desktop lists the past calls of the lead
on screen with theirs, which only that agent can fetch while the lead is theirs."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import asyncpg
from selenium.webdriver.remote.webdriver import WebDriver

from dialer.auth.tokens import create_token
from dialer.engine import records
from dialer.recordings import LocalRecordings
from dialer.runtime.parts import agent_bus_part
from dialer.telephony.sim import tone_wav
from tests.e2e.conftest import Page, serving_console
from tests.integration.engine_support import add_agent, add_leads, make_campaign, start

FETCH = """
const done = arguments[arguments.length - 1];
fetch(arguments[0]).then(r => r.arrayBuffer().then(b => done([r.status,
  r.headers.get('content-type'), b.byteLength]))).catch(e => done(['error', String(e)]));
"""


def _fetch(page: Page, src: str) -> list[object]:
    return page.driver.execute_async_script(FETCH, src)  # type: ignore[no-any-return]


def _lead_page(page: Page, token: str, lead: int, kept: int, deleted: int, size: int) -> None:
    page.sign_in_with_token(token)
    page.open(f"/ui/leads/{lead}")
    audio = page.find(f"#lead-attempts audio[src='/ui/attempts/{kept}/recording']")
    assert audio.get_attribute("controls") is not None
    link = page.find(f"#lead-attempts a[href='/ui/attempts/{kept}/recording']")
    assert link.get_attribute("download") is not None
    assert _fetch(page, f"/ui/attempts/{kept}/recording") == [200, "audio/wav", size]
    assert "Deleted (retention)" in page.find("#lead-attempts").text
    assert not page.driver.find_elements(
        "css selector", f"audio[src='/ui/attempts/{deleted}/recording']"
    )
    page.shoot("lead-page-recordings")
    assert page.console_errors() == []


def _desk(page: Page, token: str, agent: int, kept: int, size: int) -> None:
    page.open("/ui/sign-in")
    page.driver.delete_all_cookies()
    page.open("/ui/sign-in")
    page.type("#f-token", token)
    page.click("#token-sign-in button[type=submit]")
    page.wait_path(f"/ui/agents/{agent}")  # an agent lands on their desktop
    src = f"/ui/agents/{agent}/calls/{kept}/recording"
    page.wait(lambda d: d.find_elements("css selector", f"#past-calls audio[src='{src}']"))
    assert _fetch(page, src) == [200, "audio/wav", size]
    # the lead page's route needs leads.read, which an agent does not have
    assert _fetch(page, f"/ui/attempts/{kept}/recording")[0] == 403
    page.shoot("desk-past-calls")
    refused = f"/ui/attempts/{kept}/recording"  # the 403 asked for above
    assert [e for e in page.console_errors() if refused not in e] == []
    page.driver.get("about:blank")  # the desk's WebSocket closes before the server stops


async def test_recordings_on_the_lead_page_and_the_agent_desk(
    pool: asyncpg.Pool, driver: WebDriver, tmp_path: Path
) -> None:
    async with serving_console(pool, tmp_path, [agent_bus_part]) as console:
        now = console.clock.now()
        async with pool.acquire() as conn:
            campaign = await make_campaign(conn, now, record="connected")
            cid = int(campaign["id"])
            await start(conn, cid, now)
            [lead] = await add_leads(conn, cid, ["+14155550177"], now)
            ids = []
            for days, ended in ((3, True), (2, True), (0, False)):
                ids.append(await conn.fetchval(
                    "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at,"
                    " ended_at, outcome, answer, talk_s, compliance)"
                    " VALUES ($1, $2, '+14155550177', $3, $4, $5, $6, $7, '{}') RETURNING id",
                    lead, cid, now - timedelta(days=days),
                    now - timedelta(days=days, minutes=-1) if ended else None,
                    "completed" if ended else None, "human" if ended else None,
                    40 if ended else None,
                ))  # fmt: skip
            deleted, kept, live = ids
            audio = tone_wav(1.5)
            stored = await LocalRecordings(tmp_path / "recordings").put(f"{cid}/{kept}.wav", audio)
            await conn.execute(
                "UPDATE attempts SET recording_key = $2, recording_url = $3, recording_s = 1.5,"
                " recording_sha256 = $4 WHERE id = $1",
                kept, stored.key, f"/api/v1/attempts/{kept}/recording", stored.sha256,
            )  # fmt: skip
            await conn.execute(
                "UPDATE attempts SET recording_key = 'gone', recording_deleted_at = $2"
                " WHERE id = $1",
                deleted, now,
            )  # fmt: skip
            await conn.execute(
                "UPDATE leads SET status = 'retry', claimed_by = 'test',"
                " claimed_until = 'infinity' WHERE id = $1",
                lead,
            )
            agent = await add_agent(conn, cid, now)
            assert await records.connect(
                conn, agent_id=agent, attempt_id=live, campaign_id=cid, now=now,
                answered_at=now, ring_s=4.0, wait_s=0.2, reserved=False,
            )  # fmt: skip
            agent_token, _ = await create_token(
                conn, name="desk", role="agent", agent_id=agent, now=now
            )
        manager = await console.token("manager", name="Dana")
        page = Page(driver, console.base_url)
        await asyncio.to_thread(_lead_page, page, manager, lead, kept, deleted, len(audio))
        await asyncio.to_thread(_desk, page, agent_token, agent, kept, len(audio))
