"""Campaign CRUD, lifecycle and every validation error, over real HTTP and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dialer.campaigns import store
from tests.integration.conftest import Api

BASE = {
    "name": "Spring renewals",
    "purpose": "telemarketing",
    "dial_mode": "predictive",
    "caller_id": "+1 415 555 0100",
    "default_region": "us",
}


async def _create(api: Api, **fields: Any) -> dict[str, Any]:
    status, body = await api.call("POST", "/api/v1/campaigns", json={**BASE, **fields})
    assert status == 201, body
    return body


async def test_create_applies_defaults_and_normalises(api: Api) -> None:
    c = await _create(api, name="defaults")
    assert c["state"] == "draft"
    assert c["caller_id"] == "+14155550100"
    assert c["default_region"] == "US"
    assert c["max_abandon_rate"] == 0.03
    assert c["client_id"] == 1
    assert c["ring_timeout_s"] >= 15 and c["abandon_timeout_s"] <= 2
    assert c["retry_policy"]["abandoned"] == 72 * 3600  # Ofcom: no redial within 72 h
    assert c["voicemail_beep_timeout_s"] == 10  # voicemail drops wait for the beep


async def test_get_list_patch_delete_round_trip(api: Api) -> None:
    c = await _create(api, name="round-trip")
    status, got = await api.call("GET", f"/api/v1/campaigns/{c['id']}")
    assert status == 200 and got == c

    status, changed = await api.call(
        "PATCH",
        f"/api/v1/campaigns/{c['id']}",
        json={
            "max_attempts": 3,
            "voicemail_beep_timeout_s": 0,
            "retry_policy": {"busy": 600},
            "schedule": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]},
        },
    )
    assert status == 200, changed
    assert changed["max_attempts"] == 3
    assert changed["voicemail_beep_timeout_s"] == 0  # 0: play as soon as AMD says machine
    assert changed["retry_policy"]["busy"] == 600
    assert changed["retry_policy"]["no_answer"] == 7200  # default kept
    assert changed["schedule"]["mon"] == [["09:00", "12:00"], ["13:00", "17:00"]]

    status, page = await api.call("GET", "/api/v1/campaigns?state=draft&limit=500")
    assert status == 200 and c["id"] in [x["id"] for x in page["items"]]

    status, _ = await api.call("DELETE", f"/api/v1/campaigns/{c['id']}")
    assert status == 204
    status, _ = await api.call("GET", f"/api/v1/campaigns/{c['id']}")
    assert status == 404
    # The name is free again once deleted.
    await _create(api, name="round-trip")


async def test_keyset_pagination_visits_every_campaign_once(api: Api) -> None:
    for i in range(5):
        await _create(api, name=f"page-{i}")
    seen: list[int] = []
    after = 0
    while True:
        status, page = await api.call("GET", f"/api/v1/campaigns?limit=2&after={after}")
        assert status == 200
        seen += [c["id"] for c in page["items"]]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert len(seen) == len(set(seen)) and seen == sorted(seen) and len(seen) >= 5


async def test_name_clash_is_409_case_insensitive(api: Api) -> None:
    await _create(api, name="Clash")
    status, body = await api.call("POST", "/api/v1/campaigns", json={**BASE, "name": "clash"})
    assert status == 409 and body["field"] == "name"
    other = await _create(api, name="clash-2")
    status, body = await api.call(
        "PATCH", f"/api/v1/campaigns/{other['id']}", json={"name": "CLASH"}
    )
    assert status == 409 and body["field"] == "name"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": 5}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"purpose": "sales"}, "purpose"),
        ({"dial_mode": "turbo"}, "dial_mode"),
        ({"caller_id": "4155550100"}, "caller_id"),
        ({"caller_id": "+1 000"}, "caller_id"),
        ({"default_region": "XX"}, "default_region"),
        ({"max_abandon_rate": 0.05}, "max_abandon_rate"),
        ({"max_abandon_rate": 0}, "max_abandon_rate"),
        ({"max_abandon_rate": "0.02"}, "max_abandon_rate"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": 2.5}, "max_attempts"),
        ({"max_attempts": True}, "max_attempts"),
        ({"retry_policy": {"busy": 5}}, "retry_policy.busy"),
        ({"retry_policy": {"sometimes": 600}}, "retry_policy.sometimes"),
        ({"retry_policy": []}, "retry_policy"),
        ({"dial_level": 9}, "dial_level"),
        ({"max_lines": 0}, "max_lines"),
        ({"ring_timeout_s": 10}, "ring_timeout_s"),
        ({"abandon_timeout_s": 3}, "abandon_timeout_s"),
        ({"voicemail_beep_timeout_s": 61}, "voicemail_beep_timeout_s"),
        ({"voicemail_beep_timeout_s": -1}, "voicemail_beep_timeout_s"),
        ({"amd": "yes"}, "amd"),
        ({"schedule": {"funday": [["09:00", "10:00"]]}}, "schedule"),
        ({"schedule": {"mon": [["18:00", "09:00"]]}}, "schedule"),
        ({"shift": {"timezone": "Mars/Olympus", "windows": {}}}, "shift.timezone"),
        ({"shift": {"windows": {}}}, "shift"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"starts_at": "2026-12-01T09:00:00"}, "starts_at"),
        ({"starts_at": "2026-12-02T09:00:00Z", "ends_at": "2026-12-01T09:00:00Z"}, "ends_at"),
        ({"colour": "red"}, "colour"),
        ({"waived_rules": ["us-fl.hours"]}, "waiver_reason"),
        ({"waived_rules": ["us.no-such-rule"], "waiver_reason": "x"}, "waived_rules"),
    ],
)
async def test_validation_errors_name_the_field(api: Api, patch: dict, field: str) -> None:
    status, body = await api.call("POST", "/api/v1/campaigns", json={**BASE, "name": "v", **patch})
    assert status == 400, body
    assert body["field"] == field
    assert isinstance(body["error"], str) and body["error"]


async def test_missing_name_and_bad_bodies(api: Api) -> None:
    status, body = await api.call("POST", "/api/v1/campaigns", json={"purpose": "survey"})
    assert (status, body["field"]) == (400, "name")
    resp = await api.client.post(
        "/api/v1/campaigns",
        data=b"{not json",
        headers={"Authorization": f"Bearer {api.tokens['admin']}"},
    )
    assert resp.status == 400 and (await resp.json())["field"] == "body"
    status, body = await api.call("POST", "/api/v1/campaigns", json=[1, 2])
    assert (status, body["field"]) == (400, "body")


async def test_bad_query_parameters_are_400(api: Api) -> None:
    for query, field in [("limit=0", "limit"), ("limit=abc", "limit"), ("state=gone", "state")]:
        status, body = await api.call("GET", f"/api/v1/campaigns?{query}")
        assert (status, body["field"]) == (400, field)


async def test_unknown_ids_are_404(api: Api) -> None:
    for method, path in [
        ("GET", "/api/v1/campaigns/999999"),
        ("PATCH", "/api/v1/campaigns/999999"),
        ("POST", "/api/v1/campaigns/999999/start"),
        ("DELETE", "/api/v1/campaigns/999999"),
        ("GET", "/api/v1/campaigns/abc"),
        ("GET", "/api/v1/nothing-here"),
    ]:
        status, body = await api.call(method, path, json={} if method == "PATCH" else None)
        assert status == 404, (method, path)
        assert "error" in body


async def test_lifecycle_start_pause_stop_and_outbox_events(api: Api) -> None:
    c = await _create(api, name="lifecycle")
    cid = c["id"]
    for action, state in [
        ("start", "running"),
        ("start", "running"),
        ("pause", "paused"),
        ("start", "running"),
        ("stop", "stopped"),
    ]:
        status, body = await api.call("POST", f"/api/v1/campaigns/{cid}/{action}")
        assert (status, body["state"]) == (200, state), body
    status, body = await api.call("POST", f"/api/v1/campaigns/{cid}/pause")
    assert status == 409 and "stopped" in body["error"]
    async with api.pool.acquire() as conn:
        events = await conn.fetch(
            "SELECT payload FROM webhook_outbox WHERE campaign_id = $1 ORDER BY id", cid
        )
    # One event per real change, none for the repeated start.
    assert [(e["payload"]["from"], e["payload"]["to"]) for e in events] == [
        ("draft", "running"),
        ("running", "paused"),
        ("paused", "running"),
        ("running", "stopped"),
    ]


async def test_a_stopped_or_completed_campaign_can_be_started_again(api: Api) -> None:
    """The README's lifecycle: stopped and completed are not final; a person restarts."""
    c = await _create(api, name="restartable")
    cid = c["id"]
    for action, state in [("start", "running"), ("stop", "stopped"), ("start", "running")]:
        status, body = await api.call("POST", f"/api/v1/campaigns/{cid}/{action}")
        assert (status, body["state"]) == (200, state), body
    async with api.pool.acquire() as conn:
        await store.transition(conn, cid, "complete", scope=None, now=api.clock.now())
    status, body = await api.call("POST", f"/api/v1/campaigns/{cid}/start")
    assert (status, body["state"]) == (200, "running")
    # A draft can be stopped (given up before it ran); a stopped one cannot be paused.
    d = await _create(api, name="abandoned-draft")
    status, body = await api.call("POST", f"/api/v1/campaigns/{d['id']}/stop")
    assert (status, body["state"]) == (200, "stopped")
    status, body = await api.call("POST", f"/api/v1/campaigns/{d['id']}/pause")
    assert (status, body["field"]) == (409, "state")
    spec = (await api.call("GET", "/api/v1/openapi.json"))[1]
    assert "started again" in spec["paths"]["/api/v1/campaigns/{id}/stop"]["post"]["summary"]


async def test_start_needs_caller_id_and_running_cannot_be_deleted(api: Api) -> None:
    c = await _create(api, name="no-cli", caller_id=None)
    status, body = await api.call("POST", f"/api/v1/campaigns/{c['id']}/start")
    assert (status, body["field"]) == (409, "caller_id")
    await api.call("PATCH", f"/api/v1/campaigns/{c['id']}", json={"caller_id": "+442079460958"})
    status, _ = await api.call("POST", f"/api/v1/campaigns/{c['id']}/start")
    assert status == 200
    status, body = await api.call("DELETE", f"/api/v1/campaigns/{c['id']}")
    assert status == 409 and "stop" in body["error"]


async def test_waiving_rules_needs_admin_and_reason_and_is_audited(api: Api) -> None:
    c = await _create(api, name="waiver")
    status, body = await api.call(
        "PATCH",
        f"/api/v1/campaigns/{c['id']}",
        as_="manager",
        json={"waived_rules": ["us.hours"], "waiver_reason": "x"},
    )
    assert (status, body["field"]) == (400, "waived_rules")
    status, body = await api.call(
        "PATCH",
        f"/api/v1/campaigns/{c['id']}",
        json={"waived_rules": ["us.hours"], "waiver_reason": "consented list, ticket 42"},
    )
    assert status == 200 and body["waived_rules"] == ["us.hours"]
    async with api.pool.acquire() as conn:
        audit = await conn.fetchrow(
            "SELECT actor, details FROM audit_log WHERE object_id = $1 AND action='waive_rules'",
            c["id"],
        )
    assert audit["details"]["reason"] == "consented list, ticket 42"
    assert "admin" in audit["actor"]


async def test_openapi_lists_every_api_route(api: Api) -> None:
    status, doc = await api.call("GET", "/api/v1/openapi.json", as_=None)
    assert status == 200 and doc["openapi"].startswith("3.1")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    import re

    for route in api.client.app.router.routes():
        info = route.resource.canonical if route.resource else ""
        if route.method == "HEAD" or not info or info == "/" or info.split("/")[1] == "ui":
            continue  # "/" and the web console (/ui) are pages, not API routes
        path = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", info)
        assert (route.method, path) in documented, (route.method, path)


async def test_campaign_changes_do_not_wait_for_a_running_import(api: Api) -> None:
    c = await _create(api, name="busy-import")
    async with api.pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()  # like an import: inserts leads, holds the foreign-key lock
        await conn.execute(
            "INSERT INTO leads (campaign_id, phone_e164) VALUES ($1, '+14155550101')", c["id"]
        )
        try:
            async with asyncio.timeout(10):
                status, _ = await api.call(
                    "PATCH", f"/api/v1/campaigns/{c['id']}", json={"max_attempts": 4}
                )
                assert status == 200
                status, body = await api.call("POST", f"/api/v1/campaigns/{c['id']}/start")
                assert (status, body["state"]) == (200, "running")
        finally:
            await tx.rollback()
