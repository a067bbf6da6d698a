"""Leads over HTTP: CRM pushes (one lead, a batch), listing, reading, holding, changing."""

from __future__ import annotations

from typing import Any

import pytest

from dialer.leads import push
from tests.integration.conftest import Api
from tests.integration.test_import_support import make_campaign, make_client


async def _campaign(api: Api) -> int:
    return await make_campaign(api.pool, region="US")


async def _push(api: Api, campaign: int, body: Any, as_: str = "crm") -> tuple[int, Any]:
    return await api.call("POST", f"/api/v1/campaigns/{campaign}/leads", as_=as_, json=body)


async def test_a_crm_pushes_one_lead(api: Api) -> None:
    campaign = await _campaign(api)
    await api.pool.execute("INSERT INTO dnc_entries (phone_e164) VALUES ('+13055550100')")
    status, lead = await _push(
        api,
        campaign,
        {
            "phone": "(850) 555-0142 x12",
            "fields": {"crm_id": "A-17", "name": "Ann"},
            "postal_code": "32501",
            "priority": 5,
            "alt_phones": ["850 555 0143", "nope"],
        },
    )
    assert status == 201, lead
    assert lead["phone_e164"] == "+18505550142" and lead["status"] == "new"
    assert lead["alt_phones"] == ["+18505550143"]
    assert lead["fields"] == {
        "crm_id": "A-17",
        "name": "Ann",
        "alt_phones_invalid": ["nope"],
        "phone_extension": "12",
    }
    assert (lead["subdivision"], lead["time_zones"]) == ("FL", ["America/Chicago"])
    assert lead["priority"] == 5 and lead["list_id"] is None
    assert lead["next_attempt_at"] == api.clock.now().isoformat()
    assert "claimed_by" not in lead

    status, error = await _push(api, campaign, {"phone": "+1 850 555 0142"})
    assert status == 409 and error["reason"] == "duplicate_in_campaign"
    assert error["lead_id"] == lead["id"]
    status, error = await _push(api, campaign, {"phone": "call me"})
    assert (status, error["reason"], error["field"]) == (400, "invalid_number", "phone")
    status, error = await _push(api, campaign, {"phone": ""})
    assert (status, error["reason"]) == (400, "missing_phone")
    status, lead = await _push(api, campaign, {"phone": "305-555-0100"})
    assert status == 201 and lead["status"] == "dnc"  # stored, never dialed


async def test_a_crm_pushes_a_batch_and_learns_every_outcome(api: Api) -> None:
    campaign = await _campaign(api)
    await _push(api, campaign, {"phone": "212 555 0150"})
    await api.pool.execute("INSERT INTO dnc_entries (phone_e164) VALUES ('+12125550153')")
    items = [
        {"phone": "212 555 0151", "fields": {"n": 1}},
        {"phone": "+1 212-555-0151"},  # repeat within the batch
        {"phone": "212 555 0150"},  # a lead already
        {"phone": "12"},
        "not a lead",
        {"phone": "212 555 0152", "colour": "red"},
        {"phone": "212 555 0153"},  # on a DNC list
        {"phone": "+44 20 7946 0958", "default_region": "GB"},
    ]
    status, outcome = await _push(api, campaign, {"leads": items})
    assert status == 200, outcome
    assert (outcome["accepted"], outcome["dnc"], outcome["rejected"]) == (2, 1, 6)
    assert outcome["rejected_by_reason"] == {
        "dnc": 1,
        "duplicate_in_campaign": 1,
        "duplicate_in_file": 1,
        "invalid_number": 1,
        "malformed_row": 2,
    }
    got = [(r["index"], r.get("status"), r.get("reason")) for r in outcome["items"]]
    assert got == [
        (0, "new", None),
        (1, None, "duplicate_in_file"),
        (2, None, "duplicate_in_campaign"),
        (3, None, "invalid_number"),
        (4, None, "malformed_row"),
        (5, None, "malformed_row"),
        (6, "dnc", "dnc"),
        (7, "new", None),
    ]
    assert "unknown field 'colour'" in outcome["items"][5]["detail"]
    assert all("lead" not in r for r in outcome["items"])  # ids, not whole leads

    status, outcome = await _push(api, campaign, [{"phone": "212 555 0154"}])
    assert status == 200 and outcome["accepted"] == 1
    status, error = await _push(api, campaign, {"leads": [{"phone": "1"}] * 1001})
    assert status == 400 and error["field"] == "leads"


async def test_listing_is_keyset_paginated_and_filtered(api: Api) -> None:
    campaign = await _campaign(api)
    phones = [f"212 555 01{i:02d}" for i in range(60, 67)]
    await _push(api, campaign, {"leads": [{"phone": p} for p in phones]})
    seen: list[int] = []
    after = 0
    while True:
        status, page = await api.call(
            "GET", f"/api/v1/campaigns/{campaign}/leads?limit=3&after={after}", as_="viewer"
        )
        assert status == 200
        seen += [lead["id"] for lead in page["items"]]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert len(seen) == 7 and seen == sorted(seen)
    await api.call("PATCH", f"/api/v1/leads/{seen[0]}", as_="crm", json={"status": "paused"})
    status, page = await api.call(
        "GET", f"/api/v1/campaigns/{campaign}/leads?status=paused", as_="viewer"
    )
    assert [lead["id"] for lead in page["items"]] == [seen[0]]
    status, error = await api.call(
        "GET", f"/api/v1/campaigns/{campaign}/leads?status=bogus", as_="viewer"
    )
    assert status == 400 and error["field"] == "status"


async def test_changing_a_lead(api: Api) -> None:
    campaign = await _campaign(api)
    _, lead = await _push(api, campaign, {"phone": "850 555 0170", "fields": {"a": 1, "b": 2}})
    path = f"/api/v1/leads/{lead['id']}"
    assert lead["time_zones"] == ["America/Chicago", "America/New_York"]

    status, changed = await api.call(
        "PATCH", path, as_="manager", json={"fields": {"b": None, "c": 3}, "priority": -2}
    )
    assert status == 200 and changed["fields"] == {"a": 1, "c": 3} and changed["priority"] == -2
    status, changed = await api.call("PATCH", path, as_="manager", json={"postal_code": "32501"})
    assert status == 200 and changed["time_zones"] == ["America/Chicago"]
    assert changed["subdivision"] == "FL" and changed["postal_code"] == "32501"
    status, changed = await api.call(
        "PATCH", path, as_="manager", json={"postal_code": None, "subdivision": "Florida"}
    )
    assert changed["time_zones"] == ["America/Chicago", "America/New_York"]

    status, held = await api.call("PATCH", path, as_="crm", json={"status": "paused"})
    assert status == 200 and held["status"] == "paused"
    status, error = await api.call("PATCH", path, as_="crm", json={"status": "callback"})
    assert status == 409 and error["field"] == "status"
    status, released = await api.call("PATCH", path, as_="crm", json={"status": "retry"})
    assert status == 200 and released["status"] == "retry"
    await api.pool.execute("UPDATE leads SET status = 'completed' WHERE id = $1", lead["id"])
    status, error = await api.call("PATCH", path, as_="crm", json={"status": "paused"})
    assert status == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone_e164": "+12125550100"}, "phone_e164"),
        ({"phone": "+12125550100"}, "phone"),
        ({"attempts_count": 0}, "attempts_count"),
        ({"priority": "high"}, "priority"),
        ({"fields": [1]}, "fields"),
        ({"status": "sleeping"}, "status"),
        ({"postal_code": "ABCDE"}, "postal_code"),
        ({"subdivision": "Atlantis"}, "subdivision"),
    ],
)
async def test_bad_changes_are_refused(api: Api, body: dict[str, Any], field: str) -> None:
    campaign = await _campaign(api)
    _, lead = await _push(api, campaign, {"phone": f"212 555 02{len(str(body)) % 100:02d}"})
    status, error = await api.call("PATCH", f"/api/v1/leads/{lead['id']}", as_="crm", json=body)
    assert status == 400 and error["field"] == field, error


async def test_roles_and_client_scoping(api: Api) -> None:
    campaign = await _campaign(api)
    _, lead = await _push(api, campaign, {"phone": "212 555 0180"})
    other = await make_client(api.pool)
    outsider = await api.token("crm", client_id=other)
    for method, path, body in (
        ("GET", f"/api/v1/leads/{lead['id']}", None),
        ("PATCH", f"/api/v1/leads/{lead['id']}", {"priority": 1}),
        ("GET", f"/api/v1/campaigns/{campaign}/leads", None),
        ("POST", f"/api/v1/campaigns/{campaign}/leads", {"phone": "212 555 0181"}),
    ):
        status, _ = await api.call(method, path, as_=outsider, json=body)
        assert status == 404, (method, path)
    status, _ = await api.call("GET", f"/api/v1/leads/{lead['id']}", as_="viewer")
    assert status == 200
    status, _ = await api.call("PATCH", f"/api/v1/leads/{lead['id']}", as_="viewer", json={})
    assert status == 403
    status, _ = await _push(api, campaign, {"phone": "212 555 0182"}, as_="viewer")
    assert status == 403


async def test_a_push_does_not_wait_long_for_numbers_an_import_is_loading(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(push, "LOCK_WAIT", "100ms")
    campaign = await _campaign(api)
    async with api.pool.acquire() as conn, conn.transaction():  # a list import, uncommitted
        await conn.execute(
            "INSERT INTO leads (campaign_id, phone_e164) VALUES ($1, '+12125550190')", campaign
        )
        status, error = await _push(api, campaign, {"phone": "212 555 0190"})
    assert status == 409 and "retry" in error["error"]
