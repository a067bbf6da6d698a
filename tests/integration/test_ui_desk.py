"""The agent desktop over real HTTP, WebSocket and PostgreSQL: state buttons, the screen
pop relayed from the agent events (session cookie + Origin check), the disposition form,
and who may open whose desktop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
import pytest

from dialer.agents import store as agents
from dialer.auth.tokens import create_token
from dialer.engine import records
from dialer.http.agentstream import CLOSE_TOKEN_REVOKED
from dialer.runtime.parts import agent_bus_part
from tests.integration.engine_support import add_agent, add_leads, make_campaign, start
from tests.integration.test_ui_pages import _error_for
from tests.integration.test_ui_sessions import Browser, Console, open_console


@pytest.fixture(scope="module")
async def console(
    pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    folder = tmp_path_factory.mktemp("ui-desk")
    async with open_console(pool, folder, background=[agent_bus_part]) as helper:
        yield helper


async def _desk(console: Console, *, client_id: int | None = None) -> tuple[int, int, Browser]:
    """A running campaign, an agent working it, and a browser signed in as that agent."""
    now = console.clock.now()
    async with console.pool.acquire() as conn:
        campaign = await make_campaign(conn, now)
        await start(conn, campaign["id"], now)
        agent_id = await add_agent(conn, campaign["id"], now, login=False)
        token, _ = await create_token(
            conn, name=f"desk-{agent_id}", role="agent", agent_id=agent_id, now=now
        )
    browser = console.browser()
    await browser.sign_in(token)
    return campaign["id"], agent_id, browser


async def _next(ws: Any, kind: str) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            message = json.loads((await ws.receive()).data)
            if message["type"] == kind:
                return message


async def _connect_call(console: Console, campaign_id: int, agent_id: int, phone: str) -> int:
    now = console.clock.now()
    async with console.pool.acquire() as conn:
        [lead_id] = await add_leads(conn, campaign_id, [phone], now)
        attempt: int = await conn.fetchval(
            "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, compliance)"
            " VALUES ($1, $2, $3, $4, '{}') RETURNING id",
            lead_id, campaign_id, phone, now,
        )  # fmt: skip
        await conn.execute(
            "UPDATE leads SET status = 'retry', attempts_count = 1, last_attempt_at = $2,"
            " updated_at = $2, claimed_by = 'test', claimed_until = 'infinity' WHERE id = $1",
            lead_id,
            now,
        )
        assert await records.connect(
            conn, agent_id=agent_id, attempt_id=attempt, campaign_id=campaign_id, now=now,
            answered_at=now, ring_s=4.0, wait_s=0.2, reserved=False,
        )  # fmt: skip
    return attempt


async def _hang_up(console: Console, agent_id: int, attempt: int) -> None:
    """The callee hangs up: the attempt ends, the agent goes into wrap-up."""
    now = console.clock.now()
    async with console.pool.acquire() as conn:
        await conn.execute(
            "UPDATE attempts SET ended_at = $2, outcome = 'completed', answer = 'human',"
            " talk_s = 42 WHERE id = $1",
            attempt,
            now,
        )
        await agents.act(conn, agent_id, "hangup", scope=None, now=now, expect_attempt=attempt)


async def test_screen_pop_and_disposition_through_the_desktop(console: Console) -> None:
    cid, agent_id, browser = await _desk(console)
    page = await browser.get("/ui/desk")
    assert page.location == f"/ui/agents/{agent_id}"
    page = await browser.get(page.location)
    assert page.status == 200 and 'data-agent-action="login"' in page.text
    htmx = {"HX-Request": "true", "X-CSRF-Token": browser.csrf}
    resp = await browser.post(f"/ui/agents/{agent_id}/login", headers=htmx)
    assert resp.status == 200 and 'data-state="available"' in resp.text
    assert "logged in and ready" in resp.text
    origin = str(console.server.make_url("")).rstrip("/")
    async with browser.http.ws_connect(
        f"/ui/agents/{agent_id}/events", headers={"Origin": origin}
    ) as ws:
        assert (await _next(ws, "state"))["state"] == "available"
        attempt = await _connect_call(console, cid, agent_id, "+14155550142")
        pop = await _next(ws, "call")
        assert pop["call_id"] == attempt and pop["lead"]["phone_e164"] == "+14155550142"
        assert pop["lead"]["fields"] == {"name": "0142"}
        # Saving before the call has ended is refused, and says why.
        early = await browser.post(
            f"/ui/agents/{agent_id}/disposition",
            {"call_id": str(attempt), "disposition": "sale"},
            headers=htmx,
        )
        assert "still in progress" in early.text
        await _hang_up(console, agent_id, attempt)
        assert (await _next(ws, "state"))["state"] == "wrap_up"
        bad = await browser.post(
            f"/ui/agents/{agent_id}/disposition",
            {"call_id": str(attempt), "disposition": "callback", "callback_at": "yesterday"},
            headers=htmx,
        )
        assert "ISO 8601" in (_error_for(bad.text, "callback_at") or "")
        assert 'value="callback"' in bad.text and f'value="{attempt}"' in bad.text
        saved = await browser.post(
            f"/ui/agents/{agent_id}/disposition",
            {"call_id": str(attempt), "disposition": "callback",
             "callback_at": "2026-01-06T10:30", "callback_zone": "lead",
             "callback_owner": "anyone", "dnc": "", "notes": "call after 10"},
            headers=htmx,
        )  # fmt: skip
        assert "Call saved as “callback”." in saved.text
        assert (await _next(ws, "state"))["state"] == "available"
    row = await console.pool.fetchrow("SELECT * FROM attempts WHERE id = $1", attempt)
    assert row["disposition"] == "callback" and row["notes"] == "call after 10"
    lead = await console.pool.fetchrow("SELECT * FROM leads WHERE id = $1", row["lead_id"])
    # 10:30 in San Francisco (the lead's zone) on 6 January is 18:30 UTC; anyone may call.
    assert lead["status"] == "callback" and lead["callback_agent_id"] is None
    assert lead["next_attempt_at"].isoformat() == "2026-01-06T18:30:00+00:00"


async def test_a_reloaded_desktop_shows_the_call_in_wrap_up(console: Console) -> None:
    cid, agent_id, browser = await _desk(console)
    await browser.get(f"/ui/agents/{agent_id}")
    await browser.submit(f"/ui/agents/{agent_id}/login")
    attempt = await _connect_call(console, cid, agent_id, "+14155550143")
    await _hang_up(console, agent_id, attempt)
    page = await browser.get(f"/ui/agents/{agent_id}")
    initial = json.loads(page.text.split('id="desk-initial">')[1].split("</script>")[0])
    assert [m["type"] for m in initial] == ["state", "call"]
    assert initial[0]["state"] == "wrap_up" and initial[1]["call_id"] == attempt
    assert initial[1]["lead"]["phone_e164"] == "+14155550143"


async def test_pause_with_a_reason_ready_and_logout(console: Console) -> None:
    _, agent_id, browser = await _desk(console)
    await browser.get(f"/ui/agents/{agent_id}")
    assert (await browser.submit(f"/ui/agents/{agent_id}/login")).status == 303
    await browser.get(f"/ui/agents/{agent_id}")
    await browser.submit(f"/ui/agents/{agent_id}/pause", {"reason": "lunch"})
    state = await console.pool.fetchrow(
        "SELECT state, state_reason FROM agents WHERE id = $1", agent_id
    )
    assert tuple(state) == ("paused", "lunch")
    page = await browser.get(f"/ui/agents/{agent_id}")
    assert "You are paused." in page.text and "Reason: Lunch" in page.text
    await browser.submit(f"/ui/agents/{agent_id}/ready")
    await browser.submit(f"/ui/agents/{agent_id}/logout")
    assert (
        await console.pool.fetchval("SELECT state FROM agents WHERE id = $1", agent_id) == "offline"
    )
    resp = await browser.submit(f"/ui/agents/{agent_id}/ready")
    page = await browser.get(resp.location)
    assert "log in first" in page.text  # the state machine's own refusal


async def test_an_agent_cannot_open_or_drive_another_agents_desktop(console: Console) -> None:
    _, mine, browser = await _desk(console)
    _, theirs, _ = await _desk(console)
    await browser.get(f"/ui/agents/{mine}")
    page = await browser.get(f"/ui/agents/{theirs}")
    assert page.status == 403 and "only open their own" in page.text
    assert (await browser.submit(f"/ui/agents/{theirs}/login")).status == 403
    assert (
        await browser.submit(f"/ui/agents/{theirs}/disposition", {"call_id": "1"})
    ).status == 403
    origin = str(console.server.make_url("")).rstrip("/")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await browser.http.ws_connect(f"/ui/agents/{theirs}/events", headers={"Origin": origin})
    assert refused.value.status == 403
    assert (
        await console.pool.fetchval("SELECT state FROM agents WHERE id = $1", theirs) == "offline"
    )


async def test_the_events_socket_checks_origin_and_session(console: Console) -> None:
    _, agent_id, browser = await _desk(console)
    for origin in ("https://evil.example", None):
        headers = {"Origin": origin} if origin else {}
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await browser.http.ws_connect(f"/ui/agents/{agent_id}/events", headers=headers)
        assert refused.value.status == 403
    stranger = console.browser()
    origin = str(console.server.make_url("")).rstrip("/")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await stranger.http.ws_connect(f"/ui/agents/{agent_id}/events", headers={"Origin": origin})
    assert refused.value.request_info.url.path == "/ui/sign-in"  # sent to sign in


async def test_managers_open_their_clients_agents_only(console: Console) -> None:
    _, agent_id, _ = await _desk(console)
    async with console.pool.acquire() as conn:
        other = await conn.fetchval("INSERT INTO clients (name) VALUES ('Desk Co') RETURNING id")
        foreign = await conn.fetchval(
            "INSERT INTO agents (client_id, name) VALUES ($1, 'far away') RETURNING id", other
        )
    manager = await console.signed_in("manager")
    page = await manager.get("/ui/desk")
    assert f'href="/ui/agents/{agent_id}"' in page.text
    assert (await manager.get(f"/ui/agents/{agent_id}")).status == 200
    token = await console.token("manager", name="desk-scoped", client_id=1)
    scoped = console.browser()
    await scoped.sign_in(token)
    resp = await scoped.get(f"/ui/agents/{foreign}")
    assert resp.status == 404 and "does not exist" in resp.text
    assert (await scoped.submit(f"/ui/agents/{foreign}/login")).status == 404
    viewer = await console.signed_in("viewer")
    assert (await viewer.get(f"/ui/agents/{agent_id}")).status == 403  # no agent.self


async def test_signing_out_ends_the_screen_pops(console: Console) -> None:
    _, agent_id, browser = await _desk(console)
    origin = str(console.server.make_url("")).rstrip("/")
    async with browser.http.ws_connect(
        f"/ui/agents/{agent_id}/events", headers={"Origin": origin}
    ) as ws:
        assert (await _next(ws, "state"))["state"] == "offline"
        await browser.get(f"/ui/agents/{agent_id}")  # the page (and its CSRF token)
        resp = await browser.submit("/ui/sign-out")
        assert resp.status == 303
        async with console.pool.acquire() as conn:  # a change the desktop would have shown
            await agents.act(conn, agent_id, "login", scope=None, now=console.clock.now())
        async with asyncio.timeout(10):
            message = await ws.receive()
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert ws.close_code == CLOSE_TOKEN_REVOKED
