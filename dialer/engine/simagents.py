"""Simulated agents: log in, take calls, wrap up and disposition, like people at desktops.

They drive the same domain functions as the HTTP API an agent desktop uses (``act`` for
login/logout, ``record_disposition`` after a call, the preview ``dial`` announcement) and
learn of their calls from the agent bus, so the engine cannot tell them from people. Used
by ``dialer demo``, the benchmarks, and ``dialer serve`` with ``DIALER_SIM_AGENTS=N``
(N agents per running campaign, ``sim-<campaign>-<n>``). Time runs on the engine's
``Timer``, so they follow ``DIALER_SIM_SPEED``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import asyncpg

from dialer.agents import store
from dialer.agents.bus import AgentBus
from dialer.auth.roles import Principal
from dialer.campaigns import codes
from dialer.clock import Clock
from dialer.engine import manual
from dialer.engine.simtransfers import SimTransfers
from dialer.errors import DialerError, ValidationError
from dialer.timer import Timer, TimerHandle

if TYPE_CHECKING:
    from dialer.engine.runner import CampaignRunner
    from dialer.engine.supervisor import RunnerHook

log = logging.getLogger(__name__)

_FIND = """
SELECT id FROM agents WHERE client_id = $1 AND lower(name) = lower($2) AND deleted_at IS NULL
"""
_PICK = """
SELECT phone_e164 FROM leads
WHERE campaign_id = $1 AND status IN ('new', 'retry') AND claimed_by IS NULL
ORDER BY id LIMIT 1 OFFSET $2
"""
_BLEND = "UPDATE agents SET blended = $2 WHERE id = $1"
_ASSIGN = """
INSERT INTO agent_campaigns (agent_id, campaign_id) VALUES ($1, $2) ON CONFLICT DO NOTHING
"""


@dataclass(frozen=True, slots=True)
class SimAgentParams:
    """How simulated agents behave (seconds are call-world seconds)."""

    wrap_s: float = 10.0
    preview_s: float = 5.0
    dispositions: tuple[tuple[str, float], ...] = (
        ("sale", 0.15),
        ("not_interested", 0.45),
        ("callback", 0.12),
        ("wrong_number", 0.10),
        ("machine", 0.05),
        ("no_answer", 0.05),
        ("do_not_call", 0.03),
        ("other", 0.05),
    )

    pause_p: float = 0.03  # after a call: how often the agent takes a pause
    pause_s: float = 120.0
    manual_p: float = 0.1  # after a call: how often the agent pauses and dials a lead by hand
    blended_every: int = 3  # every n-th agent is blended: takes callbacks too (0: none)
    transfer_p: float = 0.0  # how often a call is handed on to ``transfer_to`` (a campaign)
    transfer_to: int | None = None

    def draw(self, rng: random.Random, codes: list[str] | None = None) -> str:
        """A disposition code: of ``codes`` (the campaign's) when given, weighted like the
        defaults where the names match (others 0.1 each)."""
        weights_by = dict(self.dispositions)
        names = codes if codes else [n for n, _ in self.dispositions]
        weights = [weights_by.get(n, 0.1) for n in names]
        return rng.choices(names, weights)[0]


class SimulatedAgents:
    """``count`` simulated agents working one campaign."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        bus: AgentBus,
        timer: Timer,
        clock: Clock,
        *,
        campaign_id: int,
        client_id: int,
        count: int,
        seed: int | None = None,
        params: SimAgentParams | None = None,
        record: Callable[..., Any] | None = None,
    ) -> None:
        from dialer.engine.dispositions import record_disposition

        self.pool, self.bus, self.timer, self.clock = pool, bus, timer, clock
        self.campaign_id = campaign_id
        self.client_id = client_id
        self.count = count
        self.params = params or SimAgentParams()
        self.rng = random.Random(seed)
        self.pause_rng = random.Random(None if seed is None else seed + 1)
        self.manual_rng = random.Random(None if seed is None else seed + 2)
        self.manual_dials = 0  # manual dials the rules allowed (placed by the runner)
        self.record = record or record_disposition
        self.ids: list[int] = []
        self._timers: dict[int, TimerHandle] = {}
        self._pause_timers: dict[int, TimerHandle] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self._stopping = False  # nothing new is scheduled once ``stop`` began
        self.dispositions = 0
        self.transfers = SimTransfers(self)

    async def start(self) -> None:
        """Create (or reuse) the agents, log them in, and start handling their calls."""
        self._unsubscribe = self.bus.subscribe(self._on_bus)
        async with self.pool.acquire() as conn:
            every = self.params.blended_every
            for n in range(1, self.count + 1):
                agent_id = await self._ensure(conn, f"sim-{self.campaign_id}-{n:03d}")
                self.ids.append(agent_id)
                await conn.execute(_BLEND, agent_id, bool(every) and n % every == 1 % every)
            now = self.clock.now()
            for agent_id in self.ids:
                row, _ = await store.act(conn, agent_id, "login", scope=None, now=now)
                if row["state"] == "wrap_up" and row["attempt_id"] is not None:
                    self._later(agent_id, 0.0, self._disposition, row["attempt_id"])

    async def _ensure(self, conn: asyncpg.Connection, name: str) -> int:
        agent_id = await conn.fetchval(_FIND, self.client_id, name)
        if agent_id is None:
            row = await store.create(
                conn,
                {"name": name, "campaigns": [self.campaign_id], "client_id": self.client_id},
                Principal(None, "simulator", "admin"),
                now=self.clock.now(),
                simulated=True,
            )
            return int(row["id"])
        await conn.execute(_ASSIGN, agent_id, self.campaign_id)
        return int(agent_id)

    async def stop(self, *, logout: bool = True) -> None:
        """Disposition calls still in wrap-up, then log every agent out (unless another
        process's simulated agents took the same seats: ``logout=False``). Nothing is
        scheduled from then on, so no agent acts after the pool is gone."""
        self._stopping = True
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._cancel_timers()
        async with self.pool.acquire() as conn:
            for agent_id in self.ids:
                row = await conn.fetchrow(
                    "SELECT state, attempt_id FROM agents WHERE id = $1", agent_id
                )
                if row is not None and row["state"] == "wrap_up" and row["attempt_id"]:
                    await self._disposition(agent_id, row["attempt_id"])
                if logout:
                    with contextlib.suppress(DialerError):
                        await store.act(conn, agent_id, "logout", scope=None, now=self.clock.now())
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        self._cancel_timers()

    def _cancel_timers(self) -> None:
        for handle in [*self._timers.values(), *self._pause_timers.values()]:
            handle.cancel()
        self._timers.clear()
        self._pause_timers.clear()

    # -- reacting to the bus --------------------------------------------------------------
    def _on_bus(self, message: dict[str, Any]) -> None:
        agent_id = message.get("agent")
        if agent_id not in self.ids or message.get("event") != "state":
            return
        state, attempt = message.get("state"), message.get("attempt")
        if state == "wrap_up" and attempt is not None:
            wrap = self.params.wrap_s * self.rng.uniform(0.5, 1.5)
            self._later(agent_id, wrap, self._disposition, attempt)
        elif state == "on_call" and message.get("reason") == "preview" and attempt is None:
            self._later(agent_id, self.params.preview_s, self._dial, message.get("lead"))
        elif state == "on_call" and attempt is not None:
            self.transfers.on_call(agent_id, attempt)

    def _later(self, agent_id: int, delay: float, action: Callable[..., Any], *args: Any) -> None:
        if self._stopping:
            return

        def fire() -> None:
            self._timers.pop(agent_id, None)
            task = asyncio.create_task(action(agent_id, *args))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        old = self._timers.pop(agent_id, None)
        if old is not None:
            old.cancel()
        self._timers[agent_id] = self.timer.call_later(delay, fire)

    async def _disposition(self, agent_id: int, attempt_id: int) -> None:
        async with self.pool.acquire() as conn:
            items = {d.code: d for d in await codes.dispositions(conn, self.campaign_id)}
        name = self.params.draw(self.rng, list(items))
        body: dict[str, Any] = {"disposition": name}
        if items[name].action == "callback":
            tomorrow = (self.clock.now() + timedelta(days=1)).date()
            body["callback_at"] = f"{tomorrow.isoformat()}T10:00"
            body["callback_owner"] = self.rng.choice(("agent", "anyone"))
        who = Principal(None, f"sim-agent:{agent_id}", "agent", self.client_id, agent_id)
        for attempt_body in (body, {"disposition": name}):
            try:
                async with self.pool.acquire() as conn:
                    await self.record(conn, attempt_id, attempt_body, who=who, now=self.clock.now())
                self.dispositions += 1
                if self.manual_rng.random() < self.params.manual_p:
                    self._later(agent_id, 0.0, self._manual)
                elif self.pause_rng.random() < self.params.pause_p:
                    self._later(agent_id, 0.0, self._pause)
                return
            except ValidationError as exc:  # e.g. a callback for a lead with no known zone
                log.debug("simulated disposition refused: %s", exc)
            except DialerError as exc:  # already dispositioned, or the call vanished
                log.debug("simulated disposition skipped: %s", exc)
                return

    async def _pause(self, agent_id: int, code: str | None = None, pause_s: float = 0.0) -> None:
        """A pause with one of the campaign's pause codes, then ready again."""
        async with self.pool.acquire() as conn:
            pauses = await codes.pause_codes(conn, self.campaign_id)
            code = code or self.pause_rng.choice(pauses).code
            with contextlib.suppress(DialerError):
                await store.act(
                    conn, agent_id, "pause", scope=None, now=self.clock.now(), reason=code
                )
        self._ready_after(agent_id, pause_s or self.params.pause_s)

    async def _manual(self, agent_id: int) -> None:
        """Pause, dial one of the campaign's leads by hand (a customer who asked for this
        agent), and be ready again shortly: the call comes to this agent (and the rules may
        refuse the number, as they would a person's)."""
        async with self.pool.acquire() as conn:
            first = (await codes.pause_codes(conn, self.campaign_id))[0].code
        await self._pause(agent_id, first, self.params.preview_s)
        async with self.pool.acquire() as conn:
            phone = await conn.fetchval(_PICK, self.campaign_id, self.manual_rng.randrange(50))
            if phone is None:
                return
            who = Principal(None, f"sim-agent:{agent_id}", "agent", self.client_id, agent_id)
            req = manual.Request(agent_id, self.campaign_id, phone)
            try:
                await manual.request_dial(conn, req, who=who, now=self.clock.now())
                self.manual_dials += 1
            except DialerError as exc:  # the rules said no, or a call came first
                log.debug("simulated manual dial not placed: %s", exc)

    def _ready_after(self, agent_id: int, delay: float) -> None:
        if self._stopping:
            return
        old = self._pause_timers.pop(agent_id, None)
        if old is not None:
            old.cancel()

        def fire() -> None:  # a timer of its own: a call's wrap-up must not cancel it
            self._pause_timers.pop(agent_id, None)
            task = asyncio.create_task(self._ready(agent_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self._pause_timers[agent_id] = self.timer.call_later(delay, fire)

    async def _ready(self, agent_id: int) -> None:
        async with self.pool.acquire() as conn:
            with contextlib.suppress(DialerError):
                await store.act(conn, agent_id, "ready", scope=None, now=self.clock.now())

    async def _dial(self, agent_id: int, lead_id: int | None) -> None:
        await store.announce(self.pool, agent_id, "dial", lead_id)


def sim_agents_hook(
    bus: AgentBus,
    timer: Timer,
    count: int,
    *,
    seed: int | None = None,
    params: SimAgentParams | None = None,
    started: list[SimulatedAgents] | None = None,
) -> RunnerHook:
    """A runner hook that puts ``count`` simulated agents on every runner's campaign
    (except agentless ones)."""

    async def hook(runner: CampaignRunner) -> Callable[[], Awaitable[None]]:
        c = runner.config
        if c.dial_mode == "agentless":  # nobody to simulate
            return _nothing
        agents = SimulatedAgents(
            runner.pool,
            bus,
            timer,
            runner.clock,
            campaign_id=c.id,
            client_id=c.client_id,
            count=count,
            seed=None if seed is None else seed + c.id,
            params=params,
        )
        await agents.start()
        if started is not None:
            started.append(agents)
        log.info("%s simulated agents logged in", count, extra={"campaign_id": c.id})

        async def stop() -> None:
            # A runner whose lease another process took: that process's simulated agents
            # are the same rows, logged in again there; logging them out would idle it.
            await agents.stop(logout=not runner.lost)

        return stop

    return hook


async def _nothing() -> None:
    return None
