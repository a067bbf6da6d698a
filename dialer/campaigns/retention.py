"""Recording retention: files older than their campaign's ``recording_retention_days`` are
deleted, the attempts say when, and each deletion is in the audit log.

Run by the scheduler's leader (one process) on its tick, at most ``SWEEP_EVERY`` apart and
``BATCH`` files at a time, so a backlog drains without holding anything for long.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import asyncpg

from dialer.audit import record
from dialer.auth.roles import SYSTEM
from dialer.recordings import RecordingStore
from dialer.sql import queries

_Q = queries("dialer.campaigns")
SWEEP_EVERY = timedelta(minutes=10)
BATCH = 500


async def sweep(pool: asyncpg.Pool, storage: RecordingStore, *, now: datetime) -> int:
    """Delete one batch of expired recordings; how many were deleted."""
    rows = await pool.fetch(_Q["expired_recordings"], now, BATCH)
    if not rows:
        return 0
    for row in rows:  # the file first: an attempt never claims a file that is gone
        await storage.delete(row["recording_key"])
    by_campaign: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        by_campaign[row["campaign_id"]].append(row["id"])
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(_Q["recordings_deleted"], [r["id"] for r in rows], now)
        for campaign_id, ids in by_campaign.items():
            details = {"attempts": ids, "reason": "retention"}
            await record(
                conn, SYSTEM, "delete_recordings", "campaign", campaign_id, details, now=now
            )
    return len(rows)
