"""Per-client retention: leads (with their attempts) whose last activity is older than the
client's ``lead_retention_days`` are erased (no suppression: the data has expired, the
person did not object). Run daily by the scheduler's leader, a batch at a time."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from dialer.audit import record
from dialer.auth.roles import SYSTEM, Principal
from dialer.errors import NotFound, ValidationError
from dialer.privacy.erase import RETENTION, Erasure, delete_files, erase_leads
from dialer.recordings import RecordingStore
from dialer.sql import queries

_Q = queries("dialer.privacy")
SWEEP_EVERY = timedelta(days=1)
BATCH = 500
MAX_DAYS = 36500


def parse_days(body: dict[str, Any]) -> int | None:
    """``{"lead_retention_days": N | null}`` → N (1..36500) or None (keep until erased)."""
    unknown = set(body) - {"lead_retention_days"}
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationError(f"unknown field {field!r}", field=field)
    if "lead_retention_days" not in body:
        raise ValidationError(
            "lead_retention_days is required (null: no limit)", field="lead_retention_days"
        )
    days = body["lead_retention_days"]
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValidationError(
            f"lead_retention_days must be a whole number of days from 1 to {MAX_DAYS}, or null",
            field="lead_retention_days",
        )
    return days


async def get_retention(conn: asyncpg.Connection, client_id: int, who: Principal) -> dict[str, Any]:
    row = await conn.fetchrow(_Q["get_retention"], client_id)
    if row is None or not who.sees_client(client_id):
        raise NotFound(f"client {client_id} does not exist")
    return {
        "client_id": row["id"],
        "name": row["name"],
        "lead_retention_days": row["lead_retention_days"],
    }


async def set_retention(
    conn: asyncpg.Connection, client_id: int, days: int | None, who: Principal, *, now: datetime
) -> dict[str, Any]:
    """Set (or clear) a client's retention; audited."""
    async with conn.transaction():
        before = await get_retention(conn, client_id, who)
        await conn.execute(_Q["set_retention"], client_id, days)
        details = {"from": before["lead_retention_days"], "to": days}
        await record(conn, who, "set_retention", "client", client_id, details, now=now)
    return {**before, "lead_retention_days": days}


async def sweep(pool: asyncpg.Pool, storage: RecordingStore | None, *, now: datetime) -> int:
    """Erase one batch of expired leads (and of old attempts of leads kept because they
    were called since); how many leads and attempts were erased."""
    return await _expired_leads(pool, storage, now=now) + await _expired_attempts(
        pool, storage, now=now
    )


async def _expired_attempts(
    pool: asyncpg.Pool, storage: RecordingStore | None, *, now: datetime
) -> int:
    rows = await pool.fetch(_Q["expired_attempts"], now, BATCH)
    if not rows:
        return 0
    await pool.execute(_Q["erase_attempt_rows"], [r["id"] for r in rows], now)
    keys = [r["recording_key"] for r in rows if r["recording_key"]]
    await delete_files(storage, Erasure(recording_keys=keys))
    return len(rows)


async def _expired_leads(
    pool: asyncpg.Pool, storage: RecordingStore | None, *, now: datetime
) -> int:
    rows = await pool.fetch(_Q["expired_leads"], now, BATCH)
    if not rows:
        return 0
    by_client: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        by_client[row["client_id"]].append(row["id"])
    erased = 0
    for client_id, ids in by_client.items():
        async with pool.acquire() as conn:
            done = await erase_leads(
                conn, ids, who=SYSTEM, now=now, scope=client_id, suppress=False, reason=RETENTION
            )
        await delete_files(storage, done)
        erased += len(done.leads)
    return erased
