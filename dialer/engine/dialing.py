"""Placing calls: leads from the hopper, through the rules gate, recorded, then originated.

``Dialing`` is the part of a runner that turns "launch N calls" into dials. Every lead is
checked by ``gate.check`` right before its dial; a blocked lead is rescheduled at the
rules' next allowed instant (one ``compliance.blocked`` event) and never originated. The
attempt row is written before ``originate`` (fenced by the lease and the lead's claim), so
no call exists without its record.

Guaranteed calls (preview, callbacks owned by an agent) reserve their agent first and are
bridged to that agent as soon as they are answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import asyncpg

from dialer import metrics
from dialer.agents import store as agents
from dialer.clock import Clock
from dialer.compliance import Decision, load_rulebook
from dialer.engine import closing, gate, records
from dialer.engine.callerids import CallerIdChooser
from dialer.engine.callflow import CallFlow
from dialer.engine.conduct import call_conduct
from dialer.engine.health import GatewayHealth
from dialer.engine.hopper import Hopper
from dialer.engine.livecall import LiveCall, originate_request
from dialer.engine.model import CampaignConfig, Lead
from dialer.engine.optout import opt_out_offers
from dialer.engine.pacers import PaceControl
from dialer.engine.records import Dial
from dialer.engine.screening import RulesScreen
from dialer.engine.seats import Seats
from dialer.gateway import Gateway, GatewayError, GatewayUnavailable
from dialer.pacing.base import Dialed
from dialer.sql import queries
from dialer.timer import Timer

log = logging.getLogger(__name__)
_Q = queries("dialer.engine")
SKIP_DELAY = timedelta(minutes=10)  # a lead an agent skipped in preview is offered later
REDIAL_AFTER_REFUSAL = timedelta(seconds=60)  # a lead whose dial the gateway refused
NOT_ATTEMPTED = GatewayUnavailable("the gateway is down (not attempted; the probe goes first)")


@dataclass(frozen=True, slots=True)
class Recorded:
    """A dial whose attempt another process wrote (a manual dial), ready to originate."""

    started: records.Started
    call_id: str
    caller_id: str
    decision: Decision


class Trigger:
    """The event a pacing step answers (an agent freed up, a call ended). The first call
    the step places is timed from it: the engine's reaction time."""

    __slots__ = ("t0", "timed")

    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.timed = False


class Dialing:
    """Launches calls for one runner."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        gateway: Gateway,
        timer: Timer,
        clock: Clock,
        flow: CallFlow,
        hopper: Hopper,
        pacing: PaceControl,
        campaign: Callable[[], CampaignConfig],
        spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]],
        lease: str,
        owner: str,
        runner_id: str,
        seats: Seats,
        rules: RulesScreen,
        health: GatewayHealth | None = None,
        agents_gone: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> None:
        self.pool = pool
        # agents a launch found no longer free (``records.AgentsGone``): the runner's view
        self.agents_gone = agents_gone or (lambda rows: None)
        self.rules = rules
        self.health = health if health is not None else GatewayHealth(monotonic=clock.monotonic)
        self.refused = 0  # dials the gateway refused (outages)
        self.lapsed = False  # the lease's fence refused a batch: no launch until renewed
        self.seats = seats
        self.gateway = gateway
        self.timer = timer
        self.clock = clock
        self.flow = flow
        self.hopper = hopper
        self.pacing = pacing
        self.campaign = campaign
        self.spawn = spawn
        self.lease = lease
        self.owner = owner
        self.runner_id = runner_id
        self.offers: dict[int, Lead] = {}  # preview: agent → the lead they are looking at
        self.caller_ids = CallerIdChooser()
        self.closed = False  # the runner is stopping: place no more calls
        self._placing = 0
        self._settled = asyncio.Event()
        self._settled.set()
        self.dials = 0
        self._recent: list[float] = []
        self.latencies: deque[float] = deque(maxlen=100_000)  # event → originate, seconds

    @property
    def blocked(self) -> int:
        """Leads the calling rules deferred (see ``RulesScreen``)."""
        return self.rules.blocked

    def rate(self) -> float:
        """Dials per wall second over the last few seconds (sizes the hopper)."""
        cutoff = self.clock.monotonic() - 5.0
        self._recent = [x for x in self._recent if x >= cutoff]
        return len(self._recent) / 5.0

    # -- paced calls ----------------------------------------------------------------------
    async def launch(
        self, n: int, mode: str, started: Trigger | None, counted: Sequence[int] = ()
    ) -> int:
        """Dial up to ``n`` leads; returns how many calls were placed. ``counted``: the
        agents the decision counted as free; if one is not any more, nothing is placed
        (``records.start_attempts``): the leads go back to the hopper, the runner hears."""
        leads = await self.hopper.take(n)
        if not leads:
            return 0
        return await self._placing_step(leads, None, mode, started, counted)

    async def place(self, dials: list[Dial], started: Trigger | None) -> int:
        """Record the attempts (one statement), then originate each; returns how many."""
        if not dials:
            return 0
        return await self._placing_step([], dials, "", started)

    async def settled(self, timeout: float) -> None:
        """Wait until no call is being placed (after ``closed`` is set, none will be)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._settled.wait()

    async def _placing_step(
        self,
        leads: list[Lead],
        dials: list[Dial] | None,
        mode: str,
        started: Trigger | None,
        counted: Sequence[int] = (),
    ) -> int:
        campaign = self.campaign()
        if not campaign.caller_id or self.closed:
            return 0
        async with self._placing_call():
            return await self._place(campaign, leads, dials, mode, started, counted)

    @contextlib.asynccontextmanager
    async def _placing_call(self) -> AsyncIterator[None]:
        """Count a placing step (``settled`` waits until none is left)."""
        self._placing += 1
        self._settled.clear()
        try:
            yield
        finally:
            self._placing -= 1
            if not self._placing:
                self._settled.set()

    async def _place(
        self,
        campaign: CampaignConfig,
        leads: list[Lead],
        dials: list[Dial] | None,
        mode: str,
        started: Trigger | None,
        counted: Sequence[int],
    ) -> int:
        """The event-to-originate path: on one connection, the rules gate (two reads) and
        the attempt records (one statement); then the originates. Nothing else waits: the
        blocked leads are deferred and the connection is given back in the background."""
        conn = await self.pool.acquire()
        try:
            if dials is None:
                decided = await gate.check(conn, campaign, leads, now=self.clock.now())
                blocked = [(lead, d) for lead, d in decided if not d.allowed]
                if blocked:
                    self.spawn(self.rules.defer(blocked))
                dials = [Dial(lead, d, uuid.uuid4().hex, mode) for lead, d in decided if d.allowed]
            now = self.clock.now()
            dials = [
                d
                if d.caller_id
                else replace(d, caller_id=self.caller_ids.choose(campaign, d.lead, now))
                for d in dials
            ]
            got = await self._record(conn, campaign, dials, counted)
        finally:
            self.spawn(self.pool.release(conn))  # its reset is a round trip: not on the path
        placed = [(d, s) for d, s in zip(dials, got, strict=True) if s is not None]
        await asyncio.gather(*(self._originate(campaign, d, s, started) for d, s in placed))
        return len(placed)

    async def _record(
        self,
        conn: asyncpg.Connection,
        campaign: CampaignConfig,
        dials: list[Dial],
        counted: Sequence[int],
    ) -> list[records.Started | None]:
        """The attempt records; ``None`` for dials not written: a counted agent is not free
        any more, or the lease lapsed before its renewal (then nothing launches until it is
        renewed: ``upkeep.renew``). Their leads go back to the front of the hopper (a
        dial with a reserved agent is not the hopper's: its caller frees lead and agent)."""
        try:
            return await records.start_attempts(
                conn,
                campaign,
                dials,
                lease=self.lease,
                owner=self.owner,
                runner=self.runner_id,
                now=self.clock.now(),
                counted=counted,
            )
        except records.NotWritten as exc:
            done = len(exc.written)
            self.hopper.put_back([d.lead for d in dials[done:] if d.agent_id is None])
            if isinstance(exc, records.LeaseLapsed):
                self.lapsed = True
            else:
                self.agents_gone(exc.rows)
            return exc.written + [None] * (len(dials) - done)

    async def _originate(
        self, campaign: CampaignConfig, dial: Dial, got: records.Started, started: Trigger | None
    ) -> None:
        lead = dial.lead
        call = LiveCall(
            call_id=dial.call_id,
            lead=lead,
            attempt_id=got.attempt_id,
            started_at=got.started_at,
            mode=dial.mode,
            dialed_t=self.timer.now(),
            lead_status=got.lead_status,
            attempts_count=got.attempts_count,
            reserved_agent=dial.agent_id,
            caller_id=dial.caller_id or campaign.caller_id or "",
            record=campaign.record,
        )
        call.notice, call.voicemail_barred = call_conduct(load_rulebook(), campaign, lead)
        call.opt_out = opt_out_offers(load_rulebook(), campaign, lead)
        self.flow.add(call)
        cid = str(campaign.id)
        slot = None if dial.agent_id is None else self.flow.agents.agents.get(dial.agent_id)
        request = originate_request(call, campaign, slot.endpoint if slot is not None else None)
        if not self.health.may_originate():  # down: only the probe reaches the switch
            self._refused(campaign, call, NOT_ATTEMPTED, tried=False)
            return
        try:
            await self.gateway.originate(request, self.flow.on_event)
        except GatewayUnavailable as exc:
            self._refused(campaign, call, exc, tried=True)
            return
        except GatewayError as exc:  # this one call was refused (a bad number, say)
            self.health.succeeded()  # the switch answered: it is up
            self.flow.advance(call, "failed", cause=f"originate: {exc}")
            return
        self.health.succeeded()
        self.pacing.observe(Dialed(call.dialed_t))
        metrics.DIALS.labels(cid, dial.mode).inc()
        metrics.CALLER_ID_DIALS.labels(cid, call.caller_id).inc()
        if dial.agent_id is None:
            metrics.PACER_LAUNCHED.labels(cid).inc()
        self.dials += 1
        self._recent.append(self.clock.monotonic())
        if started is not None and not started.timed:
            started.timed = True
            latency = self.clock.monotonic() - started.t0
            metrics.EVENT_TO_DIAL.observe(latency)
            self.latencies.append(latency)

    def _refused(
        self, campaign: CampaignConfig, call: LiveCall, exc: GatewayError, *, tried: bool
    ) -> None:
        """The switch could not attempt the call (an outage), or it was not even asked
        because it is down (``tried`` False): the dial never happened. Its attempt is
        closed as ``failed`` but not counted, the lead is due again shortly, and the
        process backs off (``GatewayHealth``)."""
        if tried:
            self.health.failed(exc)
        self.refused += 1
        metrics.GATEWAY_ERRORS.labels(str(campaign.id)).inc()
        self.flow.discard(call)
        now = self.clock.now()
        record = closing.unplaced(
            call.attempt_id, call.lead.status, exc, now=now, due_at=now + REDIAL_AFTER_REFUSAL
        )
        if call.reserved_agent is not None:
            call.agent_id, call.agent_taken = call.reserved_agent, True
        self.flow.record(call, record, call.reserved_agent is not None)

    # -- guaranteed calls: preview and agent-owned callbacks ------------------------------
    async def reserve_for(self, agent_id: int, lead: Lead, reason: str) -> bool:
        """Hold an available agent for ``lead`` (a preview or an owned callback)."""
        ok = await agents.reserve(
            self.pool,
            agent_id,
            now=self.clock.now(),
            attempt_id=None,
            campaign_id=self.campaign().id,
            reason=reason,
            lead_id=lead.id,
            unless_held=True,
        )
        if not ok:
            await self.hopper.release([lead])
        return ok

    async def dial_reserved(
        self,
        agent_id: int,
        lead: Lead,
        started: Trigger | None,
        *,
        recorded: Recorded | None = None,
    ) -> int:
        """Dial a lead for the agent already held for it; if the call cannot be placed (rules,
        shutdown), free the agent and the lead. ``recorded``: a manual dial, decided and
        recorded by the process that took the request; placed as it is (no second gate,
        no second record). While the runner is closing it is not placed (0): the caller
        closes it (``manual.place``)."""
        if recorded is not None:
            if self.closed:
                return 0
            dial = Dial(lead, recorded.decision, recorded.call_id, "manual", agent_id)
            dial = replace(dial, caller_id=recorded.caller_id)
            async with self._placing_call():
                await self._originate(self.campaign(), dial, recorded.started, started)
            return 1
        [(lead, decision)] = await gate.check(
            self.pool, self.campaign(), [lead], now=self.clock.now(), agent_guaranteed=True
        )
        if not decision.allowed:
            await self.rules.defer([(lead, decision)])
            await self.release_agent(agent_id)
            return 0
        dial = Dial(lead, decision, uuid.uuid4().hex, self.campaign().dial_mode, agent_id)
        placed = await self.place([dial], started)
        if not placed:
            await self.hopper.release([lead])
            await self.release_agent(agent_id)
        return placed

    async def skip(self, agent_id: int) -> None:
        """The agent passed on the previewed lead: offer it again later, free the agent."""
        lead = self.offers.pop(agent_id, None)
        if lead is not None:
            await self.pool.execute(
                _Q["defer_lead"],
                lead.id,
                self.runner_id,
                self.clock.now() + SKIP_DELAY,
                self.clock.now(),
            )
        await self.release_agent(agent_id)

    async def release_agent(self, agent_id: int) -> None:
        """Free an agent held for a call that will not be placed (or never reached them)."""
        await self.seats.release(agent_id, None)
