"""One campaign's runner: the loop that keeps its agents busy within the law.

A runner exists in exactly one process: the holder of the ``campaign:<id>`` lease, which
it renews on its tick (a third of the lease's life) and whose loss stops it at once. On
start it recovers what a previous holder left (open attempts → ``unknown``, claims,
agents stuck on calls that no longer exist). Then:

* every event that can change what to do (a call ended, an agent freed up, an answer) and
  a short tick *kick* the pacing loop, which asks the pacer (``PaceControl``) how many calls
  to launch and hands them to the ``Launcher`` (batches placed by ``Dialing`` in the
  background, so the loop is free for the next event); while the process's gateway is
  down (``GatewayHealth``) it launches nothing but, now and then, one probe call;
* ``CallFlow`` follows each call (routing, the 2-second rule, safe-harbor);
* the recorder writes each ended call (with retries), in the order the call's own writes
  happened.

``stop()`` is graceful: no new dials, claims released, calls in progress finish (or are
hung up and recorded when the shutdown timeout runs out), the lease is released.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Coroutine
from functools import partial
from typing import Any

import asyncpg

from dialer import leases, metrics
from dialer.agents.bus import AgentBus
from dialer.clock import Clock
from dialer.db import DB_ERRORS, OUTAGE_ERRORS
from dialer.engine import busfollow, closing, manual, series, upkeep
from dialer.engine.agentview import AgentView, Change
from dialer.engine.budget import AbandonTally
from dialer.engine.callflow import CallFlow
from dialer.engine.dialing import Dialing, Trigger
from dialer.engine.guaranteed import GuaranteedCalls
from dialer.engine.health import GatewayHealth
from dialer.engine.hopper import Hopper
from dialer.engine.launcher import Launcher
from dialer.engine.livecall import LiveCall
from dialer.engine.model import CampaignConfig, RunnerOptions
from dialer.engine.optout import OptOuts
from dialer.engine.pacers import PaceControl, pacing_state
from dialer.engine.ramp import OutageRamp
from dialer.engine.recorder import Recorder
from dialer.engine.recordkeep import RecordingKeeper
from dialer.engine.screening import RulesScreen
from dialer.engine.seats import DbSeats
from dialer.engine.transfer import Transfers
from dialer.gateway import Gateway, RecordingSource
from dialer.pacing.base import PacingState, WrapEnded
from dialer.pacing.inbound import InboundRate
from dialer.sql import queries
from dialer.timer import Timer

log = logging.getLogger(__name__)
_Q = queries("dialer.engine")
_SEQ = itertools.count(1)


class CampaignRunner:
    """Dials one campaign (see the module docstring)."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        gateway: Gateway,
        timer: Timer,
        clock: Clock,
        campaign: CampaignConfig,
        instance_id: str,
        bus: AgentBus | None = None,
        options: RunnerOptions | None = None,
        health: GatewayHealth | None = None,
    ) -> None:
        self.pool, self.gateway, self.timer, self.clock, self.bus = pool, gateway, timer, clock, bus
        self.options = options or RunnerOptions()
        self.health = health or GatewayHealth(name=gateway.name, monotonic=clock.monotonic)
        self.config = campaign
        self.instance_id = instance_id
        self.runner_id = f"{instance_id}#{next(_SEQ)}"
        self.lease = f"campaign:{campaign.id}"
        self.tasks: set[asyncio.Task[Any]] = set()
        self.view = AgentView(campaign.id)
        self.inbound_rate = InboundRate()  # callbacks arriving (engine.inbound)
        self.budget = AbandonTally(campaign.max_abandon_rate)
        self.pacing = PaceControl(campaign)
        self.ramp = OutageRamp(timer.now)
        self.rules = RulesScreen(pool, clock, self.campaign, runner_id=self.runner_id)
        self.hopper = Hopper(
            pool,
            campaign.id,
            self.runner_id,
            clock,
            claim_ttl_s=self.options.claim_ttl_s,
            min_size=self.options.hopper_min,
            screen=self.rules.screen,
        )
        keeper = None
        if self.options.recordings is not None and isinstance(gateway, RecordingSource):
            keeper = RecordingKeeper(gateway, self.options.recordings, campaign.id)
        self.recorder = Recorder(pool, self.campaign, keeper=keeper, runner_id=self.runner_id)
        self._build_calls(DbSeats(pool, clock, campaign.id, recorder=self.recorder))
        self.transfers = Transfers(self)
        self.mode = campaign.dial_mode
        self.stopping = self.lost = False
        self.recovered: dict[str, int] = {}
        self.inherited = 0  # calls in flight that a live process's earlier runner follows
        # this process's runners by campaign (the supervisor's): campaigns sharing agents
        self.peers: dict[int, CampaignRunner] = {}
        self.shared_elsewhere = 0  # other processes' calls on shared agents (upkeep)
        self.takeover_grace_s = 0.0  # see Engine._takeover_grace
        self._kick_t: float | None = None
        self._kicked, self._idle, self._stopped = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._unsubscribe: Any = None
        self.renewed = self.started_at = clock.monotonic()

    def _build_calls(self, seats: DbSeats) -> None:
        """The parts that place and follow calls, sharing the hopper, seats and health."""
        pool, gateway, timer, clock = self.pool, self.gateway, self.timer, self.clock
        campaign = self.config
        self.flow = CallFlow(
            gateway=gateway,
            timer=timer,
            clock=clock,
            agents_view=self.view,
            budget=self.budget,
            pacing=self.pacing,
            campaign=self.campaign,
            spawn=self.spawn,
            record=self._record,
            kick=self.kick,
            seats=seats,
            opt_outs=OptOuts(pool=pool, clock=clock, campaign=self.campaign, spawn=self.spawn),
        )
        self.dialing = Dialing(
            pool=pool,
            gateway=gateway,
            timer=timer,
            clock=clock,
            flow=self.flow,
            hopper=self.hopper,
            pacing=self.pacing,
            campaign=self.campaign,
            spawn=self.spawn,
            lease=self.lease,
            owner=self.instance_id,
            runner_id=self.runner_id,
            seats=seats,
            rules=self.rules,
            health=self.health,
            agents_gone=partial(upkeep.agents_seen, self),
        )
        self.guaranteed = GuaranteedCalls(
            campaign_id=campaign.id,
            view=self.view,
            hopper=self.hopper,
            dialing=self.dialing,
            flow=self.flow,
            health=self.health,
            timer=timer,
            spawn=self.spawn,
        )
        self.launcher = Launcher(
            dialing=self.dialing,
            hopper=self.hopper,
            spawn=self.spawn,
            again=self._again,
            slots=self.options.parallel_batches,
            max_batch=self.options.max_batch,
            campaign_id=campaign.id,
            ramp=self.ramp,
        )

    def campaign(self) -> CampaignConfig:
        return self.config

    @property
    def campaign_id(self) -> int:
        return self.config.id

    # -- tasks ----------------------------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "runner task failed",
                exc_info=task.exception(),
                extra={"campaign_id": self.campaign_id},
            )

    def kick(self, trigger: bool = True) -> None:
        """Ask the pacing loop to look again; ``trigger``: an agent freed or a call ended
        (the event-to-dial latency is measured from the first such event)."""
        if trigger and self._kick_t is None:
            self._kick_t = self.clock.monotonic()
        self._kicked.set()

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Recover, load agents and budget, and start dialing (the lease is already held)."""
        await upkeep.recover(self)
        await upkeep.reload_agents(self)
        await upkeep.reload_budget(self)
        if self.bus is not None:
            self._unsubscribe = self.bus.subscribe(
                partial(busfollow.on_bus, self), on_resync=partial(busfollow.resync, self)
            )
        cid = str(self.campaign_id)
        await self.dialing.caller_ids.reload(self.pool, self.campaign_id, self.clock.now())
        series.start_campaign(self.config, self.dialing.caller_ids.numbers)
        self.recorder.start()
        self._loops = [
            asyncio.create_task(self._pace_loop(), name=f"pace-{cid}"),
            asyncio.create_task(upkeep.tick_loop(self), name=f"tick-{cid}"),
        ]
        self.kick()
        log.info(
            "runner started", extra={"campaign_id": self.campaign_id, "runner": self.runner_id}
        )

    async def stop(self, *, graceful: bool = True) -> None:
        """Stop dialing; let calls finish (graceful) or hang them up; release the lease."""
        if self.stopping:
            await self._stopped.wait()
            return
        self.stopping = True
        self.dialing.closed = True
        await manual.refuse_new(self)  # no manual dial accepted from here on
        self._kicked.set()
        for loop in self._loops:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await loop
        await self.dialing.settled(self.options.shutdown_timeout_s)
        if graceful and self.flow.calls:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.options.shutdown_timeout_s):
                    while self.flow.calls:
                        self._idle.clear()
                        await self._idle.wait()
        for call in list(self.flow.calls.values()):
            self.flow.advance(call, "timeout", cause="shutdown")
        for agent_id in list(self.dialing.offers):
            await self.dialing.skip(agent_id)
        with contextlib.suppress(Exception):
            await self.hopper.release_all()
        await self._drain()
        await self.recorder.stop(self.options.shutdown_timeout_s)
        if self._unsubscribe is not None:
            self._unsubscribe()
        await manual.cancel_pending(self)  # accepted as it stopped: closed, agents freed
        if not self.lost:
            with contextlib.suppress(Exception):
                await leases.release(self.pool, self.lease, self.instance_id)
        series.forget_campaign(self.campaign_id)
        self._stopped.set()
        log.info("runner stopped", extra={"campaign_id": self.campaign_id, "lost": self.lost})

    async def _drain(self) -> None:
        """Wait for the runner's own tasks (call records above all) to finish."""
        me = asyncio.current_task()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.options.shutdown_timeout_s):
                while others := [t for t in self.tasks if t is not me]:
                    await asyncio.wait(others)

    @property
    def crashed(self) -> bool:
        """One of the runner's loops ended while it was not stopping (a bug)."""
        return not self.stopping and any(loop.done() for loop in self._loops)

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    # -- pacing ---------------------------------------------------------------------------
    async def _pace_loop(self) -> None:
        while not self.stopping:
            await self._kicked.wait()
            self._kicked.clear()
            if self.stopping:
                return
            t0, self._kick_t = self._kick_t, None
            try:
                await self._pace_once(None if t0 is None else Trigger(t0))
            except DB_ERRORS as exc:
                log.warning("pacing paused: %s", exc, extra={"campaign_id": self.campaign_id})
                if isinstance(exc, OUTAGE_ERRORS):
                    self.ramp.failed()
                await asyncio.sleep(1.0)
            except Exception:  # one bad decision must not end this campaign's dialing
                metrics.LOOP_ERRORS.labels("runner").inc()
                log.exception("pacing pass failed", extra={"campaign_id": self.campaign_id})
                await asyncio.sleep(1.0)

    def pacing_state(self) -> PacingState:
        return pacing_state(self)

    def busy(self) -> int:
        """Calls in flight plus humans waiting: each wants an agent (of shared ones, too)."""
        flow = self.flow
        return flow.in_flight() + self.launcher.pending + self.inherited + flow.humans_waiting()

    async def _pace_once(self, started: Trigger | None) -> None:
        c = self.config
        if c.state != "running" or not c.caller_id:
            return
        self.flow.match()
        self.guaranteed.owned_callbacks(started)
        if c.dial_mode == "preview":
            await self.guaranteed.offer_previews()
            return
        counted: tuple[int, ...] = ()  # agents this decision counts as free
        if c.dial_mode == "agentless":
            busy = len(self.flow.calls) + self.launcher.pending + self.inherited
            want = (c.lines or 0) - busy
            mode = "agentless"
        else:
            counted = tuple(s.id for s in self.view.available())
            state = self.pacing_state()
            decision = self.pacing.decide(state, at_limit=self.budget.at_limit())
            want, mode = self.ramp.cap(decision.calls, state), decision.mode
            free = max(1, state.agents_available)
            metrics.DIAL_LEVEL.labels(str(c.id)).set((state.calls_in_flight + want) / free)
        self.mode = mode
        metrics.PACER_TARGET.labels(str(c.id)).set(max(0, want))
        if want <= 0:
            return
        # What a step can place; the rest is asked for again at once (not a shortage).
        metrics.PACER_REQUESTED.labels(str(c.id)).inc(min(want, self.launcher.step_capacity))
        allowance = self.health.allowance()
        if allowance is None:
            await self.launcher.submit(want, mode, started, counted)
        elif allowance == 1:  # the gateway is down and a probe is due: one call, now
            await self.launcher.probe(mode, started, counted)

    def _again(self, started: Trigger | None) -> None:
        """Look again at once; if nothing was placed yet, the reaction time still runs from
        the same event."""
        if self.stopping:
            return
        if started is not None and not started.timed:
            self._kick_t = started.t0 if self._kick_t is None else min(started.t0, self._kick_t)
        self._kicked.set()

    # -- the agent bus (engine.busfollow) -------------------------------------------------
    def agent_changed(self, change: Change) -> None:
        if change.old == "wrap_up" and change.campaign_id == self.campaign_id:
            self.pacing.observe(WrapEnded(self.timer.now(), change.elapsed))
            metrics.WRAP_SECONDS.labels(str(self.campaign_id)).observe(change.elapsed)
        if change.new == "available":
            self.flow.match()
            self.kick()
        else:
            self.kick(trigger=False)

    # -- recording ------------------------------------------------------------------------
    def _record(self, call: LiveCall, record: closing.CallRecord, release: bool) -> None:
        async def after(done: closing.CallRecord, written: bool) -> None:
            if written and not call.inbound:  # callbacks are outside the abandon budget
                self.budget.written(
                    human=done.answer == "human", abandoned=done.outcome == "abandoned"
                )
            if release and call.agent_id is not None:
                await self.dialing.release_agent(call.agent_id)

        self.recorder.add(record, before=call.pending, after=after)
        if not self.flow.calls:
            self._idle.set()
