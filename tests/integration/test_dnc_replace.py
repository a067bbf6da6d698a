"""DNC imports in ``replace`` mode: a registry's full monthly file drops the numbers that left
it — only of that source and exactly that scope — atomically, never for person-made lists
and never from a file with no usable number."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from dialer.auth.roles import SYSTEM
from dialer.clock import FakeClock
from dialer.config import Settings
from dialer.errors import ValidationError
from dialer.http.keys import IMPORTS
from dialer.leads.submit import DncOptions, FileOptions, dnc_import
from dialer.runtime.parts import imports_part
from tests.integration.conftest import Api, serving
from tests.integration.test_import_support import import_dnc, make_campaign, make_client, write

KEPT, LEFT, ALSO_LEFT, NEW = "+33612345601", "+33612345602", "+33612345603", "+33781234567"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def _entry(
    pool: asyncpg.Pool,
    phone: str,
    source: str,
    client_id: int | None = None,
    campaign_id: int | None = None,
) -> None:
    await pool.execute(
        "INSERT INTO dnc_entries (phone_e164, client_id, campaign_id, source)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        phone,
        client_id,
        campaign_id,
        source,
    )


async def _listed(pool: asyncpg.Pool) -> set[tuple[str, int | None, int | None, str]]:
    rows = await pool.fetch("SELECT phone_e164, client_id, campaign_id, source FROM dnc_entries")
    return {(r["phone_e164"], r["client_id"], r["campaign_id"], r["source"]) for r in rows}


async def test_replace_drops_only_that_lists_numbers_missing_from_the_file(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path
) -> None:
    client = await make_client(pool)
    campaign = await make_campaign(pool, client_id=client, region="FR")
    first = write(tmp_path / "bloctel-01.txt", "06 12 34 56 01\n06 12 34 56 02\n06 12 34 56 03\n")
    loaded = await import_dnc(pool, clock, first, DncOptions(list_source="bloctel"))
    assert loaded["accepted"] == 3
    # The same numbers on other lists: other sources, the client's and a campaign's bloctel.
    for phone in (LEFT, ALSO_LEFT):
        await _entry(pool, phone, "internal")
        await _entry(pool, phone, "tps")
        await _entry(pool, phone, "bloctel", client_id=client)
        await _entry(pool, phone, "bloctel", client_id=client, campaign_id=campaign)
    lead = await pool.fetchval(
        "INSERT INTO leads (campaign_id, phone_e164, status) VALUES ($1, $2, 'dnc') RETURNING id",
        campaign,
        LEFT,
    )
    before = await _listed(pool)

    second = write(tmp_path / "bloctel-02.txt", "06 12 34 56 01\n07 81 23 45 67\nnope\n")
    row = await import_dnc(pool, clock, second, DncOptions(list_source="bloctel", mode="replace"))

    assert row["state"] == "completed", row["error"]
    assert row["options"]["mode"] == "replace" and row["options"]["removed"] == 2
    # The number kept from the old file is no rejection: kept 1, added 1, removed 2.
    assert (row["options"]["kept"], row["options"]["added"]) == (1, 1)
    assert (row["accepted"], row["rejected_by_reason"]) == (1, {"invalid_number": 1})
    gone = {(LEFT, None, None, "bloctel"), (ALSO_LEFT, None, None, "bloctel")}
    assert await _listed(pool) == (before - gone) | {(NEW, None, None, "bloctel")}
    # A lead that a removed entry made dnc stays dnc (a person may have marked it too).
    assert await pool.fetchval("SELECT status FROM leads WHERE id = $1", lead) == "dnc"


async def test_replace_of_a_client_list_reports_removed_in_the_event(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path
) -> None:
    client, other = await make_client(pool), await make_client(pool)
    for phone in (KEPT, LEFT):
        await _entry(pool, phone, "dncl", client_id=client)
        await _entry(pool, phone, "dncl", client_id=other)
        await _entry(pool, phone, "dncl")  # global
    path = write(tmp_path / "dncl.csv", "phone\n+33612345601\n")
    options = DncOptions(list_source="dncl", client_id=client, mode="replace")
    row = await import_dnc(pool, clock, path, options)

    assert row["state"] == "completed", row["error"]
    listed = {e for e in await _listed(pool) if e[3] == "dncl"}
    assert listed == {
        (KEPT, client, None, "dncl"),
        (KEPT, other, None, "dncl"),
        (LEFT, other, None, "dncl"),
        (KEPT, None, None, "dncl"),
        (LEFT, None, None, "dncl"),
    }
    event = await pool.fetchrow(
        "SELECT payload FROM webhook_outbox WHERE type = 'import.completed' AND client_id = $1",
        client,
    )
    assert event["payload"]["mode"] == "replace" and event["payload"]["removed"] == 1
    assert (event["payload"]["kept"], event["payload"]["added"]) == (1, 0)


async def test_add_mode_keeps_numbers_missing_from_the_file(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path
) -> None:
    client = await make_client(pool)
    await _entry(pool, LEFT, "ctps", client_id=client)
    path = write(tmp_path / "ctps.txt", "+33612345601\n")
    row = await import_dnc(pool, clock, path, DncOptions(list_source="ctps", client_id=client))

    assert row["state"] == "completed" and row["accepted"] == 1
    assert "removed" not in row["options"] and row["options"]["mode"] == "add"
    assert {e[0] for e in await _listed(pool) if e[3] == "ctps"} == {KEPT, LEFT}
    event = await pool.fetchrow(
        "SELECT payload FROM webhook_outbox WHERE type = 'import.completed' AND client_id = $1",
        client,
    )
    assert event["payload"]["mode"] == "add" and event["payload"]["removed"] == 0


@pytest.mark.parametrize(
    "body",
    [
        "not-a-number\n12\n",  # no usable number
        "name,phone\nAnn,\nBob,\n",  # the phone column is empty
    ],
)
async def test_replace_with_no_usable_number_fails_and_removes_nothing(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path, body: str
) -> None:
    await _entry(pool, KEPT, "ncpr")
    before = await _listed(pool)
    path = write(tmp_path / "ncpr.csv", body)
    row = await import_dnc(
        pool, clock, path, DncOptions(list_source="ncpr", mode="replace"), default_region="FR"
    )

    assert row["state"] == "failed"
    assert "no usable phone number" in row["error"] and "left as it was" in row["error"]
    assert await _listed(pool) == before


async def test_replace_is_refused_for_lists_people_asked_for(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path
) -> None:
    path = write(tmp_path / "internal.txt", "+33612345601\n")
    async with pool.acquire() as conn:
        for source in ("internal", "crm"):
            with pytest.raises(ValidationError) as refused:
                await dnc_import(
                    conn,
                    path,
                    FileOptions(source="cli"),
                    DncOptions(list_source=source, mode="replace"),
                    SYSTEM,
                    now=clock.now(),
                )
            assert refused.value.field == "mode" and source in refused.value.message


@pytest.fixture(scope="module")
async def api(pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    async with serving(pool, settings, ["admin"], background=[imports_part]) as helper:
        yield helper


async def test_replace_over_http(api: Api) -> None:
    for source in ("internal", "crm"):
        status, error = await api.call(
            "POST", f"/api/v1/dnc/lists?source={source}&mode=replace", data=b"+33612345601\n"
        )
        assert status == 400 and error["field"] == "mode", error
    status, error = await api.call(
        "POST", "/api/v1/dnc/lists?source=us_dnc&mode=wipe", data=b"+33612345601\n"
    )
    assert status == 400 and error["field"] == "mode"

    await _entry(api.pool, "+12125550142", "us_dnc")
    await _entry(api.pool, "+12125550143", "us_dnc")
    status, accepted = await api.call(
        "POST", "/api/v1/dnc/lists?source=us_dnc&mode=replace", data=b"212,5550142\n"
    )
    assert status == 202, accepted
    await api.client.app[IMPORTS].wait_idle(timeout=60)  # type: ignore[index]
    status, done = await api.call("GET", f"/api/v1/imports/{accepted['id']}")
    assert done["state"] == "completed", done["error"]
    assert done["options"]["removed"] == 1
    phones = await api.pool.fetch("SELECT phone_e164 FROM dnc_entries WHERE source = 'us_dnc'")
    assert [r["phone_e164"] for r in phones] == ["+12125550142"]
    status, spec = await api.call("GET", "/api/v1/openapi.json")
    params = spec["paths"]["/api/v1/dnc/lists"]["post"]["parameters"]
    assert any(p["name"] == "mode" for p in params)
