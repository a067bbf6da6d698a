"""A few figures for many campaigns at once: the console's campaign list.

``campaign_stats`` is the full report of one campaign (a dozen figures, a handful of
queries); a list of fifty campaigns would run it fifty times. ``campaign_summaries`` gives
the list's columns — leads remaining, dials, connects, abandon rate, occupancy — for any
number of campaigns in three queries, counted exactly as ``campaign_stats`` counts them
(a test holds the two to agreement).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from dialer.sql import queries
from dialer.stats.report import check_window

_Q = queries("dialer.stats", "summary.sql")
_STATS = queries("dialer.stats")  # agent_time: shared with the report


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    """One campaign's list figures over a window (rates are None without a denominator)."""

    campaign_id: int
    leads_remaining: int = 0
    dials: int = 0
    connects: int = 0
    human_answers: int = 0
    abandons: int = 0
    inbound: int = 0  # callbacks from callees (not dials)
    logged_in_s: float = 0.0
    talk_s: float = 0.0

    @property
    def abandon_rate(self) -> float | None:
        """Abandons / live answers, as ``campaign_stats``'s ``abandon_rate``."""
        return round(self.abandons / self.human_answers, 6) if self.human_answers else None

    @property
    def occupancy(self) -> float | None:
        """Talking / logged-in agent seconds, as ``campaign_stats``'s ``agent_occupancy``."""
        return round(self.talk_s / self.logged_in_s, 6) if self.logged_in_s else None


def day_start(now: datetime, zone: str | None) -> datetime:
    """Midnight of ``now``'s day in ``zone`` (UTC without one): where "today" begins."""
    tz = ZoneInfo(zone) if zone else ZoneInfo("UTC")
    local = now.astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz)


async def campaign_summaries(
    conn: asyncpg.Connection,
    campaign_ids: Iterable[int],
    *,
    since: datetime,
    until: datetime,
    now: datetime | None = None,
) -> dict[int, CampaignSummary]:
    """Figures of ``campaign_ids`` for attempts started in ``[since, until)``; every id gets
    an entry (zeros included). The caller passes only campaigns its principal may see.
    Agent time is counted up to ``now`` when the window reaches into the future."""
    check_window(since, until)
    ids = sorted(set(campaign_ids))
    if not ids:
        return {}
    agent_end = min(until, now) if now is not None else until
    if conn.is_in_transaction():
        rows = await _read(conn, ids, since, until, agent_end)
    else:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            rows = await _read(conn, ids, since, until, agent_end)
    window, remaining, agent_time = rows
    out = {}
    for cid in ids:
        w, t = window.get(cid), agent_time.get(cid)
        out[cid] = CampaignSummary(
            campaign_id=cid,
            leads_remaining=remaining.get(cid, 0),
            dials=w["dials"] if w else 0,
            connects=w["connects"] if w else 0,
            human_answers=w["human_answers"] if w else 0,
            abandons=w["abandons"] if w else 0,
            inbound=w["inbound"] if w else 0,
            logged_in_s=t["logged_in_s"] if t else 0.0,
            talk_s=t["talk_s"] if t else 0.0,
        )
    return out


_Rows = tuple[dict[int, asyncpg.Record], dict[int, int], dict[int, asyncpg.Record]]


async def _read(
    conn: asyncpg.Connection, ids: list[int], since: datetime, until: datetime, agent_end: datetime
) -> _Rows:
    """The three queries, from one snapshot."""
    window = {
        r["campaign_id"]: r for r in await conn.fetch(_Q["summary_window"], ids, since, until)
    }
    remaining = {r["campaign_id"]: r["n"] for r in await conn.fetch(_Q["summary_remaining"], ids)}
    agent_time = {}
    if agent_end > since:
        agent_time = {
            r["campaign_id"]: r
            for r in await conn.fetch(_STATS["agent_time"], ids, since, agent_end)
        }
    return window, remaining, agent_time


async def list_figures(
    conn: asyncpg.Connection, campaign_id: int, *, limit: int = 100
) -> list[dict[str, Any]]:
    """A campaign's lead lists, newest first, with leads total, remaining and attempted.
    The caller checked the campaign is visible."""
    return [dict(r) for r in await conn.fetch(_Q["list_figures"], campaign_id, limit)]
