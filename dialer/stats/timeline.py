"""A campaign's recent activity: attempts per time bucket (the live view's chart) and the
latest attempts with their calling-rule decision.

Counted like ``campaign_stats`` (by ``started_at``; a connect is an attempt connected to an
agent, an abandon one whose outcome is ``abandoned``), so the chart's totals over a window
equal the report's figures for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from dialer.errors import ValidationError
from dialer.sql import queries
from dialer.stats.report import check_window

_Q = queries("dialer.stats", "timeline.sql")
MAX_BUCKETS = 2000
RECENT_MAX = 200


@dataclass(frozen=True, slots=True)
class Bucket:
    """Attempts started in ``[start, start + bucket_s)``."""

    start: datetime
    dials: int = 0
    connects: int = 0
    abandons: int = 0


async def timeline(
    conn: asyncpg.Connection,
    campaign_id: int,
    *,
    since: datetime,
    until: datetime,
    bucket_s: int = 60,
) -> list[Bucket]:
    """Every bucket of ``[since, until)`` in order, empty ones included (the last one may
    be cut short by ``until``). The caller checked the campaign is visible."""
    check_window(since, until)
    if not isinstance(bucket_s, int) or bucket_s < 1:
        raise ValidationError("bucket_s must be a whole number of seconds", field="bucket_s")
    step = timedelta(seconds=bucket_s)
    count = -(-(until - since) // step)  # ceil
    if count > MAX_BUCKETS:
        raise ValidationError(f"at most {MAX_BUCKETS} buckets per timeline", field="bucket_s")
    found = {
        r["i"]: r for r in await conn.fetch(_Q["timeline"], campaign_id, since, until, bucket_s)
    }
    out = []
    for i in range(count):
        row = found.get(i)
        start = since + i * step
        if row is None:
            out.append(Bucket(start))
        else:
            out.append(Bucket(start, row["dials"], row["connects"], row["abandons"]))
    return out


async def recent_attempts(
    conn: asyncpg.Connection, campaign_id: int, *, limit: int = 20
) -> list[dict[str, Any]]:
    """The latest ``limit`` attempts, newest first: outcome, agent, disposition and the
    decision that allowed the dial (``allowed``, ``rule_ids``, ``packs``, ``waived_rules``)."""
    rows = await conn.fetch(_Q["recent_attempts"], campaign_id, max(1, min(limit, RECENT_MAX)))
    return [dict(r) for r in rows]
