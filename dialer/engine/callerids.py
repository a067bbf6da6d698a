"""The caller ID of each dial: the campaign's pool as the runner holds it.

The runner loads the pool when it starts and with every re-read of the campaign row, and
counts today's calls per number itself (it alone dials the campaign: it holds the lease),
so ``choose`` does no I/O on the path from a pacing decision to the originate. The rules are
``dialer.campaigns.callerpick``.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from dialer.campaigns import callerids
from dialer.campaigns.callerpick import PoolNumber, Where, pick
from dialer.engine.model import CampaignConfig, Lead


def lead_where(lead: Lead) -> Where:
    phone = lead.phone_e164
    area = phone[2:5] if phone.startswith("+1") and len(phone) == 12 else None
    return Where(area, lead.subdivision, lead.region)


class CallerIdChooser:
    """Picks the caller ID of each dial (see the module docstring)."""

    def __init__(self) -> None:
        self.pool: list[PoolNumber] = []
        self.used: dict[str, int] = {}
        self.day: datetime | None = None

    @property
    def numbers(self) -> tuple[str, ...]:
        return tuple(p.number for p in self.pool)

    async def reload(self, pool: asyncpg.Pool, campaign_id: int, now: datetime) -> None:
        """The pool (every call), today's counts (at start and when the day changes)."""
        async with pool.acquire() as conn:
            self.pool = await callerids.load_pool(conn, campaign_id)
            if self.day != callerids.day_start(now):
                self.used = await callerids.used_today(conn, campaign_id, now)
                self.day = callerids.day_start(now)

    def choose(self, campaign: CampaignConfig, lead: Lead, now: datetime) -> str | None:
        if self.day != callerids.day_start(now):
            self.used, self.day = {}, callerids.day_start(now)
        got = pick(
            self.pool,
            lead_where(lead),
            default=campaign.caller_id,
            local_presence=campaign.local_presence,
            daily_cap=campaign.caller_id_daily_cap,
            used_today=self.used,
        )
        if got.caller_id:
            self.used[got.caller_id] = self.used.get(got.caller_id, 0) + 1
        return got.caller_id
