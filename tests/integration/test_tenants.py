"""Multi-tenant hardening: a client-scoped admin manages only its own client, and a
tenant's webhook test send cannot be used to scan the service's own network."""

from __future__ import annotations

import socket
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fakes.receiver import Receiver
from tests.integration.conftest import Api


async def test_a_client_scoped_admin_cannot_create_clients(api: Api) -> None:
    status, acme = await api.call("POST", "/api/v1/clients", json={"name": "Acme tenants"})
    assert status == 201
    api.tokens["acme-admin"] = await api.token("admin", client_id=acme["id"])
    status, body = await api.call(
        "POST", "/api/v1/clients", as_="acme-admin", json={"name": "Shadow client"}
    )
    assert status == 403, body
    status, page = await api.call("GET", "/api/v1/clients")
    assert "Shadow client" not in [c["name"] for c in page["items"]]
    status, page = await api.call("GET", "/api/v1/clients", as_="acme-admin")
    assert [c["id"] for c in page["items"]] == [acme["id"]]


async def _loopback_401() -> TestServer:
    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=401)

    app = web.Application()
    app.router.add_post("/{tail:.*}", refuse)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _test_send(api: Api, url: str, as_: str) -> dict[str, Any]:
    status, sub = await api.call(
        "POST", "/api/v1/webhooks", as_="crm", json={"url": url, "events": ["*"]}
    )
    assert status == 201, sub
    status, result = await api.call("POST", f"/api/v1/webhooks/{sub['id']}/test", as_=as_)
    assert status == 200, result
    return {k: v for k, v in result.items() if k != "event"}


async def test_a_tenants_test_send_to_loopback_reports_nothing_to_scan_with(api: Api) -> None:
    refusing = await _loopback_401()
    accepting = Receiver("whatever-secret-000")
    try:
        urls = [
            f"http://127.0.0.1:{refusing.port}/hook",
            f"http://127.0.0.1:{_closed_port()}/hook",
            await accepting.start(),
        ]
        answers = [await _test_send(api, url, "crm") for url in urls]
        assert answers[0] == answers[1] == answers[2]
        assert answers[0]["delivered"] is None and answers[0]["status"] is None
        # The operator (an admin token for every client) still sees what answered.
        detail = await _test_send(api, urls[0], "admin")
        assert (detail["delivered"], detail["status"]) == (False, 401)
    finally:
        await refusing.close()
        await accepting.close()


async def test_ipv6_forms_of_the_metadata_address_are_refused(api: Api) -> None:
    for host in (
        "[::a9fe:a9fe]",
        "[64:ff9b::a9fe:a9fe]",
        "[::ffff:a9fe:a9fe]",
        "[2002:a9fe:a9fe::]",
    ):
        status, body = await api.call(
            "POST",
            "/api/v1/webhooks",
            as_="crm",
            json={"url": f"http://{host}/latest/meta-data", "events": ["*"]},
        )
        assert (status, body.get("field")) == (400, "url"), (host, body)
        assert "169.254.0.0/16" in body["error"]


async def test_a_tenants_delivery_list_to_loopback_shows_no_receiver_answer(api: Api) -> None:
    """The deliveries list would otherwise tell the same things the test send hides."""
    url = f"http://127.0.0.1:{_closed_port()}/hook"
    status, sub = await api.call(
        "POST", "/api/v1/webhooks", as_="crm", json={"url": url, "events": ["*"]}
    )
    assert status == 201, sub
    now = api.clock.now()
    answers = [(401, "HTTP 401"), (None, "connection refused"), (200, None)]
    async with api.pool.acquire() as conn:
        for last_status, last_error in answers:
            outbox_id = await conn.fetchval(
                "INSERT INTO webhook_outbox (type, client_id, payload, created_at)"
                " SELECT 'webhook.test', coalesce(client_id, 1), '{}'::jsonb, $2"
                " FROM webhook_subscriptions WHERE id = $1 RETURNING id",
                sub["id"],
                now,
            )
            await conn.execute(
                "INSERT INTO webhook_deliveries (subscription_id, outbox_id, state, attempts,"
                " next_attempt_at, started_at, last_attempt_at, last_status, last_error,"
                " created_at) VALUES ($1, $2, 'dead', 1, $3, $3, $3, $4, $5, $3)",
                sub["id"],
                outbox_id,
                now,
                last_status,
                last_error,
            )
    path = f"/api/v1/webhooks/{sub['id']}/deliveries"
    status, page = await api.call("GET", path, as_="crm")
    assert status == 200, page
    shown = {(d["last_status"], d["last_error"]) for d in page["items"]}
    assert len(page["items"]) == 3 and len(shown) == 1 and shown.pop()[0] is None
    first = page["items"][0]["id"]
    status, one = await api.call("GET", f"/api/v1/webhooks/deliveries/{first}", as_="crm")
    assert (status, one["last_status"]) == (200, None) and "internal" in one["last_error"]
    # The operator still sees what answered.
    status, page = await api.call("GET", path, as_="admin")
    assert [d["last_status"] for d in page["items"]] == [401, None, 200]
