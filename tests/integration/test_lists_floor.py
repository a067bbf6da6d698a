"""Lists on the floor: switched off (not dialed, still counted), reset for another pass
(only the chosen outcomes; DNC and completed leads untouched; audited; a webhook event);
leads found by phone number in any format; the console's lead page and list buttons."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from dialer.sql import queries
from tests.integration.conftest import Api
from tests.integration.engine_support import add_leads, make_campaign
from tests.integration.test_ui_sessions import open_console

_ENGINE = queries("dialer.engine")


async def _list(api: Api, phones: list[str]) -> tuple[int, int, list[int]]:
    now = api.clock.now()
    async with api.pool.acquire() as conn:
        campaign = await make_campaign(conn, now)
        lead_ids = await add_leads(conn, campaign["id"], phones, now)
        list_id = await conn.fetchval(
            "INSERT INTO lead_lists (campaign_id, name, created_at) VALUES ($1, 'List 3', $2)"
            " RETURNING id",
            campaign["id"], now,
        )  # fmt: skip
        await conn.execute("UPDATE leads SET list_id = $1 WHERE id = ANY($2)", list_id, lead_ids)
    return campaign["id"], list_id, lead_ids


async def _claimable(api: Api, campaign_id: int) -> list[int]:
    """The leads a runner's hopper would claim now (claims released afterwards)."""
    now = api.clock.now() + timedelta(days=1)
    rows = await api.pool.fetch(_ENGINE["claim_leads"], campaign_id, now, 100, "t", now)
    await api.pool.execute(_ENGINE["release_campaign_claims"], campaign_id, now)
    return [r["id"] for r in rows]


async def test_an_inactive_list_is_not_dialed_but_still_counted(api: Api) -> None:
    cid, list_id, leads = await _list(api, ["+14155554001", "+14155554002"])
    assert sorted(await _claimable(api, cid)) == leads
    status, body = await api.call(
        "PATCH", f"/api/v1/lists/{list_id}", json={"active": False}, as_="manager"
    )
    assert status == 200 and body["active"] is False
    assert await _claimable(api, cid) == []
    status, _ = await api.call("GET", f"/api/v1/campaigns/{cid}/penetration")
    assert status == 200
    assert (await api.call("PATCH", f"/api/v1/lists/{list_id}", json={"active": "no"}))[0] == 400
    await api.call("PATCH", f"/api/v1/lists/{list_id}", json={"active": True})
    assert len(await _claimable(api, cid)) == 2


async def _set(api: Api, lead_id: int, status: str, outcome: str, attempts: int = 3) -> None:
    await api.pool.execute(
        "UPDATE leads SET status = $2, last_outcome = $3, attempts_count = $4 WHERE id = $1",
        lead_id, status, outcome, attempts,
    )  # fmt: skip


async def test_reset_calls_again_only_the_chosen_outcomes(api: Api) -> None:
    phones = [f"+1415555410{n}" for n in range(5)]
    cid, list_id, leads = await _list(api, phones)
    await _set(api, leads[0], "exhausted", "no_answer")
    await _set(api, leads[1], "retry", "busy", 1)
    await _set(api, leads[2], "exhausted", "machine")  # not asked for
    await _set(api, leads[3], "dnc", "no_answer")  # never touched
    await _set(api, leads[4], "completed", "busy")  # never touched
    status, body = await api.call(
        "POST", f"/api/v1/lists/{list_id}/reset", json={"outcomes": ["no_answer", "busy"]},
        as_="manager",
    )  # fmt: skip
    assert status == 200 and body == {"list_id": list_id, "outcomes": ["busy", "no_answer"],
                                      "reset": 2}  # fmt: skip
    rows = {r["id"]: r for r in await api.pool.fetch(
        "SELECT id, status, attempts_count FROM leads WHERE id = ANY($1)", leads)}  # fmt: skip
    assert [(rows[i]["status"], rows[i]["attempts_count"]) for i in leads] == [
        ("retry", 0),
        ("retry", 0),
        ("exhausted", 3),
        ("dnc", 3),
        ("completed", 3),
    ]
    events = await api.pool.fetch(
        "SELECT payload FROM webhook_outbox WHERE type = 'list.reset' AND campaign_id = $1", cid
    )
    assert len(events) == 1 and events[0]["payload"]["leads"] == 2
    audited = await api.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'list.reset' AND object_id = $1", list_id
    )
    assert audited == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [({"outcomes": []}, "outcomes"), ({"outcomes": ["human"]}, "outcomes"),
     ({"outcomes": ["busy"], "all": True}, "all"), ({}, "outcomes")],
)  # fmt: skip
async def test_bad_reset_is_a_400(api: Api, body: dict[str, Any], field: str) -> None:
    _, list_id, _ = await _list(api, ["+14155554201"])
    status, answer = await api.call("POST", f"/api/v1/lists/{list_id}/reset", json=body)
    assert status == 400 and answer["field"] == field


async def test_leads_are_found_by_phone_in_any_format(api: Api) -> None:
    cid, _, [lead] = await _list(api, ["+14155554301"])
    for typed in ("+1 (415) 555-4301", "415.555.4301"):
        status, body = await api.call(
            "GET", "/api/v1/leads", params={"phone": typed, "default_region": "US"}
        )
        assert status == 200 and body["phone_e164"] == "+14155554301"
        assert [r["id"] for r in body["items"]] == [lead]
    async with api.pool.acquire() as conn:
        other = await conn.fetchval("INSERT INTO clients (name) VALUES ('Far Co') RETURNING id")
    token = await api.token("viewer", client_id=other, name="far-viewer")
    status, body = await api.call("GET", "/api/v1/leads", as_=token,
                                  params={"phone": "+14155554301"})  # fmt: skip
    assert status == 200 and body["items"] == []
    status, body = await api.call("GET", "/api/v1/leads", params={"phone": "12"})
    assert status == 400 and body["field"] == "phone"
    assert cid


async def test_console_lead_page_and_list_buttons(
    api: Api, tmp_path_factory: pytest.TempPathFactory
) -> None:
    cid, list_id, [lead] = await _list(api, ["+14155554401"])
    await api.pool.execute(
        "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, compliance,"
        " outcome, disposition, notes) VALUES ($1, $2, '+14155554401', $3, '{}', 'human',"
        " 'sale', 'wants the <b>gold</b> plan')",
        lead, cid, api.clock.now(),
    )  # fmt: skip
    async with open_console(api.pool, tmp_path_factory.mktemp("leads")) as console:
        browser = await console.signed_in("manager")
        found = await browser.get("/ui/leads?phone=415-555-4401&default_region=US")
        assert found.status == 200 and f'href="/ui/leads/{lead}"' in found.text
        bad = await browser.get("/ui/leads?phone=12")
        assert bad.status == 400
        page = await browser.get(f"/ui/leads/{lead}")
        assert page.status == 200 and "sale" in page.text
        assert "&lt;b&gt;gold&lt;/b&gt;" in page.text
        lists_page = await browser.get(f"/ui/campaigns/{cid}/lists")
        assert f'data-list-toggle="{list_id}"' in lists_page.text
        off = await browser.submit(f"/ui/lists/{list_id}/active", {"active": "off"})
        assert off.status == 303
        assert "data-list-off" in (await browser.get(off.location)).text
        reset = await browser.submit(f"/ui/lists/{list_id}/reset")
        assert (
            reset.status == 303
            and "will be called again" in (await browser.get(reset.location)).text
        )
