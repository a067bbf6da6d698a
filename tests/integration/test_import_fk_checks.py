"""An import checks its leads' foreign keys once, not once a row: the same list lands either
way, the campaign stays locked against changes until the import commits, and a database role
that may not skip the per-row checks still imports (with them)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from dialer import db
from dialer.clock import FakeClock
from dialer.leads.outcome import Tally
from dialer.leads.rows import ChunkResult
from dialer.leads.sink import LeadSink
from tests.integration.test_import_support import import_list, make_campaign, write

LIST = (
    "Name,Phone,State\n"
    "Ann,(212) 555-0142,NY\n"  # 2 accepted
    "Bob,call me,TX\n"  # 3 invalid_number
    "Cy,+1 212-555-0142,NY\n"  # 4 duplicate_in_file
    "Di,(305) 555-0199,FL\n"  # 5 dnc
    "Ed,+44 20 7946 0958,\n"  # 6 accepted
)


@pytest.fixture
async def plain_role_url(fresh_db_url: str) -> AsyncIterator[str]:
    """The test database as a role that is no superuser and may not set
    session_replication_role (all table rights, as an application role has)."""
    role = f"dialer_plain_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(fresh_db_url)
    await admin.execute(f"CREATE ROLE {role} LOGIN")
    await admin.execute(f"GRANT ALL ON SCHEMA public TO {role}")
    await admin.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
    await admin.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}")
    name = urlsplit(fresh_db_url).path.lstrip("/")
    await admin.execute(f'GRANT TEMPORARY ON DATABASE "{name}" TO {role}')
    parts = urlsplit(fresh_db_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    yield urlunsplit(parts._replace(netloc=f"{role}@{host}"))
    await admin.execute(f"DROP OWNED BY {role}")
    await admin.execute(f"DROP ROLE {role}")
    await admin.close()


async def _outcome(pool: asyncpg.Pool, clock: FakeClock, path: Path) -> tuple[object, ...]:
    campaign = await make_campaign(pool)
    row = await import_list(pool, clock, path, campaign)
    assert row["state"] == "completed", row["error"]
    leads = await pool.fetch(
        "SELECT list_row, phone_e164, status, list_id = $2 AS in_list FROM leads"
        " WHERE campaign_id = $1 ORDER BY list_row",
        campaign,
        row["list_id"],
    )
    rejects = await pool.fetch(
        "SELECT row_no, reason, value, detail FROM import_rejects WHERE import_id = $1"
        " ORDER BY row_no",
        row["id"],
    )
    counts = (row["rows_read"], row["accepted"], row["dnc"], row["rejected"])
    return counts, [tuple(r) for r in leads], [tuple(r) for r in rejects]


async def test_a_role_that_may_not_skip_row_checks_loads_the_same_list(
    fresh_db_url: str, plain_role_url: str, tmp_path: Path
) -> None:
    path = write(tmp_path / "l.csv", LIST)
    admin = await db.create_pool(fresh_db_url, min_size=1, max_size=4)
    plain = await db.create_pool(plain_role_url, min_size=1, max_size=4)
    try:
        await admin.execute(
            "INSERT INTO dnc_entries (phone_e164, source) VALUES ('+13055550199', 'tps')"
        )
        async with plain.acquire() as conn, conn.transaction():
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("SET LOCAL session_replication_role = replica")
        fast = await _outcome(admin, FakeClock(), path)
        checked = await _outcome(plain, FakeClock(), path)
    finally:
        await plain.close()
        await admin.close()
    assert fast == checked
    assert fast[0] == (5, 2, 1, 3)
    assert all(in_list for *_, in_list in fast[1])


async def test_the_campaign_cannot_be_changed_or_deleted_while_its_leads_load(
    pool: asyncpg.Pool,
) -> None:
    campaign = await make_campaign(pool)
    job = {
        "id": None,
        "campaign_id": campaign,
        "client_id": 1,
        "name": "locked",
        "source": "cli",
        "options": {},
    }
    sink = LeadSink(job, now=datetime(2026, 1, 5, tzinfo=UTC))
    chunk = ChunkResult(2)
    chunk.rows = chunk.staged = 1
    chunk.payload = (
        b"2\t212 555 0142\t+12125550142\t{}\t\\N\tUS\tNY\t{America/New_York}\t{}\t0\t\\N\n"
    )
    async with pool.acquire() as conn, conn.transaction():
        await sink.begin(conn)
        tally = Tally()
        sink.import_id = await conn.fetchval(
            "INSERT INTO imports (kind, client_id, campaign_id, name, created_at, updated_at)"
            " VALUES ('leads', 1, $1, 'locked', now(), now()) RETURNING id",
            campaign,
        )
        await sink.write(conn, chunk, tally)
        assert tally.accepted == 1
        async with pool.acquire() as other:
            for statement in (
                "SELECT 1 FROM campaigns WHERE id = $1 FOR UPDATE NOWAIT",
                "DELETE FROM campaigns WHERE id = $1",
            ):
                with pytest.raises(asyncpg.LockNotAvailableError):
                    async with other.transaction():
                        await other.execute("SET LOCAL lock_timeout = '50ms'")
                        await other.execute(statement, campaign)
        lead = await conn.fetchrow("SELECT campaign_id, list_id FROM leads WHERE list_row = 2")
        assert tuple(lead) == (campaign, sink.list_id)


async def test_a_number_is_one_lead_per_campaign_and_found_across_campaigns(
    pool: asyncpg.Pool,
) -> None:
    first, second = await make_campaign(pool), await make_campaign(pool)
    insert = "INSERT INTO leads (campaign_id, phone_e164) VALUES ($1, '+12125550177')"
    await pool.execute(insert, first)
    await pool.execute(insert, second)
    with pytest.raises(asyncpg.UniqueViolationError):
        await pool.execute(insert, first)
    again = await pool.fetchval(
        insert + " ON CONFLICT (campaign_id, phone_e164) DO NOTHING RETURNING id", first
    )
    assert again is None
    campaigns = await pool.fetch(
        "SELECT campaign_id FROM leads WHERE phone_e164 = '+12125550177' ORDER BY campaign_id"
    )
    assert [r["campaign_id"] for r in campaigns] == [first, second]
