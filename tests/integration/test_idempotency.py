"""``Idempotency-Key`` on write requests, exercised on the campaigns API."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from tests.integration.conftest import Api

BASE = {"purpose": "survey", "dial_mode": "progressive", "caller_id": "+14155550100"}


async def _send(
    api: Api, method: str, path: str, key: str | None, *, as_: str = "manager", **kw: Any
) -> tuple[int, Any, dict[str, str]]:
    headers = {"Authorization": f"Bearer {api.tokens[as_]}", **kw.pop("headers", {})}
    if key is not None:
        headers["Idempotency-Key"] = key
    resp = await api.client.request(method, path, headers=headers, **kw)
    body = await resp.json() if resp.content_type == "application/json" else await resp.text()
    return resp.status, body, dict(resp.headers)


async def _campaigns_named(api: Api, name: str) -> int:
    return int(
        await api.pool.fetchval(
            "SELECT count(*) FROM campaigns WHERE name = $1 AND deleted_at IS NULL", name
        )
    )


async def test_a_retried_create_runs_once_and_replays_the_response(api: Api) -> None:
    body = {**BASE, "name": "idem-once"}
    status, first, headers = await _send(api, "POST", "/api/v1/campaigns", "k-1", json=body)
    assert status == 201 and "Idempotent-Replayed" not in headers
    status, again, headers = await _send(api, "POST", "/api/v1/campaigns", "k-1", json=body)
    assert status == 201 and again == first
    assert headers["Idempotent-Replayed"] == "true"
    assert headers["Content-Type"].startswith("application/json")
    assert await _campaigns_named(api, "idem-once") == 1


async def test_the_same_json_in_another_key_order_is_the_same_request(api: Api) -> None:
    body = {**BASE, "name": "idem-order"}
    status, first, _ = await _send(api, "POST", "/api/v1/campaigns", "k-order", json=body)
    assert status == 201
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
    status, again, headers = await _send(
        api,
        "POST",
        "/api/v1/campaigns",
        "k-order",
        data=reordered,
        headers={"Content-Type": "application/json"},
    )
    assert status == 201 and again == first and headers["Idempotent-Replayed"] == "true"


async def test_same_key_with_another_body_is_a_422(api: Api) -> None:
    status, _, _ = await _send(
        api, "POST", "/api/v1/campaigns", "k-reuse", json={**BASE, "name": "idem-a"}
    )
    assert status == 201
    status, err, _ = await _send(
        api, "POST", "/api/v1/campaigns", "k-reuse", json={**BASE, "name": "idem-b"}
    )
    assert status == 422 and err["field"] == "Idempotency-Key"
    assert await _campaigns_named(api, "idem-b") == 0
    # ... and on another route.
    status, err, _ = await _send(api, "POST", "/api/v1/clients", "k-reuse", as_="manager", json={})
    assert status == 422 and err["field"] == "Idempotency-Key"


async def test_keys_belong_to_their_token(api: Api) -> None:
    for role, name in (("manager", "idem-mgr"), ("admin", "idem-adm")):
        status, body, headers = await _send(
            api, "POST", "/api/v1/campaigns", "shared-key", as_=role, json={**BASE, "name": name}
        )
        assert status == 201, body
        assert "Idempotent-Replayed" not in headers


async def test_concurrent_duplicates_do_not_both_run(api: Api) -> None:
    body = {**BASE, "name": "idem-race"}
    results = await asyncio.gather(
        *(_send(api, "POST", "/api/v1/campaigns", "k-race", json=body) for _ in range(8))
    )
    statuses = [s for s, _, _ in results]
    originals = [r for r in results if r[0] == 201 and "Idempotent-Replayed" not in r[2]]
    assert len(originals) == 1
    assert set(statuses) <= {201, 409}  # 409: the first was still running (Retry-After: 1)
    for status, body_, headers in results:
        if status == 409:
            assert body_["field"] == "Idempotency-Key" and headers["Retry-After"] == "1"
    assert await _campaigns_named(api, "idem-race") == 1


async def test_a_request_still_running_answers_409_until_abandoned(api: Api) -> None:
    body = {**BASE, "name": "idem-stuck"}
    # Learn the fingerprint of this request, then free the name again.
    status, probe, _ = await _send(api, "POST", "/api/v1/campaigns", "k-probe", json=body)
    assert status == 201
    status, _ = await api.call("DELETE", f"/api/v1/campaigns/{probe['id']}", as_="manager")
    assert status == 204
    # A process died while running a request with key k-stuck: its reservation is left over.
    now = api.clock.now()
    await api.pool.execute(
        "INSERT INTO idempotency_keys (token_id, key, fingerprint, method, path, created_at,"
        " expires_at) SELECT token_id, 'k-stuck', fingerprint, method, path, $1, $2"
        " FROM idempotency_keys WHERE key = 'k-probe'",
        now,
        now + timedelta(hours=24),
    )
    status, err, headers = await _send(api, "POST", "/api/v1/campaigns", "k-stuck", json=body)
    assert status == 409 and err["field"] == "Idempotency-Key" and headers["Retry-After"] == "1"
    assert await _campaigns_named(api, "idem-stuck") == 0
    api.clock.advance(5 * 60 + 1)
    status, _, headers = await _send(api, "POST", "/api/v1/campaigns", "k-stuck", json=body)
    assert status == 201 and "Idempotent-Replayed" not in headers
    assert await _campaigns_named(api, "idem-stuck") == 1


async def test_a_failed_request_does_not_keep_its_key(api: Api) -> None:
    status, err, _ = await _send(
        api, "POST", "/api/v1/campaigns", "k-fix", json={**BASE, "name": "idem-fix", "purpose": 1}
    )
    assert status == 400 and err["field"] == "purpose"
    status, _, headers = await _send(
        api, "POST", "/api/v1/campaigns", "k-fix", json={**BASE, "name": "idem-fix"}
    )
    assert status == 201 and "Idempotent-Replayed" not in headers


async def test_keys_expire_after_24_hours(api: Api) -> None:
    status, c, _ = await _send(
        api, "POST", "/api/v1/campaigns", "k-create-exp", json={**BASE, "name": "idem-exp"}
    )
    assert status == 201
    path = f"/api/v1/campaigns/{c['id']}"
    status, _, _ = await _send(api, "PATCH", path, "k-exp", json={"max_attempts": 3})
    assert status == 200
    await api.pool.execute("UPDATE campaigns SET max_attempts = 9 WHERE id = $1", c["id"])
    status, replayed, headers = await _send(api, "PATCH", path, "k-exp", json={"max_attempts": 3})
    assert headers.get("Idempotent-Replayed") == "true" and replayed["max_attempts"] == 3
    assert await api.pool.fetchval("SELECT max_attempts FROM campaigns WHERE id = $1", c["id"]) == 9
    api.clock.advance(24 * 3600 + 1)
    status, _, headers = await _send(api, "PATCH", path, "k-exp", json={"max_attempts": 3})
    assert status == 200 and "Idempotent-Replayed" not in headers
    assert await api.pool.fetchval("SELECT max_attempts FROM campaigns WHERE id = $1", c["id"]) == 3


async def test_a_repeated_delete_replays_its_204(api: Api) -> None:
    status, c, _ = await _send(
        api, "POST", "/api/v1/campaigns", None, json={**BASE, "name": "idem-del"}
    )
    assert status == 201
    path = f"/api/v1/campaigns/{c['id']}"
    status, _, _ = await _send(api, "DELETE", path, "k-del")
    assert status == 204
    status, _, headers = await _send(api, "DELETE", path, "k-del")
    assert status == 204 and headers["Idempotent-Replayed"] == "true"
    status, _, _ = await _send(api, "DELETE", path, None)
    assert status == 404  # without the key, the second delete is a new request


async def test_invalid_keys_are_a_400(api: Api) -> None:
    for key in ("x" * 256, "tab\tkey", "ключ"):
        status, err, _ = await _send(
            api, "POST", "/api/v1/campaigns", key, json={**BASE, "name": "idem-bad"}
        )
        assert status == 400 and err["field"] == "Idempotency-Key", key
    assert await _campaigns_named(api, "idem-bad") == 0


async def test_reads_and_unauthenticated_requests_ignore_the_key(api: Api) -> None:
    status, _, headers = await _send(api, "GET", "/api/v1/campaigns", "k-get")
    assert status == 200 and "Idempotent-Replayed" not in headers
    status, _, headers = await _send(api, "GET", "/api/v1/campaigns", "k-get")
    assert status == 200 and "Idempotent-Replayed" not in headers
    resp = await api.client.post("/api/v1/campaigns", json=BASE, headers={"Idempotency-Key": "z"})
    assert resp.status == 401
    assert not await api.pool.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = 'z'")


async def test_an_action_without_a_body_is_replayed(api: Api) -> None:
    status, c, _ = await _send(
        api, "POST", "/api/v1/campaigns", None, json={**BASE, "name": "idem-start"}
    )
    assert status == 201
    path = f"/api/v1/campaigns/{c['id']}/start"
    status, first, headers = await _send(api, "POST", path, "k-start")
    assert status == 200 and first["state"] == "running"
    await api.call("POST", f"/api/v1/campaigns/{c['id']}/pause", as_="manager")
    status, again, headers = await _send(api, "POST", path, "k-start")
    assert status == 200 and again == first and headers["Idempotent-Replayed"] == "true"
    state = await api.pool.fetchval("SELECT state FROM campaigns WHERE id = $1", c["id"])
    assert state == "paused"  # the replay did not start it again


async def test_a_refused_request_does_not_keep_its_key(api: Api) -> None:
    status, _, _ = await _send(
        api, "POST", "/api/v1/clients", "k-role", as_="manager", json={"name": "idem-role"}
    )
    assert status == 403  # answered by the role check, not raised
    assert not await api.pool.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = 'k-role'")


async def test_a_replayed_secret_is_not_kept_in_clear(api: Api) -> None:
    """A webhook's signing secret is shown once; a retry with the same key gets it again,
    but the database keeps it only encrypted."""
    body = {"url": "https://crm.example.com/hook", "events": ["*"]}
    status, first, _ = await _send(api, "POST", "/api/v1/webhooks", "wh-1", as_="crm", json=body)
    assert status == 201 and first["secret"]
    status, again, headers = await _send(
        api, "POST", "/api/v1/webhooks", "wh-1", as_="crm", json=body
    )
    assert status == 201 and again == first and headers["Idempotent-Replayed"] == "true"
    stored = await api.pool.fetchval(
        "SELECT body FROM idempotency_keys WHERE key = 'wh-1' AND token_id = $1",
        await api.pool.fetchval("SELECT id FROM api_tokens WHERE role = 'crm' LIMIT 1"),
    )
    assert stored and first["secret"].encode() not in bytes(stored)
    assert b"crm.example.com" not in bytes(stored)
