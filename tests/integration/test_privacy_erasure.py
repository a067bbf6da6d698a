"""Erasure (issue 21): a person's name, number (E.164 and as imported) and custom-field
values leave every table and every file the dialer writes, the report totals stay the
same, a hashed suppression keeps them from being imported again, and the CRM hears
``lead.erased``. Who may erase: managers of the lead's client and admins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from dialer.config import Settings
from dialer.http.keys import SETTINGS
from dialer.runtime.parts import imports_part
from tests.integration.conftest import Api, serving
from tests.integration.privacy_support import Person, file_traces, plant, traces, upload
from tests.integration.test_import_support import make_campaign, make_client

ALICE = Person("Zebedee Quarrington", "+14155550199", "(415) 555-0199", "PX-77341-QQ")
PLACES = [
    ("leads", "phone_e164"),
    ("leads", "fields"),
    ("leads", "consent_source"),
    ("attempts", "phone_e164"),
    ("attempts", "notes"),
    ("import_rejects", "value"),
    ("import_rejects", "detail"),
    ("webhook_outbox", "payload"),
    ("webhook_deliveries", "last_error"),
    ("audit_log", "details"),
    ("dnc_entries", "phone_e164"),
]
BOB = Person("Philippa Oddworth", "+14155550177", "415.555.0177", "PB-99120-ZZ")


@pytest.fixture(scope="module")
async def api(pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    async with serving(pool, settings, ["admin"], background=[imports_part]) as helper:
        cid = await make_client(pool)
        helper.tokens["client_id"] = str(cid)
        helper.tokens["manager"] = await helper.token("manager", client_id=cid, name="manager")
        other = await make_client(pool)
        helper.tokens["other"] = await helper.token("manager", client_id=other, name="other")
        agent = await pool.fetchval(
            "INSERT INTO agents (client_id, name) VALUES ($1, 'agent-p') RETURNING id", cid
        )
        helper.tokens["agent"] = await helper.token("agent", client_id=cid, agent_id=agent)
        yield helper


async def _totals(api: Api, campaign_id: int) -> dict[str, Any]:
    return dict(
        await api.pool.fetchrow(
            "SELECT count(*) AS attempts, count(*) FILTER (WHERE outcome = 'completed') AS"
            " completed, count(*) FILTER (WHERE outcome = 'no_answer') AS no_answer,"
            " sum(talk_s) AS talk_s, (SELECT count(*) FROM leads WHERE campaign_id = $1) AS"
            " leads FROM attempts WHERE campaign_id = $1",
            campaign_id,
        )
    )


async def _report(api: Api, campaign_id: int) -> dict[str, Any]:
    status, body = await api.call(
        "GET", f"/api/v1/campaigns/{campaign_id}/stats?since=2000-01-01T00:00:00Z", as_="admin"
    )
    assert status == 200, body
    return body  # type: ignore[no-any-return]


async def test_erasure_leaves_no_trace_in_any_table_or_file(api: Api) -> None:
    client_id = int(api.tokens["client_id"])
    campaign = await make_campaign(api.pool, client_id=client_id)
    lead_id = await plant(api, campaign, client_id, ALICE)
    await plant(api, campaign, client_id, BOB)  # someone else, who stays
    data_dir = Path(api.client.app[SETTINGS].data_dir)  # type: ignore[index]
    planted = set(await traces(api.pool, ALICE.needles))  # the search finds them all
    assert {f'"{t}"."{c}"' for t, c in PLACES} - planted == set(), planted
    assert file_traces(data_dir, ALICE.needles)
    cached = "SELECT count(*) FROM idempotency_keys WHERE key = $1"  # encrypted: by key
    assert await api.pool.fetchval(cached, f"k-{lead_id}") == 1
    before, report_before = await _totals(api, campaign), await _report(api, campaign)

    status, body = await api.call("DELETE", f"/api/v1/leads/{lead_id}?erase=true", as_="manager")
    assert status == 200, body
    assert body["leads"] == [lead_id] and body["suppressed"] is True
    assert body["attempts_anonymised"] == 2 and body["recordings_deleted"] == 1

    assert await traces(api.pool, ALICE.needles) == []
    assert file_traces(data_dir, ALICE.needles) == []
    assert await _totals(api, campaign) == before
    report_after = await _report(api, campaign)
    for key in ("attempts", "outcomes", "talk_s", "calls", "connected"):
        if key in report_before:
            assert report_after[key] == report_before[key], key
    assert set(await traces(api.pool, BOB.needles)) >= {'"leads"."fields"', '"leads"."phone_e164"'}

    assert await api.pool.fetchval(cached, f"k-{lead_id}") == 0
    lead = await api.pool.fetchrow("SELECT status, erased_at FROM leads WHERE id = $1", lead_id)
    assert lead["status"] == "erased" and lead["erased_at"] is not None
    pending = await api.pool.fetchval(
        "SELECT count(*) FROM webhook_deliveries WHERE lead_id = $1 AND state = 'pending'", lead_id
    )
    assert pending == 0
    event = await api.pool.fetchrow(
        "SELECT client_id, payload FROM webhook_outbox WHERE type = 'lead.erased' AND lead_id = $1",
        lead_id,
    )
    assert event["client_id"] == client_id
    assert event["payload"]["lead_id"] == lead_id and event["payload"]["reason"] == "request"
    audit = await api.pool.fetchrow(
        "SELECT actor, details FROM audit_log WHERE action = 'erase' AND object_id = $1", lead_id
    )
    assert audit["details"]["reason"] == "request" and audit["actor"] != "system"

    # Suppression: the person is not imported again, by list or by push.
    again = await upload(
        api, campaign, f"name,phone\n{ALICE.name},{ALICE.raw}\nNew Person,+14155550123\n"
    )
    assert again["accepted"] == 1 and again["rejected_by_reason"] == {"erased": 1}
    status, body = await api.call(
        "POST", f"/api/v1/campaigns/{campaign}/leads", as_="manager", json={"phone": ALICE.raw}
    )
    assert status == 409 and body["reason"] == "erased", body
    assert await traces(api.pool, [ALICE.name, ALICE.e164, ALICE.raw]) == []


async def test_erase_by_phone_across_the_clients_campaigns(api: Api) -> None:
    client_id = int(api.tokens["client_id"])
    person = Person("Ottoline Brackwater", "+14155550155", "415 555 0155", "PC-11223-AA")
    for _ in range(2):
        campaign = await make_campaign(api.pool, client_id=client_id)
        await upload(api, campaign, f"name,phone\n{person.name},{person.raw}\n")
    status, body = await api.call(
        "POST",
        "/api/v1/erasures",
        as_="manager",
        json={"phone": person.raw, "default_region": "US"},
    )
    assert status == 200, body
    assert len(body["leads"]) == 2
    assert await traces(api.pool, [person.name, person.e164]) == []


async def test_who_may_erase(api: Api) -> None:
    client_id = int(api.tokens["client_id"])
    campaign = await make_campaign(api.pool, client_id=client_id)
    await upload(api, campaign, "name,phone\nCarys Wendlebury,+14155550133\n")
    lead_id = await api.pool.fetchval("SELECT id FROM leads WHERE campaign_id = $1", campaign)
    path = f"/api/v1/leads/{lead_id}?erase=true"
    assert (await api.call("DELETE", path, as_="other"))[0] == 404
    assert (await api.call("DELETE", path, as_="agent"))[0] == 403
    status, body = await api.call("DELETE", f"/api/v1/leads/{lead_id}", as_="manager")
    assert status == 400 and body["field"] == "erase"
    status, body = await api.call(
        "POST", "/api/v1/erasures", as_="admin", json={"phone": "+14155550133"}
    )
    assert status == 400 and body["field"] == "client_id"
    assert (await api.call("DELETE", path, as_="admin"))[0] == 200
    assert (await api.call("DELETE", path, as_="admin"))[0] == 404  # nothing left to erase


async def test_without_suppression_the_person_may_be_imported_again(api: Api) -> None:
    client_id = int(api.tokens["client_id"])
    campaign = await make_campaign(api.pool, client_id=client_id)
    await upload(api, campaign, "name,phone\nRowena Tillbury,+14155550144\n")
    lead_id = await api.pool.fetchval("SELECT id FROM leads WHERE campaign_id = $1", campaign)
    status, body = await api.call(
        "DELETE", f"/api/v1/leads/{lead_id}?erase=true&suppress=false", as_="manager"
    )
    assert status == 200 and body["suppressed"] is False
    again = await upload(api, campaign, "name,phone\nRowena Tillbury,+14155550144\n")
    assert again["accepted"] == 1
