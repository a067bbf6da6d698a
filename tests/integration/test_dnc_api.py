"""``/api/v1/dnc``: entries by scope, the leads they block (with ``lead.dnc`` events),
listing, removal, validation and client scoping."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Api
from tests.integration.test_import_support import make_campaign, make_client


async def _lead(api: Api, campaign: int, phone: str, status: str = "new") -> int:
    lead_id: int = await api.pool.fetchval(
        "INSERT INTO leads (campaign_id, phone_e164, status) VALUES ($1, $2, $3) RETURNING id",
        campaign,
        phone,
        status,
    )
    return lead_id


async def _status(api: Api, lead_id: int) -> str:
    return str(await api.pool.fetchval("SELECT status FROM leads WHERE id = $1", lead_id))


async def _events(api: Api, lead_id: int) -> list[dict[str, Any]]:
    rows = await api.pool.fetch(
        "SELECT type, client_id, payload FROM webhook_outbox WHERE lead_id = $1", lead_id
    )
    return [dict(r) for r in rows]


async def test_a_global_entry_blocks_every_clients_leads(api: Api) -> None:
    other = await make_client(api.pool)
    mine = await make_campaign(api.pool)
    theirs = await make_campaign(api.pool, client_id=other)
    lead_a = await _lead(api, mine, "+12125550301")
    lead_b = await _lead(api, theirs, "+12125550301", "paused")
    done = await _lead(api, await make_campaign(api.pool), "+12125550301", "completed")

    status, entry = await api.call(
        "POST",
        "/api/v1/dnc",
        as_="admin",
        json={"phone": "(212) 555-0301", "default_region": "US", "reason": "asked"},
    )
    assert status == 201, entry
    assert (entry["scope"], entry["source"], entry["leads_blocked"]) == ("global", "internal", 2)
    assert await _status(api, lead_a) == await _status(api, lead_b) == "dnc"
    assert await _status(api, done) == "completed"  # history is not rewritten
    [event] = await _events(api, lead_b)
    assert event["type"] == "lead.dnc" and event["client_id"] == other
    assert (
        event["payload"]["reason"] == "asked" and event["payload"]["phone_e164"] == "+12125550301"
    )

    status, again = await api.call(
        "POST", "/api/v1/dnc", as_="admin", json={"phone": "+12125550301"}
    )
    assert status == 200 and again["id"] == entry["id"] and again["leads_blocked"] == 0


async def test_client_and_campaign_scopes(api: Api) -> None:
    other = await make_client(api.pool)
    token = await api.token("crm", client_id=other)
    theirs = await make_campaign(api.pool, client_id=other)
    sibling = await make_campaign(api.pool, client_id=other)
    mine = await make_campaign(api.pool)
    in_theirs = await _lead(api, theirs, "+12125550302")
    in_sibling = await _lead(api, sibling, "+12125550302")
    in_mine = await _lead(api, mine, "+12125550302")

    status, entry = await api.call(
        "POST", "/api/v1/dnc", as_=token, json={"phone": "+12125550302", "campaign_id": theirs}
    )
    assert status == 201 and entry["scope"] == "campaign" and entry["client_id"] == other
    assert [await _status(api, x) for x in (in_theirs, in_sibling, in_mine)] == [
        "dnc",
        "new",
        "new",
    ]

    status, entry = await api.call(
        "POST", "/api/v1/dnc", as_=token, json={"phone": "+12125550302", "source": "crm"}
    )
    assert status == 201 and entry["scope"] == "client" and entry["leads_blocked"] == 1
    assert [await _status(api, x) for x in (in_theirs, in_sibling, in_mine)] == [
        "dnc",
        "dnc",
        "new",
    ]

    status, error = await api.call(
        "POST", "/api/v1/dnc", as_=token, json={"phone": "+12125550302", "scope": "global"}
    )
    assert status == 400 and error["field"] == "scope"
    status, _ = await api.call(
        "POST", "/api/v1/dnc", as_=token, json={"phone": "+12125550302", "campaign_id": mine}
    )
    assert status == 404  # another client's campaign


async def test_listing_and_removing_entries(api: Api) -> None:
    other = await make_client(api.pool)
    token = await api.token("crm", client_id=other)
    _, global_entry = await api.call(
        "POST", "/api/v1/dnc", as_="admin", json={"phone": "+442079460958", "source": "tps"}
    )
    _, own = await api.call("POST", "/api/v1/dnc", as_=token, json={"phone": "+442079460958"})
    _, foreign = await api.call(
        "POST", "/api/v1/dnc", as_="admin", json={"phone": "+442079460958", "client_id": 1}
    )

    status, page = await api.call(
        "GET", "/api/v1/dnc?phone=020 7946 0958&default_region=GB", as_=token
    )
    assert status == 200
    assert {e["id"] for e in page["items"]} == {global_entry["id"], own["id"]}
    status, _ = await api.call("GET", f"/api/v1/dnc/{foreign['id']}", as_=token)
    assert status == 404
    status, _ = await api.call("DELETE", f"/api/v1/dnc/{global_entry['id']}", as_=token)
    assert status == 400  # a registry entry is not a client's to remove
    status, _ = await api.call("DELETE", f"/api/v1/dnc/{own['id']}", as_=token)
    assert status == 204
    status, body = await api.call(
        "DELETE", "/api/v1/dnc?phone=+442079460958&source=tps", as_="admin"
    )
    assert status == 200 and body == {"deleted": 1}
    status, page = await api.call("GET", "/api/v1/dnc?phone=%2B442079460958", as_="admin")
    assert [e["id"] for e in page["items"]] == [foreign["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "not a number"}, "phone"),
        ({}, "phone"),
        ({"phone": "+12125550303", "colour": "red"}, "colour"),
        ({"phone": "+12125550303", "source": "Bad Source!"}, "source"),
        ({"phone": "+12125550303", "expires_at": "2020-01-01T00:00:00+00:00"}, "expires_at"),
        ({"phone": "+12125550303", "expires_at": "tomorrow"}, "expires_at"),
        ({"phone": "2125550303", "default_region": "XX"}, "default_region"),
        ({"phone": "+12125550303", "scope": "planet"}, "scope"),
    ],
)
async def test_bad_entries_are_refused(api: Api, body: dict[str, Any], field: str) -> None:
    status, error = await api.call("POST", "/api/v1/dnc", as_="admin", json=body)
    assert status == 400 and error["field"] == field, error


async def test_roles(api: Api) -> None:
    status, _ = await api.call("POST", "/api/v1/dnc", as_="viewer", json={"phone": "+12125550304"})
    assert status == 403
    status, _ = await api.call("GET", "/api/v1/dnc", as_="viewer")
    assert status == 200
    status, entry = await api.call(
        "POST", "/api/v1/dnc", as_="manager", json={"phone": "+12125550304"}
    )
    assert status == 201 and entry["scope"] == "global"  # an unscoped manager
