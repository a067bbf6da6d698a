"""Bulk DNC lists: national registry files and client lists through the list importer, the
leads they block, re-loads, and the HTTP upload."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from dialer.clock import FakeClock
from dialer.config import Settings
from dialer.http.keys import IMPORTS
from dialer.leads.submit import DncOptions
from dialer.runtime.parts import imports_part
from tests.integration.conftest import Api, serving
from tests.integration.test_import_support import import_dnc, make_campaign, make_client, write

TPS = "020 7946 0958\n020 7946 0959\n0207 946 0958\nnot-a-number\n\n07400 123456\n"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def test_a_registry_file_becomes_a_global_source(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path
) -> None:
    campaign = await make_campaign(pool, region="GB")
    lead = await pool.fetchval(
        "INSERT INTO leads (campaign_id, phone_e164) VALUES ($1, '+447400123456') RETURNING id",
        campaign,
    )
    path = write(tmp_path / "tps.txt", TPS)
    row = await import_dnc(pool, clock, path, DncOptions(list_source="tps"))

    assert row["state"] == "completed", row["error"]
    assert row["options"]["default_region"] == "GB"  # the registry's country
    assert (row["rows_read"], row["accepted"], row["rejected"]) == (5, 3, 2)
    assert row["rejected_by_reason"] == {"duplicate_in_file": 1, "invalid_number": 1}
    entries = await pool.fetch(
        "SELECT phone_e164, client_id, campaign_id, import_id FROM dnc_entries"
        " WHERE source = 'tps' ORDER BY phone_e164"
    )
    assert [(e["phone_e164"], e["client_id"], e["campaign_id"]) for e in entries] == [
        ("+442079460958", None, None),
        ("+442079460959", None, None),
        ("+447400123456", None, None),
    ]
    assert {e["import_id"] for e in entries} == {row["id"]}
    assert await pool.fetchval("SELECT status FROM leads WHERE id = $1", lead) == "dnc"
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM webhook_outbox WHERE type = 'lead.dnc' AND lead_id = $1", lead
        )
        == 1
    )

    again = await import_dnc(pool, clock, path, DncOptions(list_source="tps"))
    assert again["accepted"] == 0
    assert again["rejected_by_reason"] == {
        "already_listed": 3,
        "duplicate_in_file": 1,
        "invalid_number": 1,
    }


async def test_a_client_list_with_a_header_and_other_columns(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path
) -> None:
    client = await make_client(pool)
    path = write(tmp_path / "optout.csv", "Name;Mobile;Date\nAnn;+1 212 555 0401;2026-01-02\n")
    row = await import_dnc(
        pool, clock, path, DncOptions(list_source="crm", client_id=client, reason="opted out")
    )
    entry = await pool.fetchrow("SELECT * FROM dnc_entries WHERE phone_e164 = '+12125550401'")
    assert (entry["client_id"], entry["source"], entry["reason"]) == (client, "crm", "opted out")
    assert row["options"]["columns"]["phone"] == "Mobile"
    event = await pool.fetchrow(
        "SELECT * FROM webhook_outbox WHERE type = 'import.completed' AND client_id = $1", client
    )
    assert event["payload"]["kind"] == "dnc" and event["payload"]["accepted"] == 1


@pytest.fixture(scope="module")
async def api(pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    roles = ("admin", "manager", "crm")
    async with serving(pool, settings, roles, background=[imports_part]) as helper:
        yield helper


async def test_uploading_a_dnc_list_over_http(api: Api) -> None:
    other = await make_client(api.pool)
    scoped = await api.token("crm", client_id=other)
    status, error = await api.call(
        "POST", "/api/v1/dnc/lists?source=us_dnc&scope=global", as_=scoped, data=b"201,2345678\n"
    )
    assert status == 400 and error["field"] == "scope"

    status, accepted = await api.call(
        "POST",
        "/api/v1/dnc/lists?source=us_dnc",
        as_="admin",
        data=b"201,2345678\n212,5550142\n212,555014\n",  # the FTC's area code, number layout
    )
    assert status == 202, accepted
    assert accepted["kind"] == "dnc" and accepted["client_id"] is None
    await api.client.app[IMPORTS].wait_idle(timeout=60)  # type: ignore[index]
    status, done = await api.call("GET", f"/api/v1/imports/{accepted['id']}", as_="admin")
    assert done["state"] == "completed" and (done["accepted"], done["rejected"]) == (2, 1)
    phones = await api.pool.fetch("SELECT phone_e164 FROM dnc_entries WHERE source = 'us_dnc'")
    assert sorted(r["phone_e164"] for r in phones) == ["+12012345678", "+12125550142"]
    status, _ = await api.call("GET", f"/api/v1/imports/{accepted['id']}", as_=scoped)
    assert status == 404  # a global import is not a client's
