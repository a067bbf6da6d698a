"""``/api/v1/webhooks``: subscriptions, secrets shown once, test sends, scoping, replay,
editing (PATCH) and secret rotation."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from dialer.clock import FakeClock
from dialer.config import Secret, Settings
from dialer.runtime import create_app
from dialer.webhooks import signing
from tests.fakes.receiver import Receiver
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
        status, result = await api.call(
            "POST", f"/api/v1/webhooks/{sub['id']}/test"
        )  # admin: sees the answer
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
    status, result = await api.call(
        "POST", f"/api/v1/webhooks/{sub['id']}/test"
    )  # admin: sees the answer
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
        for method, suffix, body in [
            ("PATCH", "", {"active": False, "url": "https://acme.example/h"}),
            ("POST", "/rotate-secret", {"grace_hours": 0}),
            ("POST", "/rotate-secret", None),
        ]:
            path = f"/api/v1/webhooks/{sub['id']}{suffix}"
            status, _ = await api.call(method, path, as_="acme", json=body)
            assert status == 404, (method, suffix)
        status, unchanged = await api.call("GET", f"/api/v1/webhooks/{sub['id']}", as_="admin")
        assert unchanged == {k: v for k, v in sub.items() if k != "secret"}
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
    assert page["items"][0]["next_attempt_at"] is None
    # the receiver's name does not resolve here (an internal destination): its answers are
    # shown to the operator only (test_tenants.py)
    assert page["items"][0]["last_status"] is None
    status, page = await api.call(
        "GET", f"/api/v1/webhooks/{sub['id']}/deliveries?state=dead", as_="admin"
    )
    assert page["items"][0]["last_status"] == 500

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
        "/api/v1/webhooks/{id}/rotate-secret",
    ):
        assert path in doc["paths"], path
    assert "patch" in doc["paths"]["/api/v1/webhooks/{id}"]


async def test_secrets_never_appear_in_responses_or_logs(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "never-log-this-secret-4242"
    rotated_secret = "never-log-the-rotated-one-4343"
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
            ("PATCH", f"/api/v1/webhooks/{sub['id']}"),
        ]:
            json = {"events": ["lead.dnc"]} if method == "PATCH" else None
            status, body = await api.call(method, path, as_="crm", json=json)
            assert status == 200
            seen.append(str(body))
        # Rotated: the new secret is in that one response only; the old one nowhere.
        status, rotated = await api.call(
            "POST",
            f"/api/v1/webhooks/{sub['id']}/rotate-secret",
            as_="crm",
            json={"secret": rotated_secret},
        )
        assert status == 200 and rotated["secret"] == rotated_secret
        seen.append(str({k: v for k, v in rotated.items() if k != "secret"}))
        for method, path in [
            ("GET", "/api/v1/webhooks"),
            ("GET", f"/api/v1/webhooks/{sub['id']}"),
            ("POST", f"/api/v1/webhooks/{sub['id']}/test"),  # signed under both
        ]:
            status, body = await api.call(method, path, as_="crm")
            assert status == 200
            seen.append(str(body))
        for body in ({"secret": secret}, {"secret": "short", "colour": secret}):
            status, err = await api.call(
                "PATCH", f"/api/v1/webhooks/{sub['id']}", as_="crm", json=body
            )
            assert status == 400
            seen.append(str(err))
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
    assert all(secret not in text and rotated_secret not in text for text in seen)
    for record in caplog.records:
        for plain in (secret, rotated_secret):
            assert plain not in record.getMessage()
            assert plain not in str(record.__dict__)
    audit = str(await _audit(api, sub["id"]))
    assert secret not in audit and rotated_secret not in audit


# --- editing (PATCH) -----------------------------------------------------------------


async def _audit(api: Api, subscription_id: int) -> list[tuple[str, Any]]:
    rows = await api.pool.fetch(
        "SELECT action, details FROM audit_log"
        " WHERE object_type = 'webhook_subscription' AND object_id = $1 ORDER BY id",
        subscription_id,
    )
    return [(r["action"], r["details"]) for r in rows]


async def test_patch_changes_each_field_and_is_audited(api: Api) -> None:
    sub = await _subscribe(api, events=["lead.dnc"])
    path = f"/api/v1/webhooks/{sub['id']}"
    status, got = await api.call(
        "PATCH", path, as_="crm", json={"url": "  https://crm.example.com/v2  "}
    )
    assert status == 200, got
    assert got["url"] == "https://crm.example.com/v2" and got["events"] == ["lead.dnc"]
    status, got = await api.call(
        "PATCH", path, as_="crm", json={"events": ["lead.completed", "lead.dnc", "lead.dnc"]}
    )
    assert status == 200 and got["events"] == ["lead.completed", "lead.dnc"]
    status, got = await api.call("PATCH", path, as_="crm", json={"active": False})
    assert status == 200 and got["active"] is False
    status, same = await api.call("GET", path, as_="crm")
    assert same == got and "secret" not in got and "secret_ciphertext" not in got
    status, got = await api.call(
        "PATCH", path, as_="crm", json={"active": True, "events": ["*"], "url": got["url"]}
    )
    assert status == 200 and got["active"] is True and got["events"] == ["*"]
    assert {k: got[k] for k in ("id", "client_id", "created_by", "created_at")} == {
        k: sub[k] for k in ("id", "client_id", "created_by", "created_at")
    }
    assert await _audit(api, sub["id"]) == [
        ("create", {"url": sub["url"], "events": ["lead.dnc"]}),
        ("update", {"url": {"from": sub["url"], "to": "https://crm.example.com/v2"}}),
        ("update", {"events": {"from": ["lead.dnc"], "to": ["lead.completed", "lead.dnc"]}}),
        ("update", {"active": {"from": True, "to": False}}),
        (
            "update",
            {
                "active": {"from": False, "to": True},
                "events": {"from": ["lead.completed", "lead.dnc"], "to": ["*"]},
            },
        ),  # the unchanged url is not recorded
    ]


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"url": "ftp://crm.example.com"}, "url", "http:// or https://"),
        ({"url": ""}, "url", "url is required"),
        ({"url": None}, "url", "url is required"),
        ({"url": "https://user:pw@crm.example.com/h"}, "url", "credentials"),
        ({"url": "http://169.254.169.254/x"}, "url", "blocked network (169.254.0.0/16)"),
        ({"events": []}, "events", "non-empty list"),
        ({"events": "*"}, "events", "non-empty list"),
        ({"events": ["lead.exploded"]}, "events", "unknown event type 'lead.exploded'"),
        ({"active": "false"}, "active", "true"),
        ({"active": 0}, "active", "true"),
        ({"secret": "a-brand-new-secret-123"}, "secret", "rotate-secret"),
        ({"client_id": 1}, "client_id", "cannot be changed"),
        ({"colour": "red"}, "colour", "unknown field 'colour'"),
        ({"id": 5}, "id", "unknown field 'id'"),
        ({}, "body", "nothing to change"),
    ],
)
async def test_invalid_patches_are_a_400_naming_the_field_and_change_nothing(
    api: Api, body: dict[str, Any], field: str, says: str
) -> None:
    sub = await _subscribe(api)
    path = f"/api/v1/webhooks/{sub['id']}"
    patch = {"active": False, **body} if body else {}  # a valid change beside it is not applied
    status, err = await api.call("PATCH", path, as_="crm", json=patch)
    assert (status, err.get("field")) == (400, field), err
    assert says in err["error"]
    status, got = await api.call("GET", path, as_="crm")
    assert got == {k: v for k, v in sub.items() if k != "secret"}  # nothing was applied
    assert [action for action, _ in await _audit(api, sub["id"])] == ["create"]


async def test_patch_of_a_missing_or_deleted_subscription_is_a_404(api: Api) -> None:
    sub = await _subscribe(api)
    await api.call("DELETE", f"/api/v1/webhooks/{sub['id']}", as_="crm")
    for target in (sub["id"], 999999):
        status, _ = await api.call(
            "PATCH", f"/api/v1/webhooks/{target}", as_="crm", json={"active": True}
        )
        assert status == 404
        status, _ = await api.call("POST", f"/api/v1/webhooks/{target}/rotate-secret", as_="crm")
        assert status == 404


async def test_patch_and_rotate_need_write_permission(api: Api) -> None:
    sub = await _subscribe(api)
    for role in ("manager", "viewer"):
        path = f"/api/v1/webhooks/{sub['id']}"
        status, _ = await api.call("PATCH", path, as_=role, json={"active": False})
        assert status == 403
        status, _ = await api.call("POST", f"{path}/rotate-secret", as_=role)
        assert status == 403


# --- secret rotation -----------------------------------------------------------------


async def _stored_secrets(api: Api, subscription_id: int) -> tuple[bytes, bytes | None]:
    row = await api.pool.fetchrow(
        "SELECT secret_ciphertext, previous_secret_ciphertext FROM webhook_subscriptions"
        " WHERE id = $1",
        subscription_id,
    )
    prev = row["previous_secret_ciphertext"]
    return bytes(row["secret_ciphertext"]), None if prev is None else bytes(prev)


async def test_rotation_shows_the_new_secret_once_and_keeps_the_old_one_a_day(api: Api) -> None:
    sub = await _subscribe(api)
    old_ciphertext, _ = await _stored_secrets(api, sub["id"])
    path = f"/api/v1/webhooks/{sub['id']}"
    status, rotated = await api.call("POST", f"{path}/rotate-secret", as_="crm")
    assert status == 200, rotated
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != sub["secret"]
    now = api.clock.now()
    assert rotated["secret_rotated_at"] == now.isoformat()
    assert rotated["previous_secret_expires_at"] == (now + timedelta(hours=24)).isoformat()
    status, got = await api.call("GET", path, as_="crm")
    assert got == {k: v for k, v in rotated.items() if k != "secret"}
    current, previous = await _stored_secrets(api, sub["id"])
    assert previous == old_ciphertext  # the old secret, still encrypted
    assert rotated["secret"].encode() not in current and sub["secret"].encode() not in current
    assert await _audit(api, sub["id"]) == [
        ("create", {"url": sub["url"], "events": ["*"]}),
        (
            "rotate_secret",
            {
                "generated": True,
                "grace_hours": 24.0,
                "previous_secret_expires_at": rotated["previous_secret_expires_at"],
            },
        ),
    ]


async def test_rotation_to_a_given_secret_with_no_grace(api: Api) -> None:
    sub = await _subscribe(api)
    status, rotated = await api.call(
        "POST",
        f"/api/v1/webhooks/{sub['id']}/rotate-secret",
        as_="crm",
        json={"secret": "my-next-crm-secret-0002", "grace_hours": 0},
    )
    assert status == 200, rotated
    assert rotated["secret"] == "my-next-crm-secret-0002"
    assert rotated["previous_secret_expires_at"] is None
    _, previous = await _stored_secrets(api, sub["id"])
    assert previous is None  # the old secret is gone at once


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"grace_hours": -1}, "grace_hours"),
        ({"grace_hours": 169}, "grace_hours"),
        ({"grace_hours": "24"}, "grace_hours"),
        ({"grace_hours": True}, "grace_hours"),
        ({"secret": "short"}, "secret"),
        ({"secret": " padded-secret-0123456 "}, "secret"),
        ({"secret": 1234567890123456789}, "secret"),
        ({"url": "https://elsewhere.example"}, "url"),
        ([1, 2], "body"),
    ],
)
async def test_invalid_rotations_are_a_400_and_keep_the_secret(
    api: Api, body: Any, field: str
) -> None:
    sub = await _subscribe(api)
    before = await _stored_secrets(api, sub["id"])
    status, err = await api.call(
        "POST", f"/api/v1/webhooks/{sub['id']}/rotate-secret", as_="crm", json=body
    )
    assert (status, err.get("field")) == (400, field), err
    assert await _stored_secrets(api, sub["id"]) == before


async def test_the_test_send_is_signed_under_both_secrets_during_the_grace_period(
    api: Api,
) -> None:
    old = "first-crm-secret-000001"
    receiver = Receiver(old, now=lambda: api.clock.now().timestamp())
    url = await receiver.start()
    try:
        sub = await _subscribe(api, url=url, secret=old)
        status, rotated = await api.call(
            "POST",
            f"/api/v1/webhooks/{sub['id']}/rotate-secret",
            as_="crm",
            json={"grace_hours": 1.5},
        )
        assert status == 200
        status, result = await api.call(
            "POST", f"/api/v1/webhooks/{sub['id']}/test"
        )  # admin: sees the answer
        assert result["delivered"] is True  # the receiver still verifies with the old one
        arrival = receiver.arrivals[-1]
        header = arrival.headers[signing.SIGNATURE_HEADER]
        now = api.clock.now().timestamp()
        signing.verify(rotated["secret"], header, arrival.body, now=now)  # and the new one
        assert header.count("v1=") == 2

        api.clock.advance(1.5 * 3600)  # the grace period is over: the new secret only
        status, result = await api.call(
            "POST", f"/api/v1/webhooks/{sub['id']}/test"
        )  # admin: sees the answer
        assert (result["delivered"], result["status"]) == (False, 401)
        header = receiver.arrivals[-1].headers[signing.SIGNATURE_HEADER]
        assert header.count("v1=") == 1
        signing.verify(
            rotated["secret"], header, receiver.arrivals[-1].body, now=api.clock.now().timestamp()
        )
    finally:
        await receiver.close()
