"""The engine of one process: takes campaign leases and runs their runners.

Any number of ``dialer serve`` processes run an ``Engine`` against one database. Every
``poll_s`` each engine looks at the running campaigns (and at campaigns with attempts left
open by a process that died), tries to take the ``campaign:<id>`` lease of those nobody
holds, and starts a runner for each lease it wins. A process that dies stops renewing its
leases; after ``lease_ttl_s`` another engine takes them over on its next poll, so a dead
process's campaigns are running again within ``lease_ttl_s + poll_s`` (15 + 5 s by default).

Engines share the work: each also renews an ``engine:<instance>`` lease, and takes new
campaigns only up to its share (running campaigns / live engines, rounded up); a free
campaign that no engine under its share takes within two polls is taken anyway.
Campaigns that are no longer running are stopped gracefully (calls in progress finish).
Hooks run beside each runner: the simulated agents of ``DIALER_SIM_AGENTS`` use them.
An engine given ``campaigns`` (``dialer demo``: its own campaign) runs only those.

One campaign cannot stop the others: a runner that fails to build or start, or whose
loops die, is logged with its campaign id, its lease given up and the campaign left alone
for ``QUARANTINE_S`` before it is tried again; the engine loop survives any exception and
its ``heartbeat`` tells ``/readyz`` when it stalls or dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg

from dialer import leases, metrics
from dialer.agents import store as agents
from dialer.agents.bus import AgentBus
from dialer.clock import Clock
from dialer.db import DB_ERRORS
from dialer.engine import closing, upkeep
from dialer.engine.health import GatewayHealth
from dialer.engine.inbound import InboundDesk
from dialer.engine.model import CampaignConfig
from dialer.engine.monitor import Monitors
from dialer.engine.runner import CampaignRunner, RunnerOptions
from dialer.gateway import Gateway
from dialer.loops import Heartbeat
from dialer.sql import queries
from dialer.timer import Timer

log = logging.getLogger(__name__)
_Q = queries("dialer.engine")
POLL_S = 5.0  # how often an engine looks for campaigns it should run
QUARANTINE_S = 60.0  # a campaign whose runner failed is tried again after this long

# Started beside a runner; returns the coroutine function that stops what it started.
RunnerHook = Callable[[CampaignRunner], Awaitable[Callable[[], Awaitable[None]]]]


class Engine:
    """Campaign runners of this process (see the module docstring)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        gateway: Gateway,
        timer: Timer,
        clock: Clock,
        *,
        instance_id: str,
        bus: AgentBus | None = None,
        options: RunnerOptions | None = None,
        poll_s: float = POLL_S,
        hooks: tuple[RunnerHook, ...] = (),
        health: GatewayHealth | None = None,
        campaigns: frozenset[int] | None = None,
    ) -> None:
        self.pool = pool
        # Only these campaigns (the demo's own), else every running one. An engine for some
        # campaigns only takes no share of the others and is left out of other engines' shares.
        self.campaigns = campaigns
        # One gateway per process, so one view of its health shared by every runner.
        self.health = health or GatewayHealth(
            name=getattr(gateway, "name", "gateway"), monotonic=clock.monotonic
        )
        self.gateway = gateway
        self.timer = timer
        self.clock = clock
        self.instance_id = instance_id
        self.bus = bus
        self.options = options or RunnerOptions()
        self.poll_s = poll_s
        self.hooks = list(hooks)
        self.runners: dict[int, CampaignRunner] = {}
        self.monitors = Monitors(
            pool, gateway, clock, instance_id=instance_id, runners=self.runners
        )  # supervisors' listen / whisper / barge sessions (engine.monitor)
        self._hook_stops: dict[int, list[Callable[[], Awaitable[None]]]] = {}
        self._stopping: set[int] = set()
        self._free_since: dict[int, float] = {}
        self._retiring: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.closed = False
        self.failing: dict[int, float] = {}  # campaign id -> when it may be tried again
        self.outage_at: float | None = None  # when a pass last found the database away
        self.heartbeat = Heartbeat("engine", clock.monotonic, stall_after_s=3 * poll_s + 30)
        self.inbound = InboundDesk(self)

    @property
    def ttl(self) -> timedelta:
        return timedelta(seconds=self.options.lease_ttl_s)

    async def start(self) -> None:
        self.inbound.start()  # callbacks from callees, when the gateway reports them
        self._task = asyncio.create_task(self._loop(), name="engine")
        self.heartbeat.watch(self._task)

    def poke(self) -> None:
        """Look at the campaigns now rather than at the next poll."""
        self._wake.set()

    async def _loop(self) -> None:
        while not self.closed:
            try:
                await self.reconcile()
            except DB_ERRORS as exc:
                self.outage_at = self.clock.monotonic()
                log.warning("engine cannot reach the database: %s", exc)
            except Exception as exc:  # a bug must not stop every campaign of the process
                self.heartbeat.failed(exc)
                log.exception("engine pass failed; trying again at the next poll")
            self.heartbeat.beat()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_s)
            self._wake.clear()

    async def reconcile(self) -> None:
        """Start runners for running campaigns we can lease; stop those no longer running."""
        rows = await self.pool.fetch(_Q["campaigns_to_run"])
        if self.campaigns is not None:
            rows = [r for r in rows if r["id"] in self.campaigns]
        running = {r["id"] for r in rows if r["state"] == "running"}
        orphaned = {r["id"] for r in rows if r["state"] != "running"}
        for cid, runner in list(self.runners.items()):
            if runner.crashed:
                log.error("runner loop died: stopping it", extra={"campaign_id": cid})
                self._quarantine(cid)
            if runner.lost or runner.crashed or cid not in running:
                self._retire(cid)
        loads = await self._loads()
        share = -(-len(running) // len(loads))  # ceil: campaigns per engine
        self._rebalance(loads, share)
        free = await self._free(running - set(self.runners) - self._stopping - self._failing())
        for cid in sorted(free):
            if len(self.runners) >= share and not self._overdue(cid):
                continue  # leave it to an engine with fewer campaigns
            if await self._take(cid):
                await self._isolated(cid, self._start_runner)
        for cid in sorted(orphaned - set(self.runners) - self._stopping - self._failing()):
            await self._isolated(cid, self._recover_only)
        metrics.RUNNER_LEASES.set(len(self.runners))
        await self._settle_holds()

    async def _settle_holds(self) -> None:
        """Held pauses of any agent whose calls are gone or whose deadline passed, also of
        campaigns no runner of this process follows (the runners settle theirs at once)."""
        skip = [i for r in self.runners.values() for i in upkeep.giving_calls(r)]
        async with self.pool.acquire() as conn:
            await agents.settle_holds(conn, self.clock.now(), skip=skip)

    async def _isolated(self, campaign_id: int, step: Callable[[int], Awaitable[None]]) -> None:
        """Run one campaign's step; anything but a database error stays with that campaign:
        logged, its lease given up, the campaign left alone for ``QUARANTINE_S``."""
        try:
            await step(campaign_id)
        except DB_ERRORS:
            raise
        except Exception as exc:
            self.heartbeat.failed(exc)
            log.exception("campaign cannot be run", extra={"campaign_id": campaign_id})
            self._quarantine(campaign_id)
            await leases.release(self.pool, f"campaign:{campaign_id}", self.instance_id)

    def _takeover_grace(self) -> float:
        """How long past its expiry another process's engine lease still counts as alive:
        one lease life just after a database outage (every process was cut off; the others
        renew within a poll of its return), none otherwise (a process that stopped renewing
        while the database answered is gone)."""
        recent = self.outage_at is not None and self.clock.monotonic() - self.outage_at < 4 * (
            self.options.lease_ttl_s
        )
        return self.options.lease_ttl_s if recent else 0.0

    def _quarantine(self, campaign_id: int) -> None:
        self.failing[campaign_id] = self.clock.monotonic() + QUARANTINE_S

    def _failing(self) -> set[int]:
        """Campaigns whose runner failed recently (not tried again before their time)."""
        now = self.clock.monotonic()
        for cid in [c for c, until in self.failing.items() if until <= now]:
            del self.failing[cid]
        return set(self.failing)

    async def _loads(self) -> dict[str, int]:
        """Campaigns held by each live engine, this one included (each engine renews an
        ``engine:<instance>`` lease on every poll). An engine for some campaigns only
        renews none: it runs all of its own and no other engine waits for it."""
        if self.campaigns is not None:
            return {self.instance_id: len(self.runners)}
        now = self.clock.now()
        await leases.acquire(
            self.pool, f"engine:{self.instance_id}", self.instance_id, now=now, ttl=self.ttl
        )
        loads = {r["owner"]: r["campaigns"] for r in await self.pool.fetch(_Q["engine_loads"], now)}
        loads[self.instance_id] = len(self.runners)
        return loads

    def _rebalance(self, loads: dict[str, int], share: int) -> None:
        """Hand one campaign over (graceful stop) when this engine has more than its share
        and another live engine has at least two fewer: a process started later gets work."""
        mine = len(self.runners)
        others = [n for owner, n in loads.items() if owner != self.instance_id]
        if self._stopping or not others or mine <= share or mine - min(others) < 2:
            return
        newest = max(self.runners, key=lambda cid: self.runners[cid].started_at)
        log.info("handing a campaign over to a less busy engine", extra={"campaign_id": newest})
        self._retire(newest)

    async def _free(self, candidates: set[int]) -> set[int]:
        """The candidates whose lease nobody holds now."""
        if not candidates:
            self._free_since.clear()
            return set()
        names = [f"campaign:{cid}" for cid in candidates]
        held = {
            int(r["name"].split(":")[1])
            for r in await self.pool.fetch(_Q["held_leases"], names, self.clock.now())
        }
        free = candidates - held
        for cid in list(self._free_since):
            if cid not in free:
                del self._free_since[cid]
        return free

    def _overdue(self, campaign_id: int) -> bool:
        """A free campaign no other engine took within two polls: take it anyway."""
        now = self.clock.monotonic()
        first = self._free_since.setdefault(campaign_id, now)
        return now - first >= 2 * self.poll_s

    async def _take(self, campaign_id: int) -> bool:
        return await leases.acquire(
            self.pool,
            f"campaign:{campaign_id}",
            self.instance_id,
            now=self.clock.now(),
            ttl=self.ttl,
        )

    async def _start_runner(self, campaign_id: int) -> None:
        row = await self.pool.fetchrow(_Q["campaign"], campaign_id)
        if row is None:
            await leases.release(self.pool, f"campaign:{campaign_id}", self.instance_id)
            return
        runner = CampaignRunner(
            pool=self.pool,
            gateway=self.gateway,
            timer=self.timer,
            clock=self.clock,
            campaign=CampaignConfig.from_row(row),
            instance_id=self.instance_id,
            bus=self.bus,
            options=self.options,
            health=self.health,
        )
        runner.takeover_grace_s = self._takeover_grace()
        runner.peers = self.runners  # campaigns sharing agents see each other's calls
        try:
            await runner.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await runner.stop(graceful=False)
            raise
        self.runners[campaign_id] = runner
        stops = []
        for hook in self.hooks:
            try:
                stops.append(await hook(runner))
            except Exception:
                log.exception("runner hook failed", extra={"campaign_id": campaign_id})
        self._hook_stops[campaign_id] = stops

    async def _recover_only(self, campaign_id: int) -> None:
        """Close attempts a dead process left open in a campaign nobody runs."""
        if not await self._take(campaign_id):
            return
        try:
            row = await self.pool.fetchrow(_Q["campaign"], campaign_id)
            if row is not None:
                async with self.pool.acquire() as conn:
                    done = await closing.recover(
                        conn,
                        CampaignConfig.from_row(row),
                        now=self.clock.now(),
                        instance_id=self.instance_id,
                        grace=timedelta(seconds=self._takeover_grace()),
                    )
                log.warning(
                    "recovered a stopped campaign", extra={"campaign_id": campaign_id, **done}
                )
        finally:
            await leases.release(self.pool, f"campaign:{campaign_id}", self.instance_id)

    def _retire(self, campaign_id: int) -> None:
        """Stop a runner in the background (graceful unless its lease was lost)."""
        runner = self.runners.pop(campaign_id)
        self._stopping.add(campaign_id)

        async def retire() -> None:
            try:
                await runner.stop()  # lost or not: calls in progress finish
                await self._stop_hooks(campaign_id)
            finally:
                self._stopping.discard(campaign_id)
                self.poke()

        task = asyncio.create_task(retire(), name=f"retire-{campaign_id}")
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _stop_hooks(self, campaign_id: int) -> None:
        for stop in self._hook_stops.pop(campaign_id, []):
            with contextlib.suppress(Exception):
                await stop()

    async def stop(self) -> None:
        """Graceful shutdown: every runner stops (calls finish or are recorded)."""
        self.closed = True
        self.heartbeat.stopped = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        runners = list(self.runners.items())
        self.runners.clear()
        await asyncio.gather(*(r.stop() for _, r in runners), return_exceptions=True)
        for cid, _ in runners:
            await self._stop_hooks(cid)
        while self._stopping:
            await asyncio.sleep(0.05)
        with contextlib.suppress(Exception):
            await leases.release(self.pool, f"engine:{self.instance_id}", self.instance_id)
        metrics.RUNNER_LEASES.set(0)
