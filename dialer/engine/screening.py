"""The rules screen of one runner: which claimed leads the calling rules allow now.

The hopper screens the leads it claims (so a blocked lead does not sit in it) and dialing
defers the leads the full check blocks right before their dial; both go through here. A
blocked lead is rescheduled at the rules' next allowed instant and its claim is freed.
"""

from __future__ import annotations

from collections.abc import Callable

import asyncpg

from dialer.clock import Clock
from dialer.compliance import Decision
from dialer.engine import gate, records
from dialer.engine.model import CampaignConfig, Lead
from dialer.engine.retry import NO_DECISION_RECHECK


class RulesScreen:
    """Screens leads against the calling rules; counts the ones it deferred."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        campaign: Callable[[], CampaignConfig],
        *,
        runner_id: str,
    ) -> None:
        self.pool = pool
        self.clock = clock
        self.campaign = campaign
        self.runner_id = runner_id
        self.blocked = 0  # leads deferred by the rules

    async def screen(self, leads: list[Lead], *, guaranteed: bool = False) -> list[Lead]:
        """Leads the rules allow now; the others are rescheduled (and their claims freed)."""
        decided = await gate.check(
            self.pool,
            self.campaign(),
            leads,
            now=self.clock.now(),
            agent_guaranteed=guaranteed,
            history=False,
        )
        await self.defer([(lead, d) for lead, d in decided if not d.allowed])
        return [lead for lead, d in decided if d.allowed]

    async def defer(self, blocked: list[tuple[Lead, Decision]]) -> None:
        """Reschedule ``blocked`` leads at their rules' next allowed instant."""
        if not blocked:
            return
        async with self.pool.acquire() as conn:
            self.blocked += await records.defer_blocked(
                conn,
                self.campaign(),
                blocked,
                runner=self.runner_id,
                now=self.clock.now(),
                recheck=NO_DECISION_RECHECK,
            )
