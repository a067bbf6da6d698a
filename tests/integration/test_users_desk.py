"""Disabling an agent's user closes its desktop socket at once (not at the next recheck)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import asyncpg
import pytest

from dialer.auth import users
from dialer.auth.roles import SYSTEM
from dialer.http.agentstream import CLOSE_TOKEN_REVOKED, TOKEN_RECHECK_S
from dialer.runtime.parts import agent_bus_part
from tests.integration.engine_support import add_agent, make_campaign, start
from tests.integration.test_ui_sessions import Console, open_console
from tests.integration.test_users import PASSWORD, sign_in


@pytest.fixture(scope="module")
async def console(
    pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    folder = tmp_path_factory.mktemp("users-desk")
    async with open_console(pool, folder, background=[agent_bus_part]) as helper:
        yield helper


async def test_disabling_the_user_closes_its_desk_socket_at_once(console: Console) -> None:
    now = console.clock.now()
    async with console.pool.acquire() as conn:
        campaign = await make_campaign(conn, now)
        await start(conn, campaign["id"], now)
        agent_id = await add_agent(conn, campaign["id"], now, login=False)
        user = await users.create_user(
            conn, {"name": "desk-user", "role": "agent", "password": PASSWORD,
                   "agent": agent_id}, SYSTEM, now=now,
        )  # fmt: skip
    browser = console.browser()
    signed = await sign_in(browser, "desk-user", PASSWORD)
    assert signed.status == 303 and signed.location == "/ui/desk"
    assert (await browser.get("/ui/desk")).location == f"/ui/agents/{agent_id}"
    origin = str(console.server.make_url("")).rstrip("/")
    async with browser.http.ws_connect(
        f"/ui/agents/{agent_id}/events", headers={"Origin": origin}
    ) as ws:
        assert (await ws.receive()).type == aiohttp.WSMsgType.TEXT  # the state
        async with console.pool.acquire() as conn:
            await users.disable_user(conn, user["id"], SYSTEM, now=now)
        async with asyncio.timeout(TOKEN_RECHECK_S / 3):
            while not ws.closed:
                await ws.receive()
        assert ws.close_code == CLOSE_TOKEN_REVOKED
