"""The hopper: a small in-memory queue of leads this runner has claimed in the database.

Leads are claimed with ``UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED)``: due callbacks
first, then by ``next_attempt_at``, then priority. A claim names the runner and expires
(``claimed_until``), so the leads of a runner that dies return to the pool by themselves;
the dial itself is only recorded while the claim is still held (see ``records``).

The hopper stays small (a few seconds of dialing), so a lead is never held away from other
work for long and a change to it (a DNC, a new schedule) is seen almost at once. Leads the
rules block now are weeded out at claim time, so the dialing path rarely meets one.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

import asyncpg

from dialer.clock import Clock
from dialer.engine.model import Lead
from dialer.sql import queries

_Q = queries("dialer.engine")
Screen = Callable[[list[Lead]], Awaitable[list[Lead]]]


class Hopper:
    """Claimed leads for anyone, and agent-owned callbacks per agent."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        campaign_id: int,
        runner_id: str,
        clock: Clock,
        *,
        claim_ttl_s: float = 60.0,
        min_size: int = 20,
        max_size: int = 2000,
        screen: Screen | None = None,
    ) -> None:
        self.pool = pool
        self.campaign_id = campaign_id
        self.runner_id = runner_id
        self.clock = clock
        self.claim_ttl = timedelta(seconds=claim_ttl_s)
        self.min_size = min_size
        self.max_size = max_size
        self.target = min_size
        self.screen = screen
        self.leads: deque[Lead] = deque()
        self.owned: dict[int, deque[Lead]] = {}
        self._lock = asyncio.Lock()
        self.exhausted = False  # the last refill found nothing due

    def __len__(self) -> int:
        return len(self.leads) + sum(len(q) for q in self.owned.values())

    def _fresh(self, lead: Lead) -> bool:
        """Whether the claim still has a comfortable margin (else let it lapse)."""
        age = self.clock.monotonic() - lead.claimed_t
        return age < self.claim_ttl.total_seconds() * 0.75

    def set_rate(self, dials_per_s: float, seconds: float = 5.0) -> None:
        """Size the hopper for ``seconds`` of dialing at the current rate."""
        self.target = max(self.min_size, min(self.max_size, int(dials_per_s * seconds) + 1))

    async def take(self, n: int) -> list[Lead]:
        """Up to ``n`` leads for anyone, refilling from the database if needed."""
        if len(self.leads) < n:
            await self.refill(max(n, self.target))
        out: list[Lead] = []
        while self.leads and len(out) < n:
            lead = self.leads.popleft()
            if self._fresh(lead):
                out.append(lead)
        return out

    def put_back(self, leads: Sequence[Lead]) -> None:
        """Leads taken but not dialed (still claimed): first out again."""
        self.leads.extendleft(reversed(leads))

    def take_owned(self, agent_id: int) -> Lead | None:
        """The next callback owned by ``agent_id``, if one is claimed."""
        queue = self.owned.get(agent_id)
        while queue:
            lead = queue.popleft()
            if self._fresh(lead):
                return lead
        return None

    def needs_refill(self) -> bool:
        return len(self.leads) < self.target // 2

    async def refill(self, want: int | None = None, owners: Sequence[int] = ()) -> int:
        """Claim due leads (callbacks first) up to ``want``; returns how many were added."""
        async with self._lock:
            room = (want or self.target) - len(self.leads)
            if room <= 0 and not owners:
                return 0
            now = self.clock.now()
            until = now + self.claim_ttl
            t = self.clock.monotonic()
            args = (self.campaign_id, now, max(room, 1), self.runner_id, until)
            rows = list(await self.pool.fetch(_Q["claim_callbacks"], *args, list(owners)))
            if room - len(rows) > 0:
                rows += await self.pool.fetch(
                    _Q["claim_leads"], self.campaign_id, now, room - len(rows), *args[3:]
                )
            claimed = [Lead.from_row(r, t) for r in rows]
            self.exhausted = not claimed
            if self.screen is not None and claimed:
                claimed = await self.screen(claimed)
            for lead in claimed:
                if lead.status == "callback" and lead.callback_agent_id is not None:
                    self.owned.setdefault(lead.callback_agent_id, deque()).append(lead)
                else:
                    self.leads.append(lead)
            return len(claimed)

    async def release(self, leads: Sequence[Lead]) -> None:
        """Give claimed leads back (not dialed)."""
        if leads:
            await self.pool.execute(_Q["release_claims"], [x.id for x in leads], self.runner_id)

    async def release_all(self) -> None:
        held = list(self.leads) + [x for q in self.owned.values() for x in q]
        self.leads.clear()
        self.owned.clear()
        await self.release(held)
