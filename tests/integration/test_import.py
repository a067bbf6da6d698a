"""The importer against a real PostgreSQL: every rejection reason, the DNC scrub, re-upload
idempotence, lists that land whole or not at all, and the parallel parse pool."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from dialer.clock import FakeClock
from dialer.leads import imports
from dialer.leads.parallel import ParsePool
from tests.integration.test_import_support import import_list, make_campaign, make_client, write

LIST = (
    "Name,Phone,State,Zip,Notes\n"
    'Ann,(212) 555-0142,NY,10001,"first, best"\n'  # 2 accepted
    "Bob,,TX,,\n"  # 3 missing_phone
    "Cy,call me,TX,,\n"  # 4 invalid_number
    "Di,212 555 0143,NY,,x,y\n"  # 5 malformed_row
    "Ed,+1 212-555-0142,NY,,\n"  # 6 duplicate_in_file (of row 2)
    "Flo,850 555 0100,FL,32501,\n"  # 7 duplicate_in_campaign (a lead already)
    "Gus,(305) 555-0199,FL,,\n"  # 8 dnc
    "Hal,+44 20 7946 0958,,,\n"  # 9 accepted
    "\n"  # 10 blank
    "Ida,850 555 0101,FL,32501,\n"  # 11 accepted, Central time by ZIP
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def _leads(pool: asyncpg.Pool, campaign_id: int) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT * FROM leads WHERE campaign_id = $1 ORDER BY id", campaign_id)


async def test_every_row_is_loaded_or_reported_with_its_reason(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path
) -> None:
    campaign = await make_campaign(pool)
    await pool.execute(
        "INSERT INTO leads (campaign_id, phone_e164) VALUES ($1, '+18505550100')", campaign
    )
    await pool.execute(
        "INSERT INTO dnc_entries (phone_e164, source) VALUES ('+13055550199', 'tps')"
    )
    row = await import_list(pool, clock, write(tmp_path / "l.csv", LIST), campaign, name="spring")

    assert row["state"] == "completed", row["error"]
    assert (row["rows_read"], row["accepted"], row["dnc"], row["rejected"]) == (9, 3, 1, 6)
    assert row["rejected_by_reason"] == {
        "dnc": 1,
        "duplicate_in_campaign": 1,
        "duplicate_in_file": 1,
        "invalid_number": 1,
        "malformed_row": 1,
        "missing_phone": 1,
    }
    leads = {r["phone_e164"]: r for r in await _leads(pool, campaign)}
    ann = leads["+12125550142"]
    assert (ann["status"], ann["list_id"], ann["list_row"]) == ("new", row["list_id"], 2)
    assert ann["fields"] == {"Name": "Ann", "State": "NY", "Zip": "10001", "Notes": "first, best"}
    assert (ann["region"], ann["subdivision"], ann["postal_code"]) == ("US", "NY", "10001")
    assert ann["next_attempt_at"] == clock.now()
    assert leads["+13055550199"]["status"] == "dnc"  # kept, counted, never dialed
    assert leads["+18505550101"]["time_zones"] == ["America/Chicago"]
    assert leads["+442079460958"]["time_zones"][-1] == "Europe/London"
    assert leads["+18505550100"]["list_id"] is None  # the lead it had before is untouched

    async with pool.acquire() as conn:
        report = b"".join([p async for p in imports.report_csv(conn, row["id"])]).decode()
    lines = list(csv.reader(io.StringIO(report)))
    assert lines[0] == ["row", "reason", "value", "detail"]
    assert [(r[0], r[1]) for r in lines[1:]] == [
        ("3", "missing_phone"),
        ("4", "invalid_number"),
        ("5", "malformed_row"),
        ("6", "duplicate_in_file"),
        ("7", "duplicate_in_campaign"),
        ("8", "dnc"),
    ]
    assert lines[4][2:] == ["+1 212-555-0142", "same number as row 2 (+12125550142)"]
    assert "tps" in lines[6][3]

    lists = await pool.fetch("SELECT * FROM lead_lists WHERE campaign_id = $1", campaign)
    assert [(r["id"], r["name"], r["source"]) for r in lists] == [(row["list_id"], "spring", "cli")]
    event = await pool.fetchrow(
        "SELECT * FROM webhook_outbox WHERE type = 'import.completed' AND campaign_id = $1",
        campaign,
    )
    assert event["payload"]["accepted"] == 3 and event["payload"]["list_id"] == row["list_id"]
    assert event["payload"]["rejected_by_reason"]["dnc"] == 1


async def test_reuploading_the_same_file_adds_nothing(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path
) -> None:
    campaign = await make_campaign(pool)
    path = write(tmp_path / "l.csv", LIST)
    first = await import_list(pool, clock, path, campaign)
    before = await _leads(pool, campaign)
    again = await import_list(pool, clock, path, campaign)
    assert again["state"] == "completed" and again["accepted"] == 0 and again["dnc"] == 0
    loaded_or_repeated = (
        first["accepted"] + first["dnc"] + first["rejected_by_reason"].get("duplicate_in_file", 0)
    )
    assert again["rejected_by_reason"]["duplicate_in_campaign"] == loaded_or_repeated
    assert again["rows_read"] == first["rows_read"]
    assert await _leads(pool, campaign) == before


async def test_dnc_entries_apply_by_scope_and_expiry(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path
) -> None:
    other_client = await make_client(pool)
    campaign = await make_campaign(pool)
    other_campaign = await make_campaign(pool)
    entries = [
        ("+12125550101", None, None, None),  # global
        ("+12125550102", 1, None, None),  # this client
        ("+12125550103", 1, campaign, None),  # this campaign
        ("+12125550104", other_client, None, None),  # another client: no
        ("+12125550105", 1, other_campaign, None),  # another campaign: no
        ("+12125550106", None, None, clock.now() - timedelta(days=1)),  # expired: no
        ("+12125550107", None, None, clock.now() + timedelta(days=1)),  # not yet expired
    ]
    await pool.executemany(
        "INSERT INTO dnc_entries (phone_e164, client_id, campaign_id, expires_at)"
        " VALUES ($1, $2, $3, $4)",
        entries,
    )
    text = "phone\n" + "".join(f"212 555 010{i}\n" for i in range(1, 8))
    row = await import_list(pool, clock, write(tmp_path / "d.csv", text), campaign)
    status = {r["phone_e164"][-1]: r["status"] for r in await _leads(pool, campaign)}
    assert status == {
        "1": "dnc",
        "2": "dnc",
        "3": "dnc",
        "4": "new",
        "5": "new",
        "6": "new",
        "7": "dnc",
    }
    assert (row["accepted"], row["dnc"]) == (3, 4)


@pytest.mark.parametrize(
    ("tail", "error"),
    [
        ("+12125559999,\x00\x00binary\n", "binary data"),
        ('+12125559999,"never closed\n' + "x,y\n" * 40000, "never closes"),
    ],
)
async def test_a_file_that_turns_bad_half_way_leaves_the_campaign_as_it_was(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path, tail: str, error: str
) -> None:
    campaign = await make_campaign(pool)
    # Past the part inspected up front, and several chunks in: those are loaded first.
    good = "phone,name\n" + "".join(
        f"+1{212 + i // 10000}555{i % 10000:04d},n{i}\n" for i in range(30000)
    )
    row = await import_list(pool, clock, write(tmp_path / "bad.csv", good + tail), campaign)
    assert row["state"] == "failed" and error in row["error"]
    assert row["error"].startswith("row 30002")
    assert await _leads(pool, campaign) == []
    assert (
        await pool.fetchval("SELECT count(*) FROM lead_lists WHERE campaign_id = $1", campaign) == 0
    )
    assert (
        await pool.fetchval("SELECT count(*) FROM import_rejects WHERE import_id = $1", row["id"])
        == 0
    )


async def test_parallel_parse_gives_the_same_result_as_one_thread(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path
) -> None:
    lines = ["phone,n"]
    for i in range(12000):  # three chunks
        lines.append("bad" if i % 50 == 0 else f"+1 415 555 {i % 9000:04d},{i}")
    path = write(tmp_path / "many.csv", "\n".join(lines) + "\n")
    workers = ParsePool(2)
    try:
        parallel = await import_list(
            pool, clock, path, await make_campaign(pool), parse_pool=workers
        )
    finally:
        workers.close()
    threaded = await import_list(pool, clock, path, await make_campaign(pool))
    keys = ("state", "rows_read", "accepted", "rejected", "rejected_by_reason")
    assert {k: parallel[k] for k in keys} == {k: threaded[k] for k in keys}
    valid = [i % 9000 for i in range(12000) if i % 50]
    repeats = len(valid) - len(set(valid))
    assert parallel["rejected_by_reason"] == {"duplicate_in_file": repeats, "invalid_number": 240}


async def test_two_imports_into_one_campaign_take_turns(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path
) -> None:
    campaign = await make_campaign(pool)
    a = write(tmp_path / "a.csv", "phone\n" + "".join(f"+1646555{i:04d}\n" for i in range(3000)))
    b = write(
        tmp_path / "b.csv", "phone\n" + "".join(f"+1646555{i:04d}\n" for i in range(2000, 5000))
    )
    first, second = await asyncio.gather(
        import_list(pool, clock, a, campaign), import_list(pool, clock, b, campaign)
    )
    assert first["state"] == second["state"] == "completed"
    assert first["accepted"] + second["accepted"] == 5000
    assert first["rejected"] + second["rejected"] == 1000
    assert (
        await pool.fetchval("SELECT count(*) FROM leads WHERE campaign_id = $1", campaign) == 5000
    )


async def test_unusable_files_are_refused_before_an_import_exists(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path
) -> None:
    from dialer.errors import NotFound, UsageError

    campaign = await make_campaign(pool)
    with pytest.raises(UsageError, match="no phone column"):
        await import_list(pool, clock, write(tmp_path / "x.csv", "a,b\nc,d\n"), campaign)
    with pytest.raises(UsageError, match="unknown region"):
        await import_list(
            pool, clock, write(tmp_path / "y.csv", "phone\n1\n"), campaign, default_region="ZZ"
        )
    with pytest.raises(NotFound):
        await import_list(pool, clock, write(tmp_path / "z.csv", "phone\n1\n"), 999999)
