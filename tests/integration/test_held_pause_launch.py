"""A pause and a launch that counted the pausing agent as free never both go through.

A runner decides how many calls to place from its picture of the agents, which follows the
rows through the agent bus, a little late. The attempt records of a launch name the agents
its decision counted as free (``records.start_attempts``, ``counted``): if one of them has
paused since (held or not), nothing is written; and a pause asked for while those records
are being written waits for them, then counts their calls (its pause is held).

The interleavings are made with two connections and a transaction left open; the test
waits for PostgreSQL to report the second one blocked on a lock (no timing).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import pytest

from dialer import leases
from dialer.agents import store as agents
from dialer.clock import FakeClock
from dialer.compliance import LeadInfo, decide
from dialer.engine import records
from dialer.engine.hopper import Hopper
from dialer.engine.model import CampaignConfig
from dialer.engine.runner import RunnerOptions
from dialer.sim.model import CalleeModel
from dialer.timer import VirtualTimer
from tests.integration.engine_support import (
    NOON_SF,
    add_agent,
    resolved,
    running_engine,
    started_campaign,
    us_numbers,
    wait_for,
)

RUNNER = "a#1"


@dataclass
class Launch:
    campaign_id: int
    agent: int
    config: CampaignConfig
    dial: records.Dial
    clock: FakeClock
    hopper: Hopper

    async def write(self, conn: asyncpg.Connection) -> list[records.Started | None]:
        """The launch's records, counting ``agent`` as free."""
        return await records.start_attempts(
            conn,
            self.config,
            [self.dial],
            lease=f"campaign:{self.campaign_id}",
            owner="a",
            runner=RUNNER,
            now=self.clock.now(),
            counted=[self.agent],
        )


@pytest.fixture
async def launch(epool: asyncpg.Pool) -> AsyncIterator[Launch]:
    """A progressive campaign with one free agent and leads claimed by runner a#1 (the
    lease holder), the first about to be dialed counting on that agent."""
    clock = FakeClock(NOON_SF)
    cid, _, [agent] = await started_campaign(epool, clock.now(), us_numbers(2), agents=1)
    config = CampaignConfig.from_row(
        await epool.fetchrow("SELECT * FROM campaigns WHERE id = $1", cid)
    )
    async with epool.acquire() as conn:
        ttl = timedelta(seconds=60)
        assert await leases.acquire(conn, f"campaign:{cid}", "a", now=clock.now(), ttl=ttl)
    hopper = Hopper(epool, cid, RUNNER, clock)
    [lead] = await hopper.take(1)
    decision = decide(LeadInfo.from_phone(lead.phone_e164), "telemarketing", clock.now())
    dial = records.Dial(lead, decision, "call-1", "progressive")
    yield Launch(cid, agent, config, dial, clock, hopper)


async def _pause(conn: asyncpg.Connection, launch: Launch) -> dict[str, object]:
    row, _ = await agents.act(
        conn, launch.agent, "pause", scope=None, now=launch.clock.now(), reason="lunch"
    )
    return row


async def _blocked(pool: asyncpg.Pool, pid: int) -> None:
    """Until backend ``pid`` waits for a row lock."""

    async def waiting() -> bool:
        kind = await pool.fetchval(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", pid
        )
        return bool(kind == "Lock")

    await wait_for(waiting, timeout=30.0, every=0.01)


async def _attempts(pool: asyncpg.Pool, launch: Launch) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM attempts WHERE campaign_id = $1", launch.campaign_id
    )
    return count


async def test_a_launch_counting_an_agent_who_paused_since_writes_nothing(
    epool: asyncpg.Pool, launch: Launch
) -> None:
    async with epool.acquire() as conn:
        await _pause(conn, launch)  # no call rings: the pause applies at once
        with pytest.raises(records.AgentsGone) as gone:
            await launch.write(conn)
    [row] = gone.value.rows
    assert (row["id"], row["state"], row["pending_action"]) == (launch.agent, "paused", None)
    assert await _attempts(epool, launch) == 0
    lead = await epool.fetchrow("SELECT * FROM leads WHERE id = $1", launch.dial.lead.id)
    assert (lead["attempts_count"], lead["claimed_by"]) == (0, RUNNER)  # still the runner's


async def test_a_launch_counting_an_agent_holding_a_pause_writes_nothing(
    epool: asyncpg.Pool, launch: Launch
) -> None:
    async with epool.acquire() as conn:
        [first] = await launch.write(conn)  # a call counting on the agent rings
        assert first is not None
        [lead] = await launch.hopper.take(1)
        assert (await _pause(conn, launch))["pending_action"] == "pause"  # held
        launch.dial = records.Dial(lead, launch.dial.decision, "call-2", "progressive")
        with pytest.raises(records.AgentsGone) as gone:
            await launch.write(conn)
    [row] = gone.value.rows
    assert (row["state"], row["pending_action"]) == ("available", "pause")
    assert await _attempts(epool, launch) == 1


async def test_an_agent_holding_a_pause_is_given_no_preview_or_callback(
    epool: asyncpg.Pool, launch: Launch
) -> None:
    async with epool.acquire() as conn:
        await launch.write(conn)
        assert (await _pause(conn, launch))["pending_action"] == "pause"  # held
        given = await agents.reserve(
            conn,
            launch.agent,
            now=launch.clock.now(),
            attempt_id=None,
            campaign_id=launch.campaign_id,
            reason="preview",
            lead_id=launch.dial.lead.id,
            unless_held=True,
        )
    assert not given


async def test_a_pause_asked_while_a_launch_is_written_waits_and_counts_its_call(
    epool: asyncpg.Pool, launch: Launch
) -> None:
    async with epool.acquire() as writer, epool.acquire() as person:
        tx = writer.transaction()
        await tx.start()
        [started] = await launch.write(writer)  # written, not committed yet
        assert started is not None
        pausing = asyncio.ensure_future(_pause(person, launch))
        await _blocked(epool, person.get_server_pid())
        await tx.commit()
        row = await pausing
    # The pause saw the launch's call ringing for no agent but them: it is held.
    assert (row["state"], row["pending_action"]) == ("available", "pause")
    assert row["pending_until"] == launch.clock.now() + timedelta(seconds=27)


async def test_a_launch_written_while_a_pause_is_decided_waits_and_writes_nothing(
    epool: asyncpg.Pool, launch: Launch
) -> None:
    async with epool.acquire() as writer, epool.acquire() as person:
        tx = person.transaction()
        await tx.start()
        await _pause(person, launch)  # no call rings: paused at once, not committed yet
        writing = asyncio.ensure_future(launch.write(writer))
        await _blocked(epool, writer.get_server_pid())
        await tx.commit()
        with pytest.raises(records.AgentsGone):
            await writing
    assert await _attempts(epool, launch) == 0


async def test_a_runner_that_has_not_heard_of_a_held_pause_dials_nothing_for_the_agent(
    epool: asyncpg.Pool,
) -> None:
    """The flake this closes: the runner's picture of a held agent is out of date (here a
    reload read before the pause lands after the bus's message, as the periodic reload
    can); when the call ends unanswered it decides to dial for them, and the launch is
    refused by the rows instead of placing a call nobody would take."""
    clock, timer = FakeClock(NOON_SF), VirtualTimer()
    never = CalleeModel(p_human=0.0, p_machine=0.0, p_busy=0.0, p_failed=0.0)
    cid, _, [agent] = await started_campaign(epool, clock.now(), us_numbers(3), agents=1)
    options = RunnerOptions(lease_ttl_s=5, tick_s=0.05, shutdown_timeout_s=5, agents_every_s=1e6)
    async with running_engine(
        epool, clock=clock, callee=never, timer=timer, options=options
    ) as env:
        await wait_for(lambda: _count(epool, OPEN, cid), timer=timer)  # one call rings
        before = [dict(r) for r in await agents.campaign_agents(epool, cid)]
        async with epool.acquire() as conn:
            row, _ = await agents.act(conn, agent, "pause", scope=None, now=clock.now())
        assert row["pending_action"] == "pause"  # held: the call counts on them
        runner = env.engine.runners[cid]
        await wait_for(lambda: resolved(runner.view.agents[agent].pending), timer=timer)
        runner.view.load(before, timer.now())  # the stale read lands after the message
        assert runner.view.available()  # the runner counts the agent as free again

        await timer.advance(26.0)  # unanswered at the 25-s ring timeout: the runner decides
        await wait_for(lambda: _count(epool, PAUSED_OR_REDIALED, cid, agent), timer=timer)
        calls = await _count(epool, "SELECT count(*) FROM attempts WHERE campaign_id = $1", cid)
    assert calls == 1  # nothing was dialed for the agent once they asked to pause
    assert await epool.fetchval("SELECT state FROM agents WHERE id = $1", agent) == "paused"


OPEN = "SELECT count(*) FROM attempts WHERE campaign_id = $1 AND ended_at IS NULL"
PAUSED_OR_REDIALED = (
    "SELECT (SELECT count(*) FROM attempts WHERE campaign_id = $1) > 1"
    " OR (SELECT state = 'paused' FROM agents WHERE id = $2)"
)


async def _count(pool: asyncpg.Pool, sql: str, *args: object) -> object:
    return await pool.fetchval(sql, *args)


async def test_two_free_agents_pausing_at_once_leave_a_ringing_call_one_of_them(
    epool: asyncpg.Pool, launch: Launch
) -> None:
    async with epool.acquire() as conn:
        other = await add_agent(conn, launch.campaign_id, launch.clock.now())
        await launch.write(conn)  # one call rings; two free agents for it
    async with epool.acquire() as first, epool.acquire() as second:
        tx = first.transaction()
        await tx.start()
        row = await _pause(first, launch)  # the other agent is free: paused at once
        assert row["state"] == "paused"
        now = launch.clock.now()
        pausing = asyncio.ensure_future(agents.act(second, other, "pause", scope=None, now=now))
        await _blocked(epool, second.get_server_pid())
        await tx.commit()
        row, _ = await pausing
    # The second pause counted the first: nobody else is free for the call, it is held.
    assert (row["state"], row["pending_action"]) == ("available", "pause")
