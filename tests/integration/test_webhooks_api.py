"""``/api/v1/webhooks``: subscriptions, secrets shown once, test sends, scoping, replay."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from dialer.app import create_app
from dialer.clock import FakeClock
from dialer.config import Secret, Settings
from dialer.webhooks.receiver import Receiver
from tests.integration.conftest import Api

SETTINGS = Settings(secret_key=Secret("api-tests-master-key-0123456789"))


@pytest.fixture(scope="module")
async def api(pool: asyncpg.Pool) -> AsyncIterator[Api]:
    clock = FakeClock()
    client = TestClient(TestServer(create_app(SETTINGS, pool=pool, clock=clock)))
    await client.start_server()
    helper = Api(client, pool, clock)
    for role in ("admin", "manager", "viewer", "crm"):
        helper.tokens[role] = await helper.token(role, name=role)
    async with pool.acquire() as conn:
        other = await conn.fetchval("INSERT INTO clients (name) VALUES ('acme') RETURNING id")
    helper.tokens["acme"] = await helper.token("crm", client_id=other, name="acme-crm")
    helper.tokens["acme_id"] = str(other)
    yield helper
    await client.close()


async def _subscribe(api: Api, as_: str = "crm", **fields: Any) -> dict[str, Any]:
    body = {"url": "https://crm.example.com/hooks", "events": ["*"], **fields}
    status, sub = await api.call("POST", "/api/v1/webhooks", as_=as_, json=body)
    assert status == 201, sub
    return sub


async def test_secret_is_shown_once_and_never_again(api: Api) -> None:
    sub = await _subscribe(api)
    assert sub["secret"].startswith("whsec_") and len(sub["secret"]) > 40
    assert sub["events"] == ["*"] and sub["active"] is True
    status, got = await api.call("GET", f"/api/v1/webhooks/{sub['id']}", as_="crm")
    assert status == 200
    assert got == {k: v for k, v in sub.items() if k != "secret"}
    status, page = await api.call("GET", "/api/v1/webhooks", as_="crm")
    assert status == 200
    for item in page["items"]:
        assert "secret" not in item and "secret_ciphertext" not in item
    async with api.pool.acquire() as conn:
        stored = await conn.fetchval(
            "SELECT secret_ciphertext FROM webhook_subscriptions WHERE id = $1", sub["id"]
        )
    assert sub["secret"].encode() not in bytes(stored)  # encrypted at rest


async def test_a_given_secret_is_used_and_signs_the_test_event(api: Api) -> None:
    secret = "my-own-crm-secret-0001"
    receiver = Receiver(secret, now=lambda: api.clock.now().timestamp())
    url = await receiver.start()
    try:
        sub = await _subscribe(api, url=url, secret=secret, events=["lead.dnc"])
        assert sub["secret"] == secret
        status, result = await api.call("POST", f"/api/v1/webhooks/{sub['id']}/test", as_="crm")
        assert status == 200, result
        assert result["delivered"] is True and result["status"] == 200
        assert result["event"]["type"] == "webhook.test"
        assert result["event"]["data"]["subscription_id"] == sub["id"]
        assert list(receiver.events) == [result["event"]["id"]]  # signature verified
        arrival = receiver.arrivals[0]
        assert arrival.headers["X-Dialer-Event-Id"] == result["event"]["id"]
        assert arrival.headers["X-Dialer-Signature"].startswith(
            f"t={int(api.clock.now().timestamp())},v1="
        )
    finally:
        await receiver.close()


async def test_test_send_reports_an_unreachable_endpoint(api: Api) -> None:
    receiver = Receiver("whatever-secret-000")
    url = await receiver.start()
    await receiver.close()  # nothing listens there any more
    sub = await _subscribe(api, url=url)
    status, result = await api.call("POST", f"/api/v1/webhooks/{sub['id']}/test", as_="crm")
    assert status == 200
    assert result["delivered"] is False and result["status"] is None
    assert "connection" in result["error"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": ["*"]}, "url"),
        ({"url": "ftp://crm.example.com", "events": ["*"]}, "url"),
        ({"url": "https://", "events": ["*"]}, "url"),
        ({"url": "https://user:pw@crm.example.com/h", "events": ["*"]}, "url"),
        ({"url": "https://crm.example.com:99999/h", "events": ["*"]}, "url"),
        ({"url": "https://crm.example.com"}, "events"),
        ({"url": "https://crm.example.com", "events": []}, "events"),
        ({"url": "https://crm.example.com", "events": ["lead.exploded"]}, "events"),
        ({"url": "https://crm.example.com", "events": "*"}, "events"),
        ({"url": "https://crm.example.com", "events": ["*"], "secret": "short"}, "secret"),
        ({"url": "https://crm.example.com", "events": ["*"], "client_id": "1"}, "client_id"),
        ({"url": "https://crm.example.com", "events": ["*"], "colour": "red"}, "colour"),
    ],
)
async def test_invalid_subscriptions_are_a_400_naming_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    status, err = await api.call("POST", "/api/v1/webhooks", as_="crm", json=body)
    assert (status, err.get("field")) == (400, field), err


@pytest.mark.parametrize(
    ("url", "network"),
    [
        ("http://169.254.169.254/x", "169.254.0.0/16"),  # cloud metadata
        ("http://169.254.169.254/latest/meta-data/iam", "169.254.0.0/16"),
        ("http://[::ffff:169.254.169.254]/x", "169.254.0.0/16"),  # the same, IPv4-mapped
        ("https://[fe80::1]:8443/x", "fe80::/10"),
        ("http://0.0.0.0:8080/api/v1/campaigns", "0.0.0.0/8"),
    ],
)
async def test_a_url_in_a_blocked_network_is_refused(api: Api, url: str, network: str) -> None:
    count = await api.pool.fetchval("SELECT count(*) FROM webhook_subscriptions")
    status, err = await api.call(
        "POST", "/api/v1/webhooks", as_="crm", json={"url": url, "events": ["*"]}
    )
    assert (status, err["field"]) == (400, "url")
    assert err["error"].startswith(f"url points at a blocked network ({network})")
    assert await api.pool.fetchval("SELECT count(*) FROM webhook_subscriptions") == count


async def test_local_and_named_urls_are_accepted_by_default(api: Api) -> None:
    for url in ("http://127.0.0.1:9000/h", "http://10.1.2.3/h", "http://metadata.example/h"):
        await _subscribe(api, url=url)  # names are checked when they are resolved


async def test_unknown_delivery_state_is_a_400(api: Api) -> None:
    sub = await _subscribe(api)
    status, err = await api.call(
        "GET", f"/api/v1/webhooks/{sub['id']}/deliveries?state=lost", as_="crm"
    )
    assert (status, err["field"]) == (400, "state")


async def test_roles(api: Api) -> None:
    body = {"url": "https://crm.example.com/h", "events": ["*"]}
    for role in ("manager", "viewer"):
        status, _ = await api.call("POST", "/api/v1/webhooks", as_=role, json=body)
        assert status == 403
        status, _ = await api.call("GET", "/api/v1/webhooks", as_=role)
        assert status == 403
    status, _ = await api.call("GET", "/api/v1/webhooks", as_=None)
    assert status == 401
    await _subscribe(api, as_="admin")


async def test_client_scoping(api: Api) -> None:
    acme = int(api.tokens["acme_id"])
    own = await _subscribe(api, as_="acme")
    assert own["client_id"] == acme  # a scoped token subscribes its own client only
    everyone = await _subscribe(api, as_="admin")
    assert everyone["client_id"] is None  # unscoped: events of every client
    default_only = await _subscribe(api, as_="admin", client_id=1)

    status, page = await api.call("GET", "/api/v1/webhooks?limit=500", as_="acme")
    assert [s["id"] for s in page["items"]] == [own["id"]]
    for sub in (everyone, default_only):
        for method, suffix in [
            ("GET", ""),
            ("GET", "/deliveries"),
            ("POST", "/test"),
            ("DELETE", ""),
        ]:
            status, _ = await api.call(method, f"/api/v1/webhooks/{sub['id']}{suffix}", as_="acme")
            assert status == 404, (method, suffix)
    status, _ = await api.call(
        "POST",
        "/api/v1/webhooks",
        as_="acme",
        json={"url": "https://x.io", "events": ["*"], "client_id": 1},
    )
    assert status == 404
    status, page = await api.call("GET", "/api/v1/webhooks?limit=500", as_="admin")
    assert {own["id"], everyone["id"], default_only["id"]} <= {s["id"] for s in page["items"]}


async def test_delete_hides_the_subscription_and_cancels_pending_deliveries(api: Api) -> None:
    sub = await _subscribe(api)
    async with api.pool.acquire() as conn:
        outbox = await conn.fetchval(
            "INSERT INTO webhook_outbox (type, client_id, payload, dispatched_at, created_at)"
            " VALUES ('lead.dnc', 1, '{}', now(), now()) RETURNING id"
        )
        await conn.execute(
            "INSERT INTO webhook_deliveries (subscription_id, outbox_id, next_attempt_at,"
            " started_at, created_at) VALUES ($1, $2, now(), now(), now())",
            sub["id"],
            outbox,
        )
    status, _ = await api.call("DELETE", f"/api/v1/webhooks/{sub['id']}", as_="crm")
    assert status == 204
    status, _ = await api.call("GET", f"/api/v1/webhooks/{sub['id']}", as_="crm")
    assert status == 404
    status, _ = await api.call("DELETE", f"/api/v1/webhooks/{sub['id']}", as_="crm")
    assert status == 404
    async with api.pool.acquire() as conn:
        states = await conn.fetch(
            "SELECT state FROM webhook_deliveries WHERE subscription_id = $1", sub["id"]
        )
    assert [r["state"] for r in states] == ["cancelled"]


async def test_deliveries_listing_and_replay_rules(api: Api) -> None:
    sub = await _subscribe(api)
    async with api.pool.acquire() as conn:
        ids = []
        for state in ("pending", "dead", "delivered"):
            outbox = await conn.fetchval(
                "INSERT INTO webhook_outbox (type, client_id, lead_id, payload, dispatched_at,"
                " created_at) VALUES ('lead.completed', 1, 5, '{\"lead_id\": 5}', now(), $1)"
                " RETURNING id",
                api.clock.now(),
            )
            ids.append(
                await conn.fetchval(
                    "INSERT INTO webhook_deliveries (subscription_id, outbox_id, lead_id, state,"
                    " attempts, next_attempt_at, started_at, created_at, last_status)"
                    " VALUES ($1, $2, 5, $3, 3, $4, $4, $4, 500) RETURNING id",
                    sub["id"],
                    outbox,
                    state,
                    api.clock.now(),
                )
            )
    pending, dead, delivered = ids
    status, page = await api.call("GET", f"/api/v1/webhooks/{sub['id']}/deliveries", as_="crm")
    assert status == 200 and [d["id"] for d in page["items"]] == ids
    status, page = await api.call(
        "GET", f"/api/v1/webhooks/{sub['id']}/deliveries?state=dead", as_="crm"
    )
    assert [d["id"] for d in page["items"]] == [dead]
    assert page["items"][0]["last_status"] == 500 and page["items"][0]["next_attempt_at"] is None

    status, one = await api.call("GET", f"/api/v1/webhooks/deliveries/{dead}", as_="crm")
    assert status == 200
    assert one["event"]["type"] == "lead.completed" and one["event"]["data"] == {"lead_id": 5}
    assert one["event"]["version"] == 1

    status, err = await api.call("POST", f"/api/v1/webhooks/deliveries/{pending}/replay", as_="crm")
    assert status == 409 and err["field"] == "state"
    api.clock.advance(60)
    for target in (dead, delivered):
        status, replayed = await api.call(
            "POST", f"/api/v1/webhooks/deliveries/{target}/replay", as_="crm"
        )
        assert status == 200, replayed
        assert replayed["state"] == "pending" and replayed["attempts"] == 0
        assert replayed["replays"] == 1
        assert replayed["next_attempt_at"] == api.clock.now().isoformat()
    status, _ = await api.call("POST", f"/api/v1/webhooks/deliveries/{dead}/replay", as_="acme")
    assert status == 404
    status, _ = await api.call("POST", "/api/v1/webhooks/deliveries/999999/replay", as_="crm")
    assert status == 404


async def test_routes_are_in_the_openapi_document(api: Api) -> None:
    status, doc = await api.call("GET", "/api/v1/openapi.json", as_=None)
    assert status == 200
    for path in (
        "/api/v1/webhooks",
        "/api/v1/webhooks/{id}",
        "/api/v1/webhooks/{id}/test",
        "/api/v1/webhooks/{id}/deliveries",
        "/api/v1/webhooks/deliveries/{id}/replay",
    ):
        assert path in doc["paths"], path


async def test_secrets_never_appear_in_responses_or_logs(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "never-log-this-secret-4242"
    receiver = Receiver(secret, now=lambda: api.clock.now().timestamp())
    url = await receiver.start()
    seen: list[str] = []
    try:
        status, sub = await api.call(
            "POST",
            "/api/v1/webhooks",
            as_="crm",
            json={"url": url, "events": ["*"], "secret": secret},
        )
        assert status == 201
        for method, path in [
            ("GET", "/api/v1/webhooks"),
            ("GET", f"/api/v1/webhooks/{sub['id']}"),
            ("POST", f"/api/v1/webhooks/{sub['id']}/test"),
            ("GET", f"/api/v1/webhooks/{sub['id']}/deliveries"),
        ]:
            status, body = await api.call(method, path, as_="crm")
            assert status == 200
            seen.append(str(body))
        # A bad request that echoes nothing back either.
        status, body = await api.call(
            "POST",
            "/api/v1/webhooks",
            as_="crm",
            json={"url": "nope", "events": ["*"], "secret": secret},
        )
        assert status == 400
        seen.append(str(body))
    finally:
        await receiver.close()
    assert all(secret not in text for text in seen)
    for record in caplog.records:
        assert secret not in record.getMessage()
        assert secret not in str(record.__dict__)
