"""Callbacks from callees: inbound calls to a campaign's numbers, routed to blended agents.

A gateway that reports inbound calls (``InboundSource``) hands each to ``InboundDesk`` (one
per engine). The number dialed picks the campaign (``inbound.sql`` ``route``: whichever
campaign last called this caller from that number, else a campaign owning the number) and
the caller's number its lead (that call's lead, else the campaign's lead with that phone).
The call is an attempt (``direction`` inbound) from the start, ``inbound.received`` goes to
the CRM, and then:

* the campaign's runner runs here: the call joins its ``CallFlow`` as an answered human
  (``route_inbound``): a free *blended* agent of the campaign takes it at once, before any
  waiting outbound call (the screen pop shows the lead, marked inbound); with none free it
  hears the callback message with the in-call opt-out (``engine.optout``, kind ``callback``;
  offered on every callback message) and is hung up. It never waits in the outbound queue
  and never counts in the abandon budget;
* the campaign does not dial here (paused, or run by another process): the callback
  message with the opt-out, without an agent;
* no campaign owns the number: a short message, counted ``unrouted``, no attempt.

The pacer is told how many blended agents to keep free for the inbound calls it expects
(``held_agents``, from the recent arrival rate: ``dialer.pacing.inbound``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg

from dialer import metrics
from dialer.compliance import load_rulebook
from dialer.db import DB_ERRORS
from dialer.engine import calls as fsm
from dialer.engine.livecall import LiveCall
from dialer.engine.model import CampaignConfig, Lead
from dialer.engine.optout import OptOuts, opt_out_offers
from dialer.gateway import CallEvent, Dtmf, GatewayError, Inbound, InboundSource
from dialer.outbox import enqueue
from dialer.pacing.base import CallEnded, Connected
from dialer.pacing.inbound import agents_to_hold
from dialer.sql import queries

if TYPE_CHECKING:
    from dialer.engine.callflow import CallFlow
    from dialer.engine.runner import CampaignRunner
    from dialer.engine.supervisor import Engine

log = logging.getLogger(__name__)
_Q = queries("dialer.engine", "inbound.sql")
_E = queries("dialer.engine")

CALLBACK_MESSAGE = "sound:dialer/callback"
"""Heard by a callee calling back when no agent is free (install it on the switch)."""
UNROUTED_MESSAGE = "sound:dialer/not-in-service"
"""Heard on a number no campaign owns."""
HOLD_HORIZON_S = 30.0  # call seconds ahead the pacer keeps agents for expected inbound calls
HOLD_RISK = 0.1  # keep an agent when an inbound call is at least this likely meanwhile


@dataclass(frozen=True, slots=True)
class Route:
    campaign_id: int | None
    client_id: int | None
    lead: Lead | None


def caller_lead(phone: str) -> Lead:
    """The stand-in lead of a caller nobody called (id 0: no lead row)."""
    return Lead(0, phone, None, None, None, (), "inbound", 0, None)


async def inbound_calls(
    conn: asyncpg.Connection, campaign_id: int, *, after: int, limit: int, since: Any = None
) -> list[dict[str, Any]]:
    """A page of a campaign's inbound calls (``GET /api/v1/campaigns/{id}/inbound``)."""
    rows = await conn.fetch(_Q["calls"], campaign_id, after, limit, since)
    return [dict(r) for r in rows]


async def find_route(pool: asyncpg.Pool, caller: str, dialed: str) -> Route:
    row = await pool.fetchrow(_Q["route"], caller, dialed)
    if row is None:
        return Route(None, None, None)
    lead = Lead.from_row(row, 0.0) if row["id"] is not None else None
    return Route(row["campaign_id"], row["client_id"], lead)


class InboundDesk:
    """The inbound calls of one engine's gateway (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.tasks: set[asyncio.Task[Any]] = set()
        self.handled = 0

    def start(self) -> bool:
        gateway = self.engine.gateway
        if not isinstance(gateway, InboundSource):
            return False
        gateway.on_inbound(self.arrived)
        return True

    def arrived(self, inbound: Inbound) -> None:
        task = asyncio.create_task(self._take(inbound))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _take(self, inbound: Inbound) -> None:
        self.handled += 1
        engine = self.engine
        try:
            route = await find_route(engine.pool, inbound.caller, inbound.dialed)
        except DB_ERRORS as exc:
            log.warning("inbound call not routed: %s", exc, extra={"call_id": inbound.call_id})
            route = Route(None, None, None)
        try:
            runner = engine.runners.get(route.campaign_id or 0)
            if runner is not None and not runner.stopping:
                await take_call(runner, inbound, route)
            elif route.campaign_id is not None:
                await self._message_only(inbound, route)
            else:
                await self._unrouted(inbound)
        except Exception:  # one call's failure must not stop the next
            log.exception("inbound call failed", extra={"call_id": inbound.call_id})

    async def _unrouted(self, inbound: Inbound) -> None:
        gateway: Any = self.engine.gateway
        metrics.INBOUND_CALLS.labels("none", "unrouted").inc()
        try:
            await gateway.answer(inbound.call_id, _ignore)
            await gateway.play(inbound.call_id, UNROUTED_MESSAGE)
        except GatewayError:
            pass
        await _hangup(gateway, inbound.call_id)

    async def _message_only(self, inbound: Inbound, route: Route) -> None:
        """The callback message and the opt-out for a campaign that does not dial here."""
        engine, gateway = self.engine, self.engine.gateway
        row = await engine.pool.fetchrow(_E["campaign"], route.campaign_id)
        config = CampaignConfig.from_row(row)
        call = await _start(engine.pool, engine.clock, config, inbound, route, engine.instance_id)
        call.dialed_t = engine.timer.now()
        opt_outs = OptOuts(
            pool=engine.pool, clock=engine.clock, campaign=lambda: config, spawn=_spawn(self)
        )

        def on_event(event: CallEvent) -> None:
            if isinstance(event, Dtmf):
                opt_outs.key(call, event.digit)

        outcome, result = "human", "hung_up"
        try:
            await gateway.answer(inbound.call_id, on_event)  # type: ignore[attr-defined]
            if await opt_outs.message(gateway, engine.timer, call, CALLBACK_MESSAGE, "callback"):
                outcome, result = "completed", "message"
        except GatewayError:
            outcome = "no_answer"
        await _hangup(gateway, inbound.call_id)
        result = "opted_out" if call.opted_out else result
        metrics.INBOUND_CALLS.labels(str(config.id), result).inc()
        await engine.pool.execute(
            _Q["close_message_only"], call.attempt_id, engine.clock.now(), outcome, result
        )


async def _start(
    pool: asyncpg.Pool,
    clock: Any,
    campaign: CampaignConfig,
    inbound: Inbound,
    route: Route,
    runner_id: str,
) -> LiveCall:
    """The call's attempt and ``inbound.received``; the call as a runner carries it."""
    now, lead = clock.now(), route.lead
    lead_id = lead.id if lead is not None else None
    async with pool.acquire() as conn, conn.transaction():
        attempt_id = await conn.fetchval(
            _Q["start"],
            lead_id,
            campaign.id,
            inbound.caller,
            now,
            inbound.call_id,
            runner_id,
            inbound.dialed,
        )
        data = {
            "attempt_id": attempt_id,
            "campaign_id": campaign.id,
            "lead_id": lead_id,
            "caller": inbound.caller,
            "dialed": inbound.dialed,
            "matched": lead is not None,
            "received_at": now,
        }
        await enqueue(
            conn,
            "inbound.received",
            client_id=campaign.client_id,
            data=data,
            now=now,
            campaign_id=campaign.id,
            lead_id=lead_id,
        )
    call = LiveCall(
        inbound.call_id,
        lead or caller_lead(inbound.caller),
        attempt_id,
        now,
        "inbound",
        0.0,
        inbound=True,
        dialed=inbound.dialed,
    )
    offers = opt_out_offers(load_rulebook(), campaign, call.lead, ("callback",))
    call.opt_out = {"callback": offers.get("callback", "inbound")}
    return call


async def take_call(runner: CampaignRunner, inbound: Inbound, route: Route) -> None:
    """The call joins the campaign runner's calls, answered (see ``route_inbound``)."""
    flow, gateway = runner.flow, runner.gateway
    runner.inbound_rate.arrived(runner.timer.now())
    call = await _start(runner.pool, runner.clock, runner.config, inbound, route, runner.runner_id)
    call.dialed_t = runner.timer.now()
    flow.add(call)
    try:
        await gateway.answer(inbound.call_id, flow.on_event)  # type: ignore[attr-defined]
    except GatewayError as exc:
        log.info("inbound call gone before the answer: %s", exc, extra={"call_id": call.call_id})
        flow.advance(call, "hangup", cause="callee: gave up ringing")
        return
    flow.advance(call, "human")


# -- hooks of CallFlow --------------------------------------------------------------------
def observe_inbound(flow: CallFlow, call: LiveCall, step: fsm.CallStep, t: float) -> None:
    """An inbound call's steps: the pacer hears only that an agent talks (no answer, no
    abandon: inbound calls are not dials and are outside the abandon budget)."""
    event, source = step.event, step.source
    if source == "dialing" and event == "human":
        call.answer, call.answered_t, call.answered_at = "human", t, flow.clock.now()
        if call.watchdog is not None:
            call.watchdog.cancel()
    elif event == "bridged":
        call.connected_t = t
        flow.pacing.observe(Connected(t, 0.0))
    elif event == "hangup" and source == "connected":
        flow.pacing.observe(CallEnded(t, t - (call.connected_t or t)))
    if step.ended and step.outcome is not None:
        result = inbound_result(call, step.outcome)
        metrics.INBOUND_CALLS.labels(str(flow.campaign().id), result).inc()


def route_inbound(flow: CallFlow, call: LiveCall, t: float) -> None:
    """A free blended agent at once (longest free first), else the callback message."""
    call.agent_id = None
    slot = flow.agents.pick(blended=True)
    if slot is None:
        flow.advance(call, "play", t=t)
        return
    slot.reserving = True
    call.agent_id = slot.id
    flow.advance(call, "agent", t=t)


def inbound_result(call: LiveCall, outcome: str) -> str:
    """How an inbound call ended, for ``dialer_inbound_calls_total``."""
    if call.connected_t is not None:
        return "agent"
    if call.opted_out:
        return "opted_out"
    return "message" if outcome == "completed" else "hung_up"


def held_agents(runner: CampaignRunner) -> int:
    """Blended free agents the pacer should leave out of its count of free agents."""
    free = sum(1 for s in runner.view.available() if s.blended)
    rate = runner.inbound_rate.rate(runner.timer.now()) if free else 0.0
    held = agents_to_hold(rate, HOLD_HORIZON_S, free, HOLD_RISK)
    metrics.INBOUND_HELD_AGENTS.labels(str(runner.view.campaign_id)).set(held)
    return held


async def _hangup(gateway: Any, call_id: str) -> None:
    with contextlib.suppress(GatewayError):
        await gateway.hangup(call_id)


def _ignore(event: CallEvent) -> None:
    """Events of a call nobody follows."""


def _spawn(desk: InboundDesk) -> Any:
    def spawn(coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        desk.tasks.add(task)
        task.add_done_callback(desk.tasks.discard)
        return task

    return spawn
