"""The database side of giving calls to agents, behind a small interface.

``CallFlow`` asks four things of it: give this answered call to this agent (a
compare-and-set that fails if the agent is no longer available), write such a connect
later (when the database did not answer in time and the call was seated from the runner's
own picture: retried until it answers, like the calls' records), free an agent a call
never reached, and re-read one agent. ``DbSeats`` does it against PostgreSQL; unit tests
pass an in-memory stand-in and drive calls in virtual time.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from dialer.agents import store as agents
from dialer.clock import Clock
from dialer.engine import records
from dialer.engine.recorder import Recorder

log = logging.getLogger(__name__)


class Seats(Protocol):
    async def connect(
        self,
        *,
        agent_id: int,
        attempt_id: int,
        answered_at: datetime,
        ring_s: float | None,
        wait_s: float,
        reserved: bool,
    ) -> bool:
        """Record the agent on the call; False if they were taken first (not reserved)."""
        ...

    async def seat_later(
        self,
        *,
        agent_id: int,
        attempt_id: int,
        connected_at: datetime,
        answered_at: datetime,
        ring_s: float | None,
        wait_s: float,
    ) -> None:
        """Write a connect made from the runner's picture, retrying until it lands."""
        ...

    async def release(self, agent_id: int, attempt_id: int | None) -> None:
        """Free an agent held for a call that never reached them."""
        ...

    async def lookup(self, agent_id: int) -> dict[str, Any] | None:
        """The agent's row if they still work this campaign."""
        ...


class DbSeats:
    def __init__(
        self, pool: asyncpg.Pool, clock: Clock, campaign_id: int, *, recorder: Recorder
    ) -> None:
        self.pool = pool
        self.clock = clock
        self.campaign_id = campaign_id
        self.recorder = recorder
        self.late = 0  # connects written after the call was seated

    async def connect(
        self,
        *,
        agent_id: int,
        attempt_id: int,
        answered_at: datetime,
        ring_s: float | None,
        wait_s: float,
        reserved: bool,
    ) -> bool:
        return await records.connect(
            self.pool,
            agent_id=agent_id,
            attempt_id=attempt_id,
            campaign_id=self.campaign_id,
            now=self.clock.now(),
            answered_at=answered_at,
            ring_s=ring_s,
            wait_s=wait_s,
            reserved=reserved,
        )

    async def seat_later(
        self,
        *,
        agent_id: int,
        attempt_id: int,
        connected_at: datetime,
        answered_at: datetime,
        ring_s: float | None,
        wait_s: float,
    ) -> None:
        got: list[bool | None] = []

        async def write(conn: asyncpg.Connection) -> None:
            got.append(
                await records.connect_seated(
                    conn,
                    agent_id=agent_id,
                    attempt_id=attempt_id,
                    campaign_id=self.campaign_id,
                    connected_at=connected_at,
                    answered_at=answered_at,
                    ring_s=ring_s,
                    wait_s=wait_s,
                    runner=self.recorder.runner_id or "",
                )
            )

        if await self.recorder.retried(f"connect of attempt {attempt_id}", write):
            self.late += 1
            if got and got[-1] is not True:
                log.warning(
                    "connect of attempt %s written late: agent %s %s",
                    attempt_id,
                    agent_id,
                    "taken meanwhile" if got[-1] is False else "no longer this runner's",
                    extra={"campaign_id": self.campaign_id},
                )

    async def release(self, agent_id: int, attempt_id: int | None) -> None:
        try:
            async with self.pool.acquire() as conn:
                await agents.act(
                    conn,
                    agent_id,
                    "release",
                    scope=None,
                    now=self.clock.now(),
                    expect_attempt=attempt_id,
                )
        except Exception as exc:  # the agent moved on (logged out, deleted): nothing to free
            log.info("agent %s not released: %s", agent_id, exc)

    async def lookup(self, agent_id: int) -> dict[str, Any] | None:
        return await agents.agent_in_campaign(self.pool, agent_id, self.campaign_id)
