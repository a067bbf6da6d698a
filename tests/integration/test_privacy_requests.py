"""Subject access exports, per-client retention run by the scheduler, and the privacy
commands of the CLI (issue 21)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import asyncpg
import pytest

from dialer import db
from dialer.cli import main
from dialer.clock import FakeClock
from dialer.outbox import EVENT_TYPES
from dialer.scheduler import CampaignScheduler
from tests.integration.conftest import Api
from tests.integration.test_import_support import make_campaign, make_client
from tests.integration.test_stats_support import add_attempt

DAY = timedelta(days=1)


async def _lead(
    pool: asyncpg.Pool,
    campaign: int,
    phone: str,
    age: timedelta,
    clock: FakeClock,
    name: str = "Ysolde Marchbanks",
) -> int:
    at = clock.now() - age
    lead_id: int = await pool.fetchval(
        "INSERT INTO leads (campaign_id, phone_e164, fields, status, next_attempt_at,"
        " created_at, updated_at, alt_phones) VALUES ($1, $2, $3, 'completed', $4, $4, $4,"
        " '{+14155550999}') RETURNING id",
        campaign,
        phone,
        {"name": name},
        at,
    )
    async with pool.acquire() as conn:
        attempt = await add_attempt(
            conn,
            campaign,
            lead_id,
            at,
            outcome="completed",
            answer="human",
            connected=True,
            talk_s=40.0,
        )
        await conn.execute("UPDATE attempts SET notes = 'wants a brochure' WHERE id = $1", attempt)
        await conn.execute("UPDATE leads SET last_attempt_at = $2 WHERE id = $1", lead_id, at)
    return lead_id


async def test_subject_access_export_holds_everything_about_the_person(api: Api) -> None:
    client = await make_client(api.pool)
    manager = await api.token("manager", client_id=client, name=f"m-{client}")
    campaign = await make_campaign(api.pool, client_id=client)
    lead_id = await _lead(api.pool, campaign, "+14155550111", DAY, api.clock)
    other = await make_campaign(api.pool)  # the same number at another client: not shown
    await _lead(api.pool, other, "+14155550111", DAY, api.clock, name="Someone Else")
    await api.pool.execute(
        "INSERT INTO dnc_entries (phone_e164, client_id, source) VALUES ($1, $2, 'internal')",
        "+14155550111",
        client,
    )
    status, doc = await api.call(
        "GET", "/api/v1/leads/export?phone=(415)%20555-0111&default_region=US", as_=manager
    )
    assert status == 200, doc
    assert doc["phone_e164"] == "+14155550111" and doc["client_id"] == client
    assert [lead["id"] for lead in doc["leads"]] == [lead_id]
    assert doc["leads"][0]["fields"] == {"name": "Ysolde Marchbanks"}
    assert doc["leads"][0]["alt_phones"] == ["+14155550999"]
    assert len(doc["attempts"]) == 1 and doc["notes"][0]["notes"] == "wants a brochure"
    assert [d["source"] for d in doc["dnc_entries"]] == ["internal"]
    assert doc["suppressed"] is False and doc["recordings"] == []
    # by an alternate number too; another client's manager sees no client; agents: 403
    status, doc = await api.call("GET", "/api/v1/leads/export?phone=%2B14155550999", as_=manager)
    assert [lead["id"] for lead in doc["leads"]] == [lead_id]
    stranger = await api.token("manager", client_id=await make_client(api.pool), name="x")
    status, _ = await api.call(
        "GET", f"/api/v1/leads/export?phone=%2B14155550111&client_id={client}", as_=stranger
    )
    assert status == 404
    assert (await api.call("GET", "/api/v1/leads/export?phone=x", as_=manager))[0] == 400
    status, doc = await api.call("GET", "/api/v1/leads/export?phone=%2B14155550111", as_="viewer")
    assert status == 403


async def test_retention_erases_only_leads_past_the_clients_limit(api: Api) -> None:
    client = await make_client(api.pool)
    kept_client = await make_client(api.pool)  # no retention set: nothing erased
    campaign = await make_campaign(api.pool, client_id=client)
    old = await _lead(api.pool, campaign, "+14155550121", 40 * DAY, api.clock)
    recent = await _lead(api.pool, campaign, "+14155550122", 5 * DAY, api.clock)
    untouched = await _lead(
        api.pool,
        await make_campaign(api.pool, client_id=kept_client),
        "+14155550123",
        400 * DAY,
        api.clock,
    )
    status, body = await api.call(
        "PUT", f"/api/v1/clients/{client}/retention", json={"lead_retention_days": 30}
    )
    assert status == 200 and body["lead_retention_days"] == 30
    assert (
        await api.call(
            "PUT", f"/api/v1/clients/{client}/retention", json={"lead_retention_days": 0}
        )
    )[0] == 400
    async with api.pool.acquire() as conn:  # an old call of a lead called again since
        stale = await add_attempt(
            conn, campaign, recent, api.clock.now() - 50 * DAY, outcome="no_answer"
        )
        await conn.execute("UPDATE attempts SET notes = 'old note' WHERE id = $1", stale)
    talk = "SELECT count(*), sum(talk_s) FROM attempts WHERE campaign_id = $1"
    before = tuple(await api.pool.fetchrow(talk, campaign))

    scheduler = CampaignScheduler(api.pool, api.clock, instance_id="privacy-test")
    assert await scheduler.sweep_retention(api.clock.now()) >= 1
    statuses = dict(
        await api.pool.fetch(
            "SELECT id, status FROM leads WHERE id = ANY($1)", [old, recent, untouched]
        )
    )
    assert statuses == {old: "erased", recent: "completed", untouched: "completed"}
    assert tuple(await api.pool.fetchrow(talk, campaign)) == before
    notes = dict(
        await api.pool.fetch(
            "SELECT id, notes FROM attempts WHERE lead_id = ANY($1)", [old, recent]
        )
    )
    assert notes.pop(stale) is None and sorted(notes.values(), key=str) == [
        None,
        "wants a brochure",
    ]
    event = await api.pool.fetchval(
        "SELECT payload FROM webhook_outbox WHERE type = 'lead.erased' AND lead_id = $1", old
    )
    assert event["reason"] == "retention" and event["suppressed"] is False
    audited = await api.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE object_type = 'client' AND object_id = $1"
        " AND action = 'set_retention'",
        client,
    )
    assert audited == 1
    # daily: the next tick the same day erases nothing, even a lead that just expired
    await api.pool.execute(
        "UPDATE leads SET created_at = created_at - interval '60 days',"
        " last_attempt_at = NULL WHERE id = $1",
        recent,
    )
    assert await scheduler.sweep_retention(api.clock.now() + timedelta(hours=1)) == 0
    assert await scheduler.sweep_retention(api.clock.now() + 2 * DAY) >= 1


def test_lead_erased_is_in_the_event_catalogue() -> None:
    assert "lead.erased" in EVENT_TYPES


def test_cli_export_erase_and_retention(
    cli_env: None, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def seed() -> tuple[int, int]:
        pool = await db.create_pool(db_url, min_size=1, max_size=2)
        try:
            client = await make_client(pool)
            campaign = await make_campaign(pool, client_id=client)
            await _lead(pool, campaign, "+14155550131", DAY, FakeClock())
            return client, campaign
        finally:
            await pool.close()

    client, _ = asyncio.run(seed())
    assert main(["lead", "export", "--phone", "+14155550131", "--client", str(client)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["leads"][0]["fields"] == {"name": "Ysolde Marchbanks"}
    assert (
        main(
            [
                "lead",
                "erase",
                "--phone",
                "4155550131",
                "--region",
                "US",
                "--client",
                str(client),
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["suppressed"] is True
    assert main(["lead", "export", "--phone", "+14155550131", "--client", str(client)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["leads"] == [] and doc["suppressed"] is True
    assert main(["lead", "retention", "--client", str(client), "--days", "90", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["lead_retention_days"] == 90
    assert main(["lead", "erase", "--phone", "+14155550131"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
