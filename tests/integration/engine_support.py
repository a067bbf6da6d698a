"""Helpers shared by the engine and agent tests: campaigns, leads, agents, a running engine."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from dialer.agents import store as agents
from dialer.agents.bus import AgentBus
from dialer.auth.roles import SYSTEM
from dialer.campaigns import store as campaigns
from dialer.clock import Clock, SystemClock
from dialer.engine.demo import insert_leads
from dialer.engine.runner import RunnerOptions
from dialer.engine.simagents import SimAgentParams, SimulatedAgents, sim_agents_hook
from dialer.engine.supervisor import Engine, RunnerHook
from dialer.gateway import AgentLeg
from dialer.sim.model import CalleeModel
from dialer.telephony import LoopTimer, SimGatewayParams, SimulatedGateway, Timer, VirtualTimer

# Numbers whose callees are in places open at the instants the tests use (US Pacific).
US = "+1415555"
NOON_SF = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # a Monday, noon in San Francisco


def humans(*, ring_min_s: float, ring_max_s: float, talk_s: float, **more: Any) -> CalleeModel:
    """Callees who all answer in person (no machine, busy or failed call)."""
    return CalleeModel(
        p_human=1.0,
        p_machine=0.0,
        p_busy=0.0,
        p_failed=0.0,
        ring_min_s=ring_min_s,
        ring_max_s=ring_max_s,
        talk_s=talk_s,
        **more,
    )


def us_numbers(n: int, start: int = 0) -> list[str]:
    return [f"{US}{i:04d}" for i in range(start, start + n)]


async def make_campaign(conn: asyncpg.Connection, now: datetime, **fields: Any) -> dict[str, Any]:
    body = {
        "name": f"c-{time.monotonic_ns()}",
        "caller_id": "+14155550100",
        "dial_mode": "progressive",
        **fields,
    }
    return await campaigns.create(conn, body, SYSTEM, now=now)


async def start(conn: asyncpg.Connection, campaign_id: int, now: datetime) -> None:
    await campaigns.transition(conn, campaign_id, "start", scope=None, now=now)


async def add_leads(
    conn: asyncpg.Connection, campaign_id: int, phones: list[str], now: datetime
) -> list[int]:
    await insert_leads(conn, campaign_id, [(p, {"name": p[-4:]}) for p in phones], now=now)
    rows = await conn.fetch(
        "SELECT id FROM leads WHERE campaign_id = $1 AND phone_e164 = ANY($2) ORDER BY id",
        campaign_id,
        phones,
    )
    return [r["id"] for r in rows]


async def add_agent(
    conn: asyncpg.Connection, campaign_id: int, now: datetime, *, login: bool = True
) -> int:
    row = await agents.create(
        conn, {"name": f"a-{time.monotonic_ns()}", "campaigns": [campaign_id]}, SYSTEM, now=now
    )
    if login:
        await agents.act(conn, row["id"], "login", scope=None, now=now)
    return int(row["id"])


async def started_campaign(
    pool: asyncpg.Pool, now: datetime, phones: list[str], *, agents: int = 0, **fields: Any
) -> tuple[int, list[int], list[int]]:
    """A running campaign (``fields`` as for ``make_campaign``) with a lead for each of
    ``phones`` and ``agents`` logged-in agents: (campaign id, lead ids, agent ids)."""
    async with pool.acquire() as conn:
        campaign = await make_campaign(conn, now, **fields)
        cid = int(campaign["id"])
        leads = await add_leads(conn, cid, phones, now)
        agent_ids = [await add_agent(conn, cid, now) for _ in range(agents)]
        await start(conn, cid, now)
    return cid, leads, agent_ids


async def lease_owner(
    pool: asyncpg.Pool, campaign_id: int, now: datetime | None = None
) -> str | None:
    """The process that holds the campaign's lease (one live at ``now``, when given)."""
    owner: str | None = await pool.fetchval(
        "SELECT owner FROM leases WHERE name = $1 AND ($2::timestamptz IS NULL OR expires_at > $2)",
        f"campaign:{campaign_id}",
        now,
    )
    return owner


async def wait_for(
    check: Callable[[], Awaitable[Any]],
    *,
    timeout: float = 30.0,
    every: float = 0.05,
    timer: VirtualTimer | None = None,
) -> Any:
    """Poll ``check`` until it returns something truthy (no fixed sleeps in tests). With a
    virtual ``timer``, each poll also runs the call world's callbacks due now (a hangup
    delivered "at once") without moving its time."""
    deadline = time.monotonic() + timeout
    while True:
        if timer is not None:
            await timer.advance(0)
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last: {value!r})")
        await asyncio.sleep(every)


async def resolved(value: Any) -> Any:
    """``value`` as an awaitable, for ``wait_for`` on a plain condition."""
    return value


FAST_HUMANS = CalleeModel(
    p_human=0.5,
    p_machine=0.1,
    p_busy=0.05,
    p_failed=0.0,
    ring_min_s=2,
    ring_max_s=8,
    talk_s=20.0,
)


class PlayLog(SimulatedGateway):
    """The simulated gateway, keeping what it played to whom (``plays``: call id, message)
    and which calls it bridged to an agent (``bridged``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plays: list[tuple[str, str]] = []
        self.bridged: list[str] = []

    async def play(self, call_id: str, message: str) -> bool:
        self.plays.append((call_id, message))
        return await super().play(call_id, message)

    async def bridge(self, call_id: str, agent: AgentLeg) -> None:
        await super().bridge(call_id, agent)
        self.bridged.append(call_id)

    def heard(self, call_id: str) -> list[str]:
        """The messages played to one call, in order."""
        return [m for c, m in self.plays if c == call_id]


@dataclass
class RunningEngine:
    engine: Engine
    gateway: SimulatedGateway
    bus: AgentBus
    timer: Timer
    sim_agents: list[SimulatedAgents] = field(default_factory=list)


class LoopPacedClock:
    """A test's wall clock with the event loop's monotonic time.

    The tests fix the wall clock (calling-rule decisions), while the simulated gateway and
    agents run on the event loop's timer; the engine's durations, deadlines and periodic
    upkeep must follow that same timer, or a frozen wall clock would freeze them too.
    """

    def __init__(self, wall: Clock) -> None:
        self.wall = wall

    def now(self) -> datetime:
        return self.wall.now()

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()


@asynccontextmanager
async def running_engine(
    pool: asyncpg.Pool,
    *,
    instance_id: str = "test",
    speed: float = 50.0,
    callee: CalleeModel = FAST_HUMANS,
    sim_agents: int = 0,
    clock: Clock | None = None,
    options: RunnerOptions | None = None,
    seed: int = 1,
    gateway_cls: type[SimulatedGateway] = SimulatedGateway,
    network: dict[str, Any] | None = None,
    loop_paced: bool = True,
    extra_hooks: tuple[RunnerHook, ...] = (),
    timer: Timer | None = None,
) -> AsyncIterator[RunningEngine]:
    """An engine with the simulated gateway (and optionally simulated agents); ``network``:
    more ``SimGatewayParams`` (dead numbers, flagged caller IDs). A test ``clock`` is
    loop-paced (``LoopPacedClock``) unless ``loop_paced`` is False: then the engine's wall
    and monotonic time both move only when the test advances the clock. A ``timer`` (a
    ``VirtualTimer``) replaces the call world's sped-up loop timer: rings, messages and talk
    then end only when the test advances it, whatever the machine's load."""
    timer = LoopTimer(speed) if timer is None else timer
    params = SimGatewayParams(callee=callee, **(network or {}))
    gateway = gateway_cls(timer, params, seed=seed)
    bus = AgentBus(pool)
    await bus.start()
    started: list[SimulatedAgents] = []
    hooks: tuple[RunnerHook, ...] = extra_hooks
    if sim_agents:
        agent_params = SimAgentParams(wrap_s=2.0, manual_p=0.0)  # tests of paced calls only
        hooks = (
            sim_agents_hook(
                bus, timer, sim_agents, seed=seed, params=agent_params, started=started
            ),
            *extra_hooks,
        )
    engine = Engine(
        pool,
        gateway,
        timer,
        SystemClock() if clock is None else LoopPacedClock(clock) if loop_paced else clock,
        instance_id=instance_id,
        bus=bus,
        options=options or RunnerOptions(lease_ttl_s=5, tick_s=0.05, shutdown_timeout_s=5),
        poll_s=0.2,
        hooks=hooks,
    )
    await engine.start()
    try:
        yield RunningEngine(engine, gateway, bus, timer, started)
    finally:
        await engine.stop()
        await gateway.close()
        await bus.stop()
