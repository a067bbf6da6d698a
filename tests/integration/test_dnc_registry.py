"""National registry files (ten digits a line) load into a compact generation: lookups and
lead imports see the registry whole, a refresh reports kept/added/removed and switches only
when it lands, a failed refresh leaves the old one, and covered leads are marked dnc."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from dialer.clock import FakeClock
from dialer.dnc import registry
from dialer.dnc.lookup import dnc_sources
from dialer.leads.outcome import Tally
from dialer.leads.submit import DncOptions
from tests.integration.test_import_support import (
    client_lead,
    import_dnc,
    import_list,
    make_campaign,
    make_client,
    write,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def _blocked(pool: asyncpg.Pool, phones: list[str], client: int) -> dict[str, list[str]]:
    return await dnc_sources(
        pool, phones, client_id=client, campaign_id=None, now=FakeClock().now()
    )


async def _partitions_beyond_use(pool: asyncpg.Pool) -> int:
    """Partitions of the registry numbers minus the generations in force (0: none left over)."""
    return await pool.fetchval(
        "SELECT (SELECT count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent"
        "        WHERE p.relname = 'dnc_registry_numbers')"
        " - (SELECT count(*) FROM dnc_registries)"
    )


async def test_a_registry_file_loads_refreshes_and_scrubs(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path
) -> None:
    client, lead = await client_lead(pool, "+12125550104")
    first = write(tmp_path / "us-1.txt", "2125550101\n2125550102\n2125550103\n")
    loaded = await import_dnc(pool, clock, first, DncOptions(list_source="us_dnc"))
    assert loaded["state"] == "completed", loaded["error"]
    assert loaded["options"]["registry_numbers"] == 3 and loaded["accepted"] == 3
    assert await _blocked(pool, ["+12125550101", "+12125550104"], client) == {
        "+12125550101": ["us_dnc"]
    }

    second = write(tmp_path / "us-2.txt", "2125550102\r\n2125550103\r\n2125550104\r\n")
    options = DncOptions(list_source="us_dnc", mode="replace")
    row = await import_dnc(pool, clock, second, options)
    assert row["state"] == "completed", row["error"]
    assert {k: row["options"][k] for k in ("kept", "added", "removed")} == {
        "kept": 2,
        "added": 1,
        "removed": 1,
    }
    assert row["rejected"] == 0
    found = await _blocked(pool, ["+12125550101", "+12125550102", "+12125550104"], client)
    assert set(found) == {"+12125550102", "+12125550104"}
    # The covered lead is marked at the refresh, with its event; the old generation is gone.
    assert await pool.fetchval("SELECT status FROM leads WHERE id = $1", lead) == "dnc"
    assert await pool.fetchval(
        "SELECT count(*) FROM webhook_outbox WHERE type = 'lead.dnc' AND lead_id = $1", lead
    )
    assert await _partitions_beyond_use(pool) == 0

    # A lead import scrubs against the registry (status dnc, reason dnc with the source).
    leads = write(tmp_path / "leads.csv", "phone\n(212) 555-0103\n(212) 555-0199\n")
    other = await make_campaign(pool, client_id=client)
    done = await import_list(pool, clock, leads, other)
    assert (done["accepted"], done["dnc"]) == (1, 1)
    detail = await pool.fetchval(
        "SELECT detail FROM import_rejects WHERE import_id = $1 AND reason = 'dnc'", done["id"]
    )
    assert "us_dnc" in detail


async def test_odd_lines_are_read_or_rejected_with_their_row(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path
) -> None:
    plain = "".join(f"30555501{n}\n" for n in range(10, 50))  # rows 1-40
    text = plain + "\n(305) 555-0102\n3055550110\nnot a number\n+1 305 555 0103\n"
    path = write(tmp_path / "dncl.txt", text)
    row = await import_dnc(pool, clock, path, DncOptions(list_source="dncl"))
    assert row["state"] == "completed", row["error"]
    assert row["rows_read"] == 44  # the blank line (41) is not a row
    assert row["rejected_by_reason"] == {"duplicate_in_file": 1, "invalid_number": 1}
    rejects = await pool.fetch(
        "SELECT row_no, reason, detail FROM import_rejects WHERE import_id = $1 ORDER BY row_no",
        row["id"],
    )
    assert [(r["row_no"], r["reason"]) for r in rejects] == [
        (43, "duplicate_in_file"),
        (44, "invalid_number"),
    ]
    assert "same number as row 1" in rejects[0]["detail"]
    assert row["options"]["registry_numbers"] == 42


async def test_lookups_see_the_old_registry_until_the_refresh_lands(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path
) -> None:
    client = await make_client(pool)
    old = write(tmp_path / "old.txt", "4155550101\n4155550102\n")
    await import_dnc(pool, clock, old, DncOptions(list_source="us_dnc", mode="replace"))
    new = write(tmp_path / "new.txt", "4155550102\n4155550103\n")
    job = {
        "id": (await pool.fetchval("SELECT max(id) FROM imports")),
        "client_id": None,
        "campaign_id": None,
        "options": {"source": "us_dnc", "mode": "replace"},
    }
    phones = ["+14155550101", "+14155550103"]
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        load = registry.RegistryLoad(job, now=clock.now())
        await load.begin(conn)
        tally = Tally()

        async def progress() -> None:
            assert set(await _blocked(pool, phones, client)) == {"+14155550101"}

        await load.load(conn, new, tally, progress)
        await load.finish(conn, tally)
        assert set(await _blocked(pool, phones, client)) == {"+14155550101"}  # not landed
        await tx.rollback()  # a refresh that fails
    assert set(await _blocked(pool, phones, client)) == {"+14155550101"}
    await registry.drop_unused(pool)
    assert await _partitions_beyond_use(pool) == 0


async def test_a_replace_with_no_number_fails_and_keeps_the_registry(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path
) -> None:
    client = await make_client(pool)
    first = write(tmp_path / "a.txt", "5125550101\n")
    await import_dnc(pool, clock, first, DncOptions(list_source="us_dnc", mode="replace"))
    empty = write(tmp_path / "b.txt", "0000000000\n")
    row = await import_dnc(pool, clock, empty, DncOptions(list_source="us_dnc", mode="replace"))
    assert row["state"] == "failed" and "no usable phone number" in row["error"]
    assert await _blocked(pool, ["+15125550101"], client) == {"+15125550101": ["us_dnc"]}
