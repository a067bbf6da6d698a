"""Registries with more than yes/no: wireless lists, RND disconnection dates, litigator lists
and NCPR preferences load on the fast registry path, block leads only where they mean to,
and reach the rules; lead files carry consent columns, a bad value rejects its row."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from dialer.clock import FakeClock
from dialer.dnc.lookup import dnc_sources, screen_numbers
from dialer.leads.submit import DncOptions
from tests.integration.test_import_support import (
    client_lead,
    import_dnc,
    import_list,
    make_campaign,
    write,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def test_registry_kinds_load_as_facts(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path
) -> None:
    client, lead = await client_lead(pool, "+12125550201")
    wireless = write(tmp_path / "wireless.txt", "2125550201\n2125550202\n")
    done = await import_dnc(pool, clock, wireless, DncOptions(list_source="us_wireless"))
    assert done["state"] == "completed", done["error"]
    rnd = write(tmp_path / "rnd.csv", "2125550201,2026-02-03\n2125550203,20250101\n2125550204,x\n")
    done = await import_dnc(pool, clock, rnd, DncOptions(list_source="us_rnd"))
    assert done["state"] == "completed", done["error"]
    assert done["rejected"] == 1  # the bad date, with its row
    reason = await pool.fetchrow(
        "SELECT row_no, reason FROM import_rejects WHERE import_id = $1", done["id"]
    )
    assert (reason["row_no"], reason["reason"]) == (3, "bad_value")
    ncpr = write(tmp_path / "ncpr.csv", "9820012345,1#3\n9820012346,0\n")
    done = await import_dnc(pool, clock, ncpr, DncOptions(list_source="ncpr_prefs"))
    assert done["state"] == "completed", done["error"]
    lit = write(tmp_path / "lit.txt", "2125550209\n")
    done = await import_dnc(pool, clock, lit, DncOptions(list_source="litigator"))
    assert done["state"] == "completed", done["error"]

    # Wireless / RND / NCPR are facts, not DNC entries: the lead is still dialable.
    assert await pool.fetchval("SELECT status FROM leads WHERE id = $1", lead) == "new"
    phones = ["+12125550201", "+12125550203", "+919820012345", "+919820012346", "+12125550209"]
    assert (
        await dnc_sources(pool, phones, client_id=client, campaign_id=None, now=clock.now()) == {}
    )
    dnc, facts = await screen_numbers(
        pool, phones, client_id=client, campaign_id=None, now=clock.now()
    )
    assert dnc == {}  # the gate's one read says the same as dnc_sources
    assert facts["+12125550201"].wireless is True
    assert facts["+12125550201"].disconnected_at == datetime(2026, 2, 3, tzinfo=UTC)
    assert facts["+12125550203"].disconnected_at == datetime(2025, 1, 1, tzinfo=UTC)
    assert facts["+919820012345"].categories == frozenset({"1", "3"})
    assert facts["+919820012346"].categories == frozenset()
    assert facts["+12125550209"].litigator_sources == ("litigator",)

    # A litigator list blocks a lead import like a DNC registry.
    leads = write(tmp_path / "leads.csv", "phone\n2125550209\n2125550210\n")
    done = await import_list(pool, clock, leads, await make_campaign(pool, client_id=client))
    assert (done["accepted"], done["dnc"]) == (1, 1)
    both = ["+12125550209", "+12125550210"]
    await pool.execute(
        "INSERT INTO dnc_entries (phone_e164, client_id, source) VALUES ($1, $2, 'crm')",
        both[1],
        client,
    )
    now = clock.now()
    dnc, facts = await screen_numbers(pool, both, client_id=client, campaign_id=None, now=now)
    assert dnc == await dnc_sources(pool, both, client_id=client, campaign_id=None, now=now)
    assert dnc == {both[1]: ["crm"]}
    assert set(facts) == {both[0]} and facts[both[0]].litigator_sources == ("litigator",)


async def test_a_valued_registry_file_in_another_shape_is_refused(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path
) -> None:
    path = write(tmp_path / "rnd.txt", "2125550201\n2125550202\n")
    done = await import_dnc(pool, clock, path, DncOptions(list_source="us_rnd"))
    assert done["state"] == "failed"
    assert "number,value" in done["error"]
    assert not await pool.fetchval("SELECT count(*) FROM dnc_entries WHERE source = 'us_rnd'")


async def test_lead_files_carry_consent_columns(
    pool: asyncpg.Pool, clock: FakeClock, tmp_path: Path
) -> None:
    campaign = await make_campaign(pool)
    path = write(
        tmp_path / "leads.csv",
        "phone,name,Consent,Consent At,consent_source,ebr_purchase_at\n"
        "2125550301,Ann,express_written,2026-01-02T10:00:00Z,web,2025-11-30\n"
        "2125550302,Bob,,,,\n"
        "2125550303,Cy,maybe,,,\n"
        "2125550304,Di,express,2026-01-02 10:00,,\n"
        "2125550305,Ed,revoked,,,\n",
    )
    done = await import_list(pool, clock, path, campaign)
    assert done["state"] == "completed", done["error"]
    assert (done["accepted"], done["rejected"]) == (3, 2)
    rejects = await pool.fetch(
        "SELECT row_no, reason, value, detail FROM import_rejects WHERE import_id = $1"
        " ORDER BY row_no",
        done["id"],
    )
    assert [(r["row_no"], r["reason"]) for r in rejects] == [
        (4, "invalid_consent"),
        (5, "invalid_consent"),
    ]
    assert rejects[0]["detail"].startswith("consent:") and rejects[0]["value"] == "maybe"
    assert rejects[1]["detail"].startswith("consent_at:")
    rows = {
        r["phone_e164"]: r
        for r in await pool.fetch("SELECT * FROM leads WHERE campaign_id = $1", campaign)
    }
    ann = rows["+12125550301"]
    assert ann["consent"] == "express_written" and ann["consent_source"] == "web"
    assert ann["consent_at"] == datetime(2026, 1, 2, 10, tzinfo=UTC)
    assert ann["ebr_purchase_at"] == datetime(2025, 11, 30, tzinfo=UTC)
    assert "Consent" not in ann["fields"] and ann["fields"]["name"] == "Ann"
    assert rows["+12125550302"]["consent"] == "none"
    assert rows["+12125550305"]["consent_revoked_at"] == clock.now()
