"""A supervisor listens to a live call from the board in a real browser: types their phone
once, clicks Listen on the agent in a call, sees the agent marked as listened to, switches
to Whisper, stops; the audit log has every step. The engine runs in the console's process
on the simulated gateway. Screenshots go to artifacts/screenshots/monitor-*.png."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp import web

from dialer.http.keys import CLOCK, ENGINE, POOL
from dialer.runtime.parts import agent_bus_part
from tests.e2e.conftest import LiveConsole, Page, serving_console
from tests.integration.engine_support import (
    add_agent,
    add_leads,
    make_campaign,
    running_engine,
    start,
    wait_for,
)
from tests.integration.monitor_support import TALKERS

NY = "+12125550177"  # 10:00 in New York at the console's 15:00 UTC


async def _engine_part(app: web.Application) -> AsyncIterator[None]:
    async with running_engine(
        app[POOL], instance_id="monitor-e", clock=app[CLOCK], callee=TALKERS
    ) as running:
        app[ENGINE] = running.engine
        yield


@pytest.fixture(scope="module")
async def floor(
    pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveConsole]:
    parts = [agent_bus_part, _engine_part]
    async with serving_console(pool, tmp_path_factory.mktemp("e2e-monitor"), parts) as c:
        c.tokens["manager"] = await c.token("manager", name="Sam (supervisor)")
        yield c


def _row(agent_id: int) -> str:
    return f"#board-agents tr[data-agent='{agent_id}']"


async def test_a_supervisor_listens_from_the_board(floor: LiveConsole, driver: object) -> None:
    now = floor.clock.now()
    async with floor.pool.acquire() as conn:
        campaign = await make_campaign(conn, now, name="Coaching floor")
        cid = campaign["id"]
        agent_id = await add_agent(conn, cid, now)
        await add_leads(conn, cid, [NY], now)
        await start(conn, cid, now)

    async def connected() -> int | None:
        return await floor.pool.fetchval(
            "SELECT id FROM attempts WHERE campaign_id = $1 AND connected_at IS NOT NULL"
            " AND ended_at IS NULL",
            cid,
        )

    attempt = await wait_for(connected)
    page = Page(driver, floor.base_url)  # type: ignore[arg-type]

    def listen_whisper_stop() -> None:
        page.sign_in_with_token(floor.tokens["manager"])
        page.open(f"/ui/campaigns/{cid}/board")
        page.wait(lambda _: page.find(_row(agent_id)).get_attribute("data-state") == "on_call")
        page.type("#monitor-endpoint", "PJSIP/2001")
        page.click(f"{_row(agent_id)} [data-monitor=listen]")
        page.wait_text(".flash", f"Listening to call {attempt} on PJSIP/2001")
        page.wait(lambda _: page.find(_row(agent_id)).get_attribute("data-monitored") == "listen")
        assert "Listening" in page.find(f"{_row(agent_id)} [data-col=monitor]").text
        assert page.find("#monitor-endpoint").get_attribute("value") == "PJSIP/2001"
        page.shoot("monitor-01-listening")
        page.click(f"{_row(agent_id)} [data-monitor=whisper]")
        page.wait(lambda _: page.find(_row(agent_id)).get_attribute("data-monitored") == "whisper")
        page.click(f"{_row(agent_id)} [data-monitor=stop]")
        page.wait_text(".flash", f"Stopped monitoring call {attempt}")
        page.wait(lambda _: page.find(_row(agent_id)).get_attribute("data-monitored") is None)
        page.shoot("monitor-02-stopped")
        assert not page.unlabelled_inputs()

    await asyncio.to_thread(listen_whisper_stop)
    audit = await floor.pool.fetch(
        "SELECT action, actor, details FROM audit_log WHERE object_type = 'call'"
        " AND object_id = $1 ORDER BY id",
        attempt,
    )
    actions = [r["action"] for r in audit]
    assert actions == ["call.monitor", "call.monitor_mode", "call.monitor_stop"]
    assert audit[0]["details"]["endpoint"] == "PJSIP/2001" and "supervisor" in audit[0]["actor"]
    assert not page.console_errors()
