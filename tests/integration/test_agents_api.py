"""Agents over HTTP: management, the desktop's state actions, own-agent tokens, WebSocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from dialer.auth.tokens import revoke_token
from dialer.clock import FakeClock
from dialer.config import Settings
from dialer.engine import records
from dialer.http import agentstream
from dialer.http.agentstream import CLOSE_TOKEN_REVOKED
from dialer.runtime import create_app
from dialer.runtime.parts import agent_bus_part
from tests.integration.conftest import Api
from tests.integration.engine_support import add_leads, make_campaign, start


async def _campaign(api: Api, **fields: Any) -> int:
    async with api.pool.acquire() as conn:
        row = await make_campaign(conn, api.clock.now(), **fields)
    return int(row["id"])


async def _agent(api: Api, campaigns: list[int], name: str, **kw: Any) -> dict[str, Any]:
    status, body = await api.call(
        "POST", "/api/v1/agents", json={"name": name, "campaigns": campaigns, **kw}
    )
    assert status == 201, body
    return body


async def test_create_list_get_patch_delete(api: Api) -> None:
    c1, c2 = await _campaign(api), await _campaign(api)
    agent = await _agent(api, [c1], "Alice", endpoint="PJSIP/1001")
    assert agent["state"] == "offline" and agent["campaigns"] == [c1]
    assert agent["endpoint"] == "PJSIP/1001" and agent["client_id"] == 1

    status, got = await api.call("GET", f"/api/v1/agents/{agent['id']}", as_="manager")
    assert status == 200 and got["name"] == "Alice"
    status, page = await api.call("GET", f"/api/v1/agents?campaign={c1}", as_="viewer")
    assert status == 200 and [a["id"] for a in page["items"]] == [agent["id"]]

    status, changed = await api.call(
        "PATCH", f"/api/v1/agents/{agent['id']}", json={"campaigns": [c1, c2], "endpoint": None}
    )
    assert status == 200 and changed["campaigns"] == [c1, c2] and changed["endpoint"] is None

    status, _ = await api.call("DELETE", f"/api/v1/agents/{agent['id']}", as_="manager")
    assert status == 204
    status, _ = await api.call("GET", f"/api/v1/agents/{agent['id']}")
    assert status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x", "campaigns": "1"}, "campaigns"),
        ({"name": "x", "campaigns": [999999]}, "campaigns"),
        ({"name": "x", "endpoint": 5}, "endpoint"),
        ({"name": "x", "colour": "red"}, "colour"),
    ],
)
async def test_bad_input_is_400_naming_the_field(api: Api, body: dict, field: str) -> None:
    status, answer = await api.call("POST", "/api/v1/agents", json=body)
    assert status == 400 and answer["field"] == field


async def test_duplicate_names_conflict(api: Api) -> None:
    await _agent(api, [], "Twin")
    status, body = await api.call("POST", "/api/v1/agents", json={"name": "twin"})
    assert status == 409 and body["field"] == "name"


async def test_the_desktop_drives_the_agent_state_machine(api: Api) -> None:
    agent = await _agent(api, [await _campaign(api)], "Bob")
    token = await api.token("agent", agent_id=agent["id"], name="bob-desk")
    base = f"/api/v1/agents/{agent['id']}"
    status, body = await api.call("POST", f"{base}/pause", as_=token)
    assert status == 409 and "log in first" in body["error"]
    status, body = await api.call("POST", f"{base}/login", as_=token)
    assert status == 200 and body["state"] == "available" and body["logged_in_at"]
    status, body = await api.call("POST", f"{base}/pause", as_=token, json={"reason": "lunch"})
    assert status == 200 and (body["state"], body["state_reason"]) == ("paused", "lunch")
    status, body = await api.call("POST", f"{base}/ready", as_=token)
    assert status == 200 and body["state"] == "available"
    status, body = await api.call("POST", f"{base}/pause", as_=token, json={"reason": 5})
    assert status == 400 and body["field"] == "reason"
    status, body = await api.call("POST", f"{base}/logout", as_=token)
    assert status == 200 and body["state"] == "offline" and body["logged_in_at"] is None


async def test_a_pause_during_a_call_applies_when_the_wrap_up_ends(api: Api) -> None:
    cid = await _campaign(api)
    agent = await _agent(api, [cid], "Carol")
    base = f"/api/v1/agents/{agent['id']}"
    await api.call("POST", f"{base}/login")
    async with api.pool.acquire() as conn:
        await conn.execute("UPDATE agents SET state = 'wrap_up' WHERE id = $1", agent["id"])
    status, body = await api.call("POST", f"{base}/pause", json={"reason": "break"})
    assert status == 200
    assert (body["state"], body["pending_action"], body["pending_reason"]) == (
        "wrap_up",
        "pause",
        "break",
    )


async def test_a_pause_while_calls_ring_for_the_agent_is_held_and_shown(api: Api) -> None:
    cid = await _campaign(api, dial_mode="predictive")
    agent = await _agent(api, [cid], "Hana")
    base = f"/api/v1/agents/{agent['id']}"
    await api.call("POST", f"{base}/login")
    async with api.pool.acquire() as conn:
        [lead_id] = await add_leads(conn, cid, ["+14155550198"], api.clock.now())
        await conn.execute(
            "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, compliance)"
            " VALUES ($1, $2, '+14155550198', $3, '{}')",
            lead_id,
            cid,
            api.clock.now(),
        )  # a call rings for her, and nobody else is free
    status, body = await api.call("POST", f"{base}/pause", json={"reason": "break"})
    assert status == 200
    assert (body["state"], body["pending_action"], body["pending_reason"]) == (
        "available",
        "pause",
        "break",
    )
    until = datetime.fromisoformat(body["pending_until"])
    assert until - api.clock.now() == timedelta(seconds=27)  # ring timeout 25 s + 2 s
    status, listed = await api.call("GET", f"/api/v1/agents?campaign={cid}")
    assert listed["items"][0]["pending_until"] == body["pending_until"]
    status, body = await api.call("POST", f"{base}/ready")
    assert (body["state"], body["pending_action"], body["pending_until"]) == (
        "available",
        None,
        None,
    )
    status, doc = await api.call("GET", "/api/v1/openapi.json", as_=None)
    shown = doc["paths"]["/api/v1/agents/{id}"]["get"]["responses"]["200"]
    assert "pending_until" in json.dumps(shown)


async def test_an_agent_token_acts_only_as_its_own_agent(api: Api) -> None:
    cid = await _campaign(api)
    mine = await _agent(api, [cid], "Dora")
    other = await _agent(api, [cid], "Eve")
    token = await api.token("agent", agent_id=mine["id"], name="dora-desk")
    status, body = await api.call("POST", f"/api/v1/agents/{other['id']}/login", as_=token)
    assert status == 403 and "own agent" in body["error"]
    status, _ = await api.call("POST", "/api/v1/agents/999999/login", as_=token)
    assert status == 404
    status, _ = await api.call("POST", "/api/v1/agents", as_=token, json={"name": "Mallory"})
    assert status == 403
    status, _ = await api.call("POST", f"/api/v1/agents/{mine['id']}/login", as_="viewer")
    assert status == 403


async def test_another_clients_agents_are_invisible(api: Api) -> None:
    status, client = await api.call("POST", "/api/v1/clients", json={"name": "Other BPO"})
    assert status == 201
    theirs = await _agent(api, [], "Frank", client_id=client["id"])
    scoped = await api.token("manager", client_id=1, name="client-1-manager")
    status, _ = await api.call("GET", f"/api/v1/agents/{theirs['id']}", as_=scoped)
    assert status == 404
    status, page = await api.call("GET", "/api/v1/agents?limit=500", as_=scoped)
    assert theirs["id"] not in [a["id"] for a in page["items"]]


async def test_admin_drives_any_agent(api: Api) -> None:
    agent = await _agent(api, [await _campaign(api)], "Gina")
    status, body = await api.call("POST", f"/api/v1/agents/{agent['id']}/login")
    assert status == 200 and body["state"] == "available"


async def test_an_agent_on_a_call_cannot_be_deleted(api: Api) -> None:
    agent = await _agent(api, [], "Hank")
    async with api.pool.acquire() as conn:
        await conn.execute("UPDATE agents SET state = 'on_call' WHERE id = $1", agent["id"])
    status, body = await api.call("DELETE", f"/api/v1/agents/{agent['id']}")
    assert status == 409 and body["field"] == "state"


async def test_preview_choice_needs_a_previewed_lead(api: Api) -> None:
    agent = await _agent(api, [], "Ivy")
    status, body = await api.call("POST", f"/api/v1/agents/{agent['id']}/dial")
    assert status == 409 and "previewed" in body["error"]


async def test_openapi_lists_the_agent_and_call_routes(api: Api) -> None:
    status, doc = await api.call("GET", "/api/v1/openapi.json", as_=None)
    assert status == 200
    for path in (
        "/api/v1/agents",
        "/api/v1/agents/{id}/login",
        "/api/v1/agents/{id}/events",
        "/api/v1/calls/{id}/disposition",
        "/api/v1/leads/{id}/callback",
    ):
        assert path in doc["paths"], path


# -- the WebSocket ---------------------------------------------------------------------------


@pytest.fixture
async def ws_client(pool: asyncpg.Pool) -> AsyncIterator[tuple[TestClient, FakeClock]]:
    clock = FakeClock()
    app = create_app(Settings(), pool=pool, clock=clock, background=[agent_bus_part])
    client = TestClient(TestServer(app))
    await client.start_server()
    yield client, clock
    await client.close()


async def _next(ws: Any, kind: str) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            message = json.loads((await ws.receive()).data)
            if message["type"] == kind:
                return message


async def test_the_desktop_hears_its_state_and_the_screen_pop(
    api: Api, ws_client: tuple[TestClient, FakeClock]
) -> None:
    client, clock = ws_client
    cid = await _campaign(api)
    agent = await _agent(api, [cid], "Jack")
    token = await api.token("agent", agent_id=agent["id"], name="jack-desk")
    headers = {"Authorization": f"Bearer {token}"}
    async with client.ws_connect(f"/api/v1/agents/{agent['id']}/events", headers=headers) as ws:
        first = await _next(ws, "state")
        assert first["state"] == "offline"
        resp = await client.post(f"/api/v1/agents/{agent['id']}/login", headers=headers)
        assert resp.status == 200
        assert (await _next(ws, "state"))["state"] == "available"
        async with api.pool.acquire() as conn:
            [lead_id] = await add_leads(conn, cid, ["+14155550199"], clock.now())
            await start(conn, cid, clock.now())
            attempt = await conn.fetchval(
                "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, compliance)"
                " VALUES ($1, $2, '+14155550199', $3, '{}') RETURNING id",
                lead_id,
                cid,
                clock.now(),
            )
            assert await records.connect(
                conn,
                agent_id=agent["id"],
                attempt_id=attempt,
                campaign_id=cid,
                now=clock.now(),
                answered_at=clock.now(),
                ring_s=5.0,
                wait_s=0.2,
                reserved=False,
            )
        pop = await _next(ws, "call")
        assert pop["call_id"] == attempt
        assert pop["lead"]["id"] == lead_id and pop["lead"]["phone_e164"] == "+14155550199"
        assert pop["lead"]["fields"] == {"name": "0199"}


async def test_someone_elses_events_are_refused(
    api: Api, ws_client: tuple[TestClient, FakeClock]
) -> None:
    client, _ = ws_client
    mine = await _agent(api, [], "Kim")
    other = await _agent(api, [], "Lou")
    token = await api.token("agent", agent_id=mine["id"], name="kim-desk")
    resp = await client.get(
        f"/api/v1/agents/{other['id']}/events", headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status == 403


async def _closed(ws: Any) -> tuple[int | None, list[dict[str, Any]]]:
    """Read until the server closes: (close code, messages received meanwhile)."""
    seen = []
    async with asyncio.timeout(10):
        while True:
            msg = await ws.receive()
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
                return ws.close_code, seen
            seen.append(json.loads(msg.data))


async def test_a_revoked_token_hears_nothing_more(
    api: Api, ws_client: tuple[TestClient, FakeClock]
) -> None:
    client, clock = ws_client
    cid = await _campaign(api)
    agent = await _agent(api, [cid], "Max")
    token = await api.token("agent", agent_id=agent["id"], name="max-desk")
    headers = {"Authorization": f"Bearer {token}"}
    async with client.ws_connect(f"/api/v1/agents/{agent['id']}/events", headers=headers) as ws:
        assert (await _next(ws, "state"))["state"] == "offline"
        async with api.pool.acquire() as conn:
            assert await revoke_token(conn, "max-desk", now=clock.now()) == ["max-desk"]
        # The next change (an admin logs the agent in) is not delivered: the stream closes.
        status, body = await api.call("POST", f"/api/v1/agents/{agent['id']}/login", json={})
        assert status == 200, body
        code, seen = await _closed(ws)
    assert code == CLOSE_TOKEN_REVOKED
    assert seen == []


async def test_a_quiet_stream_closes_too_once_its_token_is_revoked(
    api: Api, ws_client: tuple[TestClient, FakeClock], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(agentstream, "TOKEN_RECHECK_S", 0.05)
    client, clock = ws_client
    agent = await _agent(api, [], "Ned")
    token = await api.token("agent", agent_id=agent["id"], name="ned-desk")
    headers = {"Authorization": f"Bearer {token}"}
    async with client.ws_connect(f"/api/v1/agents/{agent['id']}/events", headers=headers) as ws:
        assert (await _next(ws, "state"))["state"] == "offline"
        async with api.pool.acquire() as conn:
            await revoke_token(conn, "ned-desk", now=clock.now())
        code, seen = await _closed(ws)
    assert code == CLOSE_TOKEN_REVOKED and seen == []
