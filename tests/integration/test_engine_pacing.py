"""A brand-new predictive campaign on a small floor keeps its 24-hour window within 3 %.

Issue 16: live, a new campaign with 3 agents (one of whom paused mid-shift) reached 4.4 %
on its 24-hour window in its first minutes. The slack guard keeps a campaign progressive
until its answers have earned the first abandon; here the window's rate is sampled from
the attempts table all through a run, while one agent pauses as calls ring and comes back
(the pacer must not spend an abandon that pause may have cost). Paused before the first
abandon is earned, that agent's pause is held while the calls dialed for them ring
(``dialer.agents.holds``): no abandon at all.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from dialer.agents import holds
from dialer.agents import store as agents
from dialer.clock import FakeClock
from dialer.engine.runner import RunnerOptions
from tests.integration.engine_support import (
    RunningEngine,
    add_leads,
    make_campaign,
    running_engine,
    start,
    us_numbers,
    wait_for,
)

NOON_SF = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # Monday noon in San Francisco
# The pause comes once the window could absorb one abandon (34 answers at 3 %): an agent
# who pauses while the call dialed for them rings can abandon it, which no pacer decided
# (see docs/pacing.md, "Engine"); what the test checks is that the pacer never spends it.
PAUSE_AT = 36
HUMANS_TO_SEE = 66

_WINDOW = """
SELECT count(*) AS humans, count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned
FROM attempts WHERE campaign_id = $1 AND answer = 'human' AND answered_at > $2
"""


class Floor:
    """Samples the window's rate; pauses one agent while calls ring, later un-pauses."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        env: RunningEngine,
        cid: int,
        clock: FakeClock,
        *,
        pause_at: int = PAUSE_AT,
        back_at: int = 50,
        humans_to_see: int = HUMANS_TO_SEE,
    ):
        self.pool, self.env, self.cid, self.clock = pool, env, cid, clock
        self.pause_at, self.back_at, self.humans_to_see = pause_at, back_at, humans_to_see
        self.samples: list[tuple[int, int]] = []
        self.paused_while_ringing = False
        self.held = False  # the pause waited for the calls dialed for the agent
        self.back = False

    async def step(self) -> bool:
        row = await self.pool.fetchrow(_WINDOW, self.cid, self.clock.now() - timedelta(hours=24))
        humans, abandoned = int(row["humans"]), int(row["abandoned"])
        self.samples.append((humans, abandoned))
        assert abandoned <= 0.03 * humans, f"24-hour window at {abandoned}/{humans} answers"
        await self._pause_or_return(humans)
        return humans >= self.humans_to_see and self.back

    async def _pause_or_return(self, humans: int) -> None:
        runner = self.env.engine.runners.get(self.cid)
        if runner is None or not self.env.sim_agents:
            return
        agent_id = self.env.sim_agents[0].ids[0]
        async with self.pool.acquire() as conn:
            state = await conn.fetchval("SELECT state FROM agents WHERE id = $1", agent_id)
            if not self.paused_while_ringing and state == "available" and humans >= self.pause_at:
                # calls ring for the floor and the rows already show more of them than the
                # other free agents: a pause that lands while a launch decided with this
                # agent free is still being written is not held (the rows do not show that
                # call yet; docs/engine.md), and that race is not what this test is about
                need = await holds.deadline(conn, agent_id, self.clock.now())
                if runner.flow.in_flight() > 0 and not runner.launcher.pending and need:
                    row, _ = await agents.act(
                        conn, agent_id, "pause", scope=None, now=self.clock.now()
                    )
                    self.paused_while_ringing = True
                    self.held = row["state"] == "available"
            elif (
                self.paused_while_ringing
                and not self.back
                and humans >= self.back_at
                and state == "paused"
            ):
                await agents.act(conn, agent_id, "ready", scope=None, now=self.clock.now())
                self.back = True


async def test_a_new_predictive_campaign_never_takes_its_24h_window_over_the_limit(
    epool: asyncpg.Pool,
) -> None:
    clock = FakeClock(NOON_SF)
    async with epool.acquire() as conn:
        campaign = await make_campaign(conn, clock.now(), dial_mode="predictive")
        await add_leads(conn, campaign["id"], us_numbers(600), clock.now())
        await start(conn, campaign["id"], clock.now())
    cid = int(campaign["id"])
    # A modest speed-up, so a loaded machine's latency does not turn waits into abandons.
    options = RunnerOptions(lease_ttl_s=30, tick_s=0.05, budget_every_s=1.0)
    async with running_engine(epool, clock=clock, sim_agents=3, speed=10.0, options=options) as env:
        floor = Floor(epool, env, cid, clock)
        await wait_for(floor.step, timeout=600.0, every=0.05)
    humans, abandoned = floor.samples[-1]
    assert floor.paused_while_ringing and humans >= HUMANS_TO_SEE
    assert len(floor.samples) > 20  # the rate was watched all through the run
    assert abandoned <= 0.03 * humans


async def test_an_agent_pausing_before_the_first_abandon_is_earned_costs_no_abandon(
    epool: asyncpg.Pool,
) -> None:
    """The case docs/pacing.md described as open: paused while calls ring and before the
    window could absorb an abandon, the agent's call used to be abandoned (no pacer chose
    it). Now the pause waits for those calls (or they reach the agent first)."""
    clock = FakeClock(NOON_SF)
    async with epool.acquire() as conn:
        campaign = await make_campaign(conn, clock.now(), dial_mode="predictive")
        await add_leads(conn, campaign["id"], us_numbers(300), clock.now())
        await start(conn, campaign["id"], clock.now())
    cid = int(campaign["id"])
    options = RunnerOptions(lease_ttl_s=30, tick_s=0.05, budget_every_s=1.0)
    # Speed 5: the 2-s abandon wait is 400 ms of wall time, so a loaded machine's database
    # latency on the connect does not turn a wait into an abandon (at speed 10 it did once
    # in a full suite on 2 busy cores: 1 abandon in 2 answers, not the pause's).
    async with running_engine(epool, clock=clock, sim_agents=3, speed=5.0, options=options) as env:
        floor = Floor(epool, env, cid, clock, pause_at=0, back_at=6, humans_to_see=12)
        await wait_for(floor.step, timeout=600.0, every=0.05)
    humans, abandoned = floor.samples[-1]
    assert floor.paused_while_ringing and floor.held and humans >= 12
    assert (humans, abandoned) == (humans, 0)
