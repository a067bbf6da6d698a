"""The simulated agents stop cleanly: nothing they do is left scheduled after ``stop``, so no
agent acts (and no task fails on a closed pool) once the engine has shut down."""

from __future__ import annotations

import asyncio

import asyncpg

from dialer.agents.bus import AgentBus
from dialer.clock import FakeClock
from dialer.engine.simagents import SimulatedAgents
from dialer.timer import VirtualTimer
from tests.integration.engine_support import NOON_SF, make_campaign


async def test_an_agent_pausing_as_the_simulation_stops_is_not_made_ready_after_it(
    epool: asyncpg.Pool,
) -> None:
    clock = FakeClock(NOON_SF)
    async with epool.acquire() as conn:
        campaign = await make_campaign(conn, clock.now(), dial_mode="predictive")
    bus = AgentBus(epool)
    await bus.start()
    timer = VirtualTimer()
    agents = SimulatedAgents(
        epool, bus, timer, clock, campaign_id=campaign["id"], client_id=1, count=3
    )
    try:
        await agents.start()
        pausing = asyncio.create_task(agents._pause(agents.ids[0], pause_s=30.0))
        await agents.stop()
        await pausing  # its pause lands while the agents stop
        assert timer.pending() == 0, "a simulated agent would act after the stop"
        await timer.advance(60.0)
        states = await epool.fetch("SELECT state FROM agents WHERE id = ANY($1)", agents.ids)
        assert "available" not in {r["state"] for r in states}
    finally:
        await bus.stop()
