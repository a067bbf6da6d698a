"""Consent over HTTP: pushed with a lead, changed and revoked on it, bad values are 400s that
name the field, and the rules check takes the same facts as query parameters."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Api
from tests.integration.test_import_support import make_campaign


async def _push(api: Api, campaign: int, body: Any) -> tuple[int, Any]:
    return await api.call("POST", f"/api/v1/campaigns/{campaign}/leads", as_="crm", json=body)


async def test_consent_is_pushed_changed_and_revoked(api: Api) -> None:
    campaign = await make_campaign(api.pool, region="US")
    status, lead = await _push(
        api,
        campaign,
        {
            "phone": "+12125550101",
            "consent": "express_written",
            "consent_at": "2026-01-02T10:00:00Z",
            "consent_source": "web form 7",
            "ebr_purchase_at": "2025-12-01",
        },
    )
    assert status == 201, lead
    assert lead["consent"] == "express_written"
    assert lead["consent_at"].startswith("2026-01-02T10:00:00")
    assert lead["consent_source"] == "web form 7"
    assert lead["ebr_purchase_at"].startswith("2025-12-01T00:00:00")

    path = f"/api/v1/leads/{lead['id']}"
    status, changed = await api.call(
        "PATCH", path, as_="manager", json={"consent": "revoked", "consent_source": "email"}
    )
    assert status == 200, changed
    assert changed["consent"] == "revoked"
    assert changed["consent_revoked_at"] == api.clock.now().isoformat()
    assert changed["consent_at"].startswith("2026-01-02")  # nothing stored is lost
    # The revocation is audited (without the free-text source) and the CRM hears of it.
    audited = await api.pool.fetchrow(
        "SELECT actor, details FROM audit_log WHERE action = 'lead.consent' AND object_id = $1",
        lead["id"],
    )
    assert audited["details"]["from"] == "express_written"
    assert audited["details"]["consent"] == "revoked" and "consent_source" not in audited["details"]
    event = await api.pool.fetchval(
        "SELECT payload FROM webhook_outbox WHERE type = 'lead.consent' AND lead_id = $1",
        lead["id"],
    )
    assert event["consent"] == "revoked" and event["consent_revoked_at"] is not None
    unchanged = await api.call("PATCH", path, as_="manager", json={"priority": 3})
    assert unchanged[0] == 200
    count = "SELECT count(*) FROM webhook_outbox WHERE type = 'lead.consent' AND lead_id = $1"
    assert await api.pool.fetchval(count, lead["id"]) == 1  # no consent change, no event

    # A new consent after the revocation must be dated after it.
    status, error = await api.call(
        "PATCH", path, as_="manager", json={"consent": "express", "consent_at": "2026-01-05"}
    )
    assert (status, error["field"]) == (400, "consent_at"), error
    api.clock.advance(300)
    status, renewed = await api.call("PATCH", path, as_="manager", json={"consent": "express"})
    assert status == 200 and renewed["consent_at"] == api.clock.now().isoformat()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"consent": "maybe"}, "consent"),
        ({"consent": 1}, "consent"),
        ({"consent_at": "yesterday"}, "consent_at"),
        ({"consent_at": "2026-01-02T10:00:00"}, "consent_at"),  # no offset
        ({"ebr_inquiry_at": "2999-01-01"}, "ebr_inquiry_at"),  # the future
        ({"consent_source": "x" * 201}, "consent_source"),
    ],
)
async def test_bad_consent_values_are_400_naming_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    campaign = await make_campaign(api.pool, region="US")
    status, error = await _push(api, campaign, {"phone": "+12125550102", **body})
    assert (status, error.get("field")) == (400, field), error
    status, lead = await _push(api, campaign, {"phone": "+12125550102"})
    assert status == 201
    status, error = await api.call("PATCH", f"/api/v1/leads/{lead['id']}", as_="manager", json=body)
    assert (status, error.get("field")) == (400, field), error


async def test_rules_check_takes_consent_facts(api: Api) -> None:
    base = "/api/v1/rules/check?phone=%2B12125550123&purpose=telemarketing&at=2026-07-01T16:00:00Z"
    status, found = await api.call("GET", base + "&wireless=yes", as_="manager")
    assert status == 200 and not found["allowed"]
    assert "us.wireless-telemarketing-consent" in found["rule_ids"]
    status, found = await api.call(
        "GET", base + "&wireless=yes&consent=express_written", as_="manager"
    )
    assert found["allowed"], found
    status, found = await api.call("GET", base + "&dnc=us_dnc&ebr_since=2026-01-01", as_="manager")
    assert found["allowed"], found
    status, found = await api.call(
        "GET",
        base + "&consent=express_written&consent_at=2026-07-02T00:00:00Z&wireless=yes",
        as_="manager",
    )
    assert not found["allowed"]  # consent dated after the call
    status, found = await api.call("GET", base + "&wireless=perhaps", as_="manager")
    assert (status, found["field"]) == (400, "wireless")
    status, found = await api.call("GET", base + "&consent=sure", as_="manager")
    assert (status, found["field"]) == (400, "consent")
    mumbai = "/api/v1/rules/check?phone=%2B919820012345&purpose=telemarketing"
    status, found = await api.call(
        "GET", mumbai + "&at=2026-07-01T06:30:00Z&ncpr=1,3&category=2", as_="manager"
    )
    assert status == 200 and "in.ncpr-preference" in found["rule_ids"], found
    status, found = await api.call(
        "GET", mumbai + "&at=2026-07-01T06:30:00Z&ncpr=1,3&category=3", as_="manager"
    )
    assert found["allowed"], found


async def test_openapi_documents_the_consent_fields(api: Api) -> None:
    status, doc = await api.call("GET", "/api/v1/openapi.json", as_=None)
    assert status == 200
    check = doc["paths"]["/api/v1/rules/check"]["get"]
    names = {p["name"] for p in check["parameters"]}
    assert {"consent", "consent_at", "ebr_since", "wireless", "category"} <= names
    patch = doc["paths"]["/api/v1/leads/{id}"]["patch"]
    body = patch["requestBody"]["content"]["application/json"]["schema"]
    assert {"consent", "consent_revoked_at", "ebr_purchase_at"} <= set(body["properties"])
