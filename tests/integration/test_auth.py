"""Authentication and roles: 401 without a valid token, 403 for a role that may not."""

from __future__ import annotations

import pytest

from dialer.auth.tokens import revoke_token
from tests.integration.conftest import Api

CAMPAIGN = {"name": "auth-probe", "caller_id": "+14155550100"}


async def test_missing_token_is_401_json_with_challenge(api: Api) -> None:
    resp = await api.client.get("/api/v1/campaigns")
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert "bearer token" in (await resp.json())["error"]


@pytest.mark.parametrize("header", ["Bearer", "Basic abc", "Bearer dlr_not-a-real-token", "x"])
async def test_bad_tokens_are_401(api: Api, header: str) -> None:
    resp = await api.client.get("/api/v1/campaigns", headers={"Authorization": header})
    assert resp.status == 401
    assert "error" in await resp.json()


async def test_public_routes_need_no_token(api: Api) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"):
        resp = await api.client.get(path)
        assert resp.status == 200, path


async def test_revoked_token_stops_working(api: Api) -> None:
    token = await api.token("manager", name="to-revoke")
    status, _ = await api.call("GET", "/api/v1/campaigns", as_=token)
    assert status == 200
    async with api.pool.acquire() as conn:
        assert await revoke_token(conn, "to-revoke", now=api.clock.now()) == ["to-revoke"]
    status, body = await api.call("GET", "/api/v1/campaigns", as_=token)
    assert status == 401 and body["error"] == "invalid or revoked token"


@pytest.mark.parametrize(
    ("role", "method", "path", "expected"),
    [
        ("viewer", "GET", "/api/v1/campaigns", 200),
        ("viewer", "POST", "/api/v1/campaigns", 403),
        ("crm", "GET", "/api/v1/campaigns", 200),
        ("crm", "POST", "/api/v1/campaigns", 403),
        ("manager", "POST", "/api/v1/campaigns", 201),
        ("manager", "GET", "/api/v1/clients", 403),
        ("manager", "POST", "/api/v1/clients", 403),
        ("viewer", "GET", "/api/v1/clients", 403),
        ("admin", "GET", "/api/v1/clients", 200),
    ],
)
async def test_role_matrix(api: Api, role: str, method: str, path: str, expected: int) -> None:
    body = {**CAMPAIGN, "name": f"matrix-{role}-{method}"} if method == "POST" else None
    if path.endswith("clients") and method == "POST":
        body = {"name": f"client-{role}"}
    status, payload = await api.call(method, path, as_=role, json=body)
    assert status == expected, payload
    if expected == 403:
        assert role in payload["error"]


async def test_agent_token_cannot_manage_campaigns(api: Api) -> None:
    async with api.pool.acquire() as conn:
        agent_id = await conn.fetchval(
            "INSERT INTO agents (client_id, name) VALUES (1, 'probe-agent') RETURNING id"
        )
    token = await api.token("agent", agent_id=agent_id)
    status, _ = await api.call("GET", "/api/v1/campaigns", as_=token)
    assert status == 403


async def test_client_scoped_token_sees_only_its_client(api: Api) -> None:
    _, acme = await api.call("POST", "/api/v1/clients", json={"name": "Acme"})
    _, globex = await api.call("POST", "/api/v1/clients", json={"name": "Globex"})
    acme_token = await api.token("manager", client_id=acme["id"])
    globex_token = await api.token("manager", client_id=globex["id"])

    status, mine = await api.call(
        "POST", "/api/v1/campaigns", as_=acme_token, json={**CAMPAIGN, "name": "acme-only"}
    )
    assert status == 201 and mine["client_id"] == acme["id"]

    # Globex cannot see, change, start or delete it: 404, as if it did not exist.
    cid = mine["id"]
    for method, path, body in [
        ("GET", f"/api/v1/campaigns/{cid}", None),
        ("PATCH", f"/api/v1/campaigns/{cid}", {"max_attempts": 9}),
        ("POST", f"/api/v1/campaigns/{cid}/start", None),
        ("DELETE", f"/api/v1/campaigns/{cid}", None),
    ]:
        status, payload = await api.call(method, path, as_=globex_token, json=body)
        assert status == 404, (method, path, payload)
        assert "acme" not in str(payload).lower()
    status, listing = await api.call("GET", "/api/v1/campaigns", as_=globex_token)
    assert status == 200 and all(c["id"] != cid for c in listing["items"])

    # The same name is free for another client (no leak through a 409 either).
    status, _ = await api.call(
        "POST", "/api/v1/campaigns", as_=globex_token, json={**CAMPAIGN, "name": "acme-only"}
    )
    assert status == 201
    # A scoped token cannot create in another client.
    status, payload = await api.call(
        "POST",
        "/api/v1/campaigns",
        as_=globex_token,
        json={**CAMPAIGN, "name": "x", "client_id": acme["id"]},
    )
    assert status == 404
    # Admin clients listing through a scoped admin shows only that client.
    scoped_admin = await api.token("admin", client_id=acme["id"])
    _, clients = await api.call("GET", "/api/v1/clients", as_=scoped_admin)
    assert [c["id"] for c in clients["items"]] == [acme["id"]]
    status, _ = await api.call("GET", f"/api/v1/clients/{globex['id']}", as_=scoped_admin)
    assert status == 404


async def test_tokens_are_stored_hashed(api: Api) -> None:
    token = await api.token("viewer", name="hash-check")
    async with api.pool.acquire() as conn:
        rows = await conn.fetch("SELECT token_hash, prefix FROM api_tokens")
    assert all(token.encode() not in bytes(r["token_hash"]) for r in rows)
    assert token[:10] in {r["prefix"] for r in rows}
