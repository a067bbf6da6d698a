"""A transfer's leg as the runner carries it, and its writes (``transfers.sql``).

The leg's attempt closes through the runner's recorder like any call (``closing``), so
``attempt.completed`` carries ``parent_attempt_id``; ``call.transferred`` is written in the
transaction that records the callee reaching the target.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from dialer.engine import closing
from dialer.engine.livecall import LiveCall
from dialer.outbox import enqueue
from dialer.sql import queries
from dialer.timer import TimerHandle

if TYPE_CHECKING:
    from dialer.engine.runner import CampaignRunner

log = logging.getLogger(__name__)
_Q = queries("dialer.engine", "transfers.sql")


@dataclass(eq=False)
class Leg:
    """One leg in progress (see ``engine.transfer``)."""

    id: int
    leg_call_id: str
    kind: str  # blind | warm | conference
    parent: LiveCall
    campaign_id: int  # the leg attempt's campaign (a target campaign, or the call's)
    started_at: datetime
    started_t: float
    agent_id: int | None
    endpoint: str | None
    phone: str | None  # an outside number (None for agents and campaign queues)
    wait_s: float  # a campaign target: how long the callee waits for its agent
    target: dict[str, Any]
    state: str = "requested"
    answered_t: float | None = None
    answered_at: datetime | None = None
    handed: bool = False  # the first agent is off the call
    fell_back: bool = False
    closed: bool = False
    child: LiveCall | None = None
    poll: TimerHandle | None = None
    deadline_t: float | None = None

    @property
    def call_id(self) -> str:
        return self.parent.call_id

    @classmethod
    def from_row(cls, row: Any, parent: LiveCall, t: float) -> Leg:
        target = row["leg_target"] or {}
        return cls(
            id=row["id"],
            leg_call_id=row["gateway_call_id"],
            kind=row["leg"],
            parent=parent,
            campaign_id=row["campaign_id"],
            started_at=row["started_at"],
            started_t=t,
            agent_id=row["agent_id"],
            endpoint=row["endpoint"],
            phone=row["phone_e164"] if "phone" in target else None,
            wait_s=float(row["transfer_wait_s"]),
            target=dict(target),
        )


class LegBook:
    """The database side of a runner's legs."""

    def __init__(self, runner: CampaignRunner) -> None:
        self.runner = runner

    @property
    def pool(self) -> asyncpg.Pool:
        return self.runner.pool

    async def take(self, leg_id: int, parent_id: int) -> asyncpg.Record | None:
        r = self.runner
        return await self.pool.fetchrow(
            _Q["take_leg"], leg_id, parent_id, r.runner_id, r.lease, r.instance_id, r.clock.now()
        )

    async def pending(self) -> list[asyncpg.Record]:
        return list(await self.pool.fetch(_Q["pending_legs"], self.runner.campaign_id))

    async def state(self, leg: Leg, state: str) -> None:
        leg.state = state
        await self.pool.execute(_Q["leg_state"], leg.id, state)

    async def connected(
        self, leg: Leg, state: str, at: datetime, *, transferred: bool = False
    ) -> None:
        leg.state = state
        ring = (leg.answered_t or leg.started_t) - leg.started_t
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(_Q["leg_connected"], leg.id, state, leg.answered_at or at, ring)
            if transferred:
                await self._transferred(conn, leg, at)

    async def _transferred(self, conn: asyncpg.Connection, leg: Leg, at: datetime) -> None:
        campaign = self.runner.config
        await enqueue(
            conn,
            "call.transferred",
            client_id=campaign.client_id,
            campaign_id=campaign.id,
            lead_id=leg.parent.lead.id,
            now=at,
            data={
                "attempt_id": leg.parent.attempt_id,
                "leg_attempt_id": leg.id,
                "leg": leg.kind,
                "to": leg.target,
                "from_agent_id": leg.parent.agent_id,
                "to_agent_id": leg.agent_id,
                "to_campaign_id": leg.campaign_id,
                "fallback": leg.fell_back,
                "transferred_at": at,
            },
        )

    async def claim_campaign_agent(self, leg: Leg) -> bool:
        row = await self.pool.fetchrow(
            _Q["claim_campaign_agent"], leg.campaign_id, leg.id, self.runner.clock.now(), []
        )
        if row is None:
            return False
        leg.agent_id, leg.endpoint = row["id"], row["endpoint"]
        await self.pool.execute(_Q["leg_agent"], leg.id, leg.agent_id)
        return True

    async def claim_first_agent(self, leg: Leg) -> bool:
        """The transferring agent, if available again: the leg goes to them."""
        first = leg.parent.agent_id
        if first is None:
            return False
        row = await self.pool.fetchrow(
            _Q["claim_agent"], first, leg.id, self.runner.clock.now(), self.runner.campaign_id
        )
        if row is None:
            return False
        await self.release(leg)
        leg.agent_id, leg.endpoint, leg.phone = first, row["endpoint"], None
        await self.pool.execute(_Q["leg_agent"], leg.id, first)
        return True

    async def release(self, leg: Leg) -> None:
        if leg.agent_id is not None:
            await self.runner.dialing.seats.release(leg.agent_id, leg.id)

    async def close(
        self, leg: Leg, outcome: str, why: str, now: Any, *, wrap: bool = False
    ) -> None:
        """Close the leg's attempt (with the recorder) and free or wrap its agent."""
        state = "cancelled" if why == "transfer cancelled" else "failed"
        await self.pool.execute(_Q["leg_state"], leg.id, state)
        talk = None if leg.answered_t is None else max(0.0, now.t - leg.answered_t)
        record = closing.CallRecord(
            attempt_id=leg.id,
            outcome=outcome,
            ended_at=now.at,
            answered_at=leg.answered_at,
            ring_s=(leg.answered_t or now.t) - leg.started_t,
            talk_s=talk,
            hangup_cause=why,
            wrap_agent=wrap,
        )
        release = not wrap

        async def after(done: closing.CallRecord, written: bool) -> None:
            if release:
                await self.release(leg)

        self.runner.recorder.add(record, before=None, after=after)
