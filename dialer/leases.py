"""Named leases with expiry in PostgreSQL: one owner at a time across processes.

A lease is held by renewing it before it expires; a process that dies simply stops
renewing, and another takes the lease over once it has expired. Used for campaign
runners (``campaign:<id>``) and the scheduler (``scheduler``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

_ACQUIRE = """
INSERT INTO leases AS l (name, owner, expires_at, acquired_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (name) DO UPDATE
   SET owner = EXCLUDED.owner,
       expires_at = EXCLUDED.expires_at,
       acquired_at = CASE WHEN l.owner = EXCLUDED.owner THEN l.acquired_at
                          ELSE EXCLUDED.acquired_at END,
       stopping = l.stopping AND l.owner = EXCLUDED.owner
 WHERE l.owner = EXCLUDED.owner OR l.expires_at <= $4
RETURNING owner
"""


async def acquire(
    conn: asyncpg.Connection | asyncpg.Pool,
    name: str,
    owner: str,
    *,
    now: datetime,
    ttl: timedelta,
) -> bool:
    """Take or renew ``name`` for ``owner`` until ``now + ttl``; False if another holds it."""
    got = await conn.fetchval(_ACQUIRE, name, owner, now + ttl, now)
    return got == owner


async def release(conn: asyncpg.Connection | asyncpg.Pool, name: str, owner: str) -> None:
    """Give the lease up at once (graceful shutdown), so another can take it."""
    await conn.execute("DELETE FROM leases WHERE name = $1 AND owner = $2", name, owner)


async def mark_stopping(conn: asyncpg.Connection | asyncpg.Pool, name: str, owner: str) -> None:
    """Say that ``owner`` has begun to give ``name`` up: it still holds the lease (to finish
    what it has) but takes no new work. Waits for transactions that locked the row to see
    the lease (``FOR SHARE``) to commit, so nothing they accepted is missed."""
    await conn.execute(
        "UPDATE leases SET stopping = true WHERE name = $1 AND owner = $2", name, owner
    )


async def holder(
    conn: asyncpg.Connection | asyncpg.Pool, name: str, *, now: datetime
) -> str | None:
    """Who holds ``name`` now (None when free or expired)."""
    owner: str | None = await conn.fetchval(
        "SELECT owner FROM leases WHERE name = $1 AND expires_at > $2", name, now
    )
    return owner
