"""Calls in progress: gateway events through the call state machine to their effects.

``CallFlow`` owns a runner's live calls. Each gateway event becomes a call-state-machine
event (``engine.calls``); the step's effects are carried out here: a live answer is given
to the agent free the longest (a compare-and-set on the agent row, or the runner's own
picture while the database is away: ``seating``; then a bridge) or waits
for one with its abandon deadline armed; when the deadline passes it hears the
safe-harbor message and is recorded ``abandoned``. Every step also becomes a pacing event
and a metric, and a call that ends is written (with retries) by the runner's recorder.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Callable, Coroutine
from typing import Any

from dialer import metrics
from dialer.clock import Clock
from dialer.engine import calls as fsm
from dialer.engine import inbound
from dialer.engine.agentview import AgentView
from dialer.engine.budget import AbandonTally
from dialer.engine.closing import CallRecord
from dialer.engine.conduct import await_beep, bridge_leg, play_notice, voicemail_step
from dialer.engine.livecall import LiveCall, event_name
from dialer.engine.model import CampaignConfig
from dialer.engine.observing import observe_step
from dialer.engine.optout import OptOuts
from dialer.engine.pacers import PaceControl
from dialer.engine.retry import LeadPlan, after_call
from dialer.engine.seating import seat, seated
from dialer.engine.seats import Seats
from dialer.gateway import ROBOCALL_REASONS, CallEvent, CallGone, Dtmf, Gateway, GatewayError
from dialer.timer import Timer

log = logging.getLogger(__name__)

WATCHDOG_GRACE_S = 60.0  # a ringing call the gateway forgot is closed after ring + this
PLAY_WATCHDOG_S = 120.0


class CallFlow:
    """The live calls of one runner and what happens to them."""

    def __init__(
        self,
        *,
        gateway: Gateway,
        timer: Timer,
        clock: Clock,
        agents_view: AgentView,
        budget: AbandonTally,
        pacing: PaceControl,
        campaign: Callable[[], CampaignConfig],
        spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]],
        record: Callable[[LiveCall, CallRecord, bool], None],
        kick: Callable[[], None],
        seats: Seats,
        opt_outs: OptOuts | None = None,
    ) -> None:
        self.gateway = gateway
        self.timer = timer
        self.clock = clock
        self.agents = agents_view
        self.budget = budget
        self.pacing = pacing
        self.campaign = campaign
        self.spawn = spawn
        self.record = record
        self.kick = kick
        self.seats = seats
        self.messages = opt_outs or OptOuts(pool=None, clock=clock, campaign=campaign, spawn=spawn)
        self.calls: dict[str, LiveCall] = {}
        self.waiting: deque[LiveCall] = deque()
        self.by_state: Counter[str] = Counter()  # live calls by state
        self.illegal = 0
        # transfers (engine.transfer): callees between agents, and the hook for calls ending
        self.adopted: dict[str, Callable[[CallEvent], None]] = {}
        self.on_ended: Callable[[LiveCall], None] | None = None

    def in_flight(self) -> int:
        """Dialed and unresolved: what the pacer calls ``calls_in_flight``."""
        return self.by_state["dialing"] + self.by_state["ringing"]

    def humans_waiting(self) -> int:
        return self.by_state["waiting"] + self.by_state["connecting"]

    # -- entry points ---------------------------------------------------------------------
    def add(self, call: LiveCall) -> None:
        self.calls[call.call_id] = call
        self.by_state[call.state] += 1
        ring = self.campaign().ring_timeout_s
        call.watchdog = self.timer.call_later(
            ring + WATCHDOG_GRACE_S, lambda: self.advance(call, "timeout", cause="gateway silent")
        )

    def discard(self, call: LiveCall) -> None:
        """Forget a call the gateway refused to place: it never existed, so it takes no
        step of the state machine and teaches the pacer nothing."""
        if self.calls.pop(call.call_id, None) is not None:
            self.by_state[call.state] -= 1
        if call.watchdog is not None:
            call.watchdog.cancel()

    def on_event(self, event: CallEvent) -> None:
        """The gateway's callback for every call of this runner."""
        call = self.calls.get(event.call_id)
        if call is None:
            if event.call_id in self.adopted:
                self.adopted[event.call_id](event)
            return  # a late event for a call already closed
        if isinstance(event, Dtmf):
            self.messages.key(call, event.digit)
            return
        name, cause = event_name(event)
        if name == "machine" and self.campaign().voicemail_message:
            name, cause = voicemail_step(call)
        self.advance(call, name, t=event.t, cause=cause)

    def advance(
        self, call: LiveCall, event: str, *, t: float | None = None, cause: str | None = None
    ) -> None:
        """Apply one state-machine event to ``call`` and carry out its effects."""
        try:
            step = fsm.transition(call.state, event)
        except fsm.IllegalCallEvent as exc:
            self.illegal += 1
            log.warning("ignored call event: %s", exc, extra={"call_id": call.call_id})
            return
        if step.source == "ended":
            return
        now_t = self.timer.now() if t is None else t
        self.by_state[call.state] -= 1
        self.by_state[step.target] += 1
        call.state = step.target
        if cause and (step.ended or call.cause is None):
            call.cause = cause
        self._observe(call, step, now_t)
        for effect in step.effects:
            self._effect(call, effect, now_t)
        if step.ended:
            assert step.outcome is not None
            self._finish(call, step.outcome, now_t)

    # -- pacing events, metrics, budget ---------------------------------------------------
    def _observe(self, call: LiveCall, step: fsm.CallStep, t: float) -> None:
        if call.inbound:  # a callback: not a dial (engine.inbound)
            inbound.observe_inbound(self, call, step, t)
        elif call.mode != "transfer":  # a transfer's leg: no dial of this campaign's pacing
            observe_step(self, call, step, t)

    # -- effects --------------------------------------------------------------------------
    def _effect(self, call: LiveCall, effect: str, t: float) -> None:
        if call.inbound and effect in (fsm.ROUTE, fsm.REQUEUE):
            inbound.route_inbound(self, call, t)
        elif effect == fsm.ROUTE:
            self._route(call, t)
        elif effect == fsm.DROP:
            self.spawn(self._hangup(call))
        elif effect == fsm.SAFE_HARBOR:
            self.cancel_deadline(call)
            self.spawn(self._play(call, self.campaign().safe_harbor_message, "abandoning"))
        elif effect == fsm.MESSAGE:
            msg = inbound.CALLBACK_MESSAGE if call.inbound else self.campaign().safe_harbor_message
            self.spawn(self._play(call, msg, "messaging"))
        elif effect == fsm.VOICEMAIL:  # then the attempt's hangup_cause is voicemail_left
            beep = await_beep(self.gateway, call, self.campaign(), self.timer.speed)
            vm = self.campaign().voicemail_message or ""
            self.spawn(self._play(call, vm, "voicemail", cause="voicemail_left", first=beep))
        elif effect == fsm.BRIDGE:
            call.pending = self.spawn(self._connect(call))
        elif effect == fsm.REQUEUE:
            self._requeue(call, t)
        elif effect == fsm.RELEASE_AGENT and call.agent_taken:
            call.agent_taken = False
            self.spawn(self._release_agent(call))
        elif effect == fsm.WRAP and call.agent_id is not None:
            # The recorder puts the agent into wrap-up in the transaction that closes the
            # attempt; the pacer must not see them talking until then.
            self.agents.mark(
                call.agent_id, "wrap_up", t, attempt=call.attempt_id, campaign=self.campaign().id
            )

    def _route(self, call: LiveCall, t: float) -> None:
        campaign = self.campaign()
        if campaign.dial_mode == "agentless":
            self.advance(call, "play", t=t)
            return
        if call.reserved_agent is not None:
            call.agent_id = call.reserved_agent
            call.agent_taken = True
            self.advance(call, "agent", t=t)
            return
        call.deadline_t = t + campaign.abandon_timeout_s
        call.deadline = self.timer.call_later(
            campaign.abandon_timeout_s, lambda: self.advance(call, "deadline")
        )
        self.waiting.append(call)
        self.match()

    def match(self) -> None:
        """Give waiting humans (oldest first) to free agents (longest free first)."""
        while self.waiting:
            call = self.waiting[0]
            if call.state != "waiting":
                self.waiting.popleft()
                continue
            slot = self.agents.pick()
            if slot is None:
                return
            self.waiting.popleft()
            slot.reserving = True
            call.agent_id = slot.id
            self.advance(call, "agent")

    def _requeue(self, call: LiveCall, t: float) -> None:
        call.agent_id = None
        if call.deadline_t is not None and t >= call.deadline_t:
            self.advance(call, "deadline", t=t)
            return
        self.waiting.appendleft(call)
        self.match()

    async def _connect(self, call: LiveCall) -> None:
        agent_id = call.agent_id
        assert agent_id is not None
        try:
            ok = await seat(
                call,
                agent_id,
                seats=self.seats,
                view=self.agents,
                timer=self.timer,
                clock=self.clock,
                spawn=self.spawn,
                campaign_id=self.campaign().id,
            )
        except Exception:
            log.exception("connect failed", extra={"call_id": call.call_id})
            ok = False
        call.agent_taken |= ok
        if call.state != "connecting":  # the callee hung up meanwhile
            if ok and call.reserved_agent is None:
                call.agent_taken = False
                await seated(call)  # a connect written later lands before the release
                await self._release_agent(call)
            return
        if not ok:  # another campaign (or a pause) took the agent first: ask the table
            self.spawn(self.refresh_agent(agent_id))
            self.advance(call, "agent_lost")
            return
        now, cid = self.timer.now(), self.campaign().id
        self.agents.mark(agent_id, "on_call", now, attempt=call.attempt_id, campaign=cid)
        slot = self.agents.agents.get(agent_id)
        wait = PLAY_WATCHDOG_S / self.timer.speed  # the recording notice comes first
        if call.notice and not await play_notice(self.gateway, call, self.campaign(), wait):
            return  # the callee hung up meanwhile: its Hangup event ended the call
        try:
            leg = bridge_leg(call, agent_id, slot.endpoint if slot else None, cid)
            await self.gateway.bridge(call.call_id, leg)
        except CallGone:
            return  # its Hangup event ends the call
        except GatewayError as exc:
            log.warning("bridge failed: %s", exc, extra={"call_id": call.call_id})
            self.advance(call, "timeout", cause=f"bridge failed: {exc}")
            return
        self.advance(call, "bridged")

    async def refresh_agent(self, agent_id: int) -> None:
        """Re-read one agent after a failed compare-and-set (kept unpickable meanwhile)."""
        row = await self.seats.lookup(agent_id)
        slot = self.agents.agents.get(agent_id)
        if slot is None:
            return
        slot.reserving = False
        if row is None:
            self.agents.remove(agent_id, self.timer.now())
        else:
            self.agents.load_one(row, self.timer.now())
        self.match()

    async def _release_agent(self, call: LiveCall) -> None:
        if call.agent_id is not None:
            await self.seats.release(call.agent_id, call.attempt_id)

    async def _play(
        self, call: LiveCall, msg: str, state: str, cause: str | None = None, first: Any = None
    ) -> None:
        if first is not None:  # the voicemail waits for the beep
            await first
        offers = {"abandoning": "abandon", "messaging": "agentless"}
        offer = "callback" if call.inbound else offers.get(state, "")
        finished = await self.messages.message(self.gateway, self.timer, call, msg, offer)
        if finished and call.state == state:
            self.advance(call, "played", cause=cause)

    async def _hangup(self, call: LiveCall) -> None:
        try:
            await self.gateway.hangup(call.call_id)
        except GatewayError as exc:
            log.warning("hangup failed: %s", exc, extra={"call_id": call.call_id})

    def cancel_deadline(self, call: LiveCall) -> None:
        if call.deadline is not None:
            call.deadline.cancel()
            call.deadline = None

    # -- the end --------------------------------------------------------------------------
    def _plan(self, call: LiveCall, outcome: str) -> LeadPlan:
        """The lead's next step after a call no agent talked on."""
        campaign = self.campaign()
        return after_call(
            outcome,
            lead_status=call.lead_status,
            callback_agent_id=call.lead.callback_agent_id,
            attempts_count=call.attempts_count,
            max_attempts=campaign.max_attempts,
            policy=campaign.retry_policy,
            now=self.clock.now(),
        )

    def _finish(self, call: LiveCall, outcome: str, t: float) -> None:
        if self.calls.pop(call.call_id, None) is not None:
            self.by_state["ended"] -= 1
        self.cancel_deadline(call)
        if call.watchdog is not None:
            call.watchdog.cancel()
        campaign = self.campaign()
        if not call.inbound:  # a callback is counted by engine.inbound
            metrics.CALL_OUTCOMES.labels(str(campaign.id), outcome).inc()
        if outcome == "failed" and call.cause in ROBOCALL_REASONS:
            metrics.ROBOCALL_REJECTIONS.labels(str(campaign.id), call.caller_id).inc()
        talk = t - call.connected_t if call.connected_t is not None else None
        connected = call.connected_t is not None
        record = CallRecord(
            attempt_id=call.attempt_id,
            outcome=outcome,
            ended_at=self.clock.now(),
            answer=call.answer,
            answered_at=call.answered_at,
            ring_s=(call.answered_t if call.answered_t is not None else t) - call.dialed_t,
            wait_s=call.answer_wait(t),
            talk_s=talk,
            hangup_cause=call.cause,
            plan=None if connected or call.inbound else self._plan(call, outcome),
            wrap_agent=connected,
            recording_call=call.call_id if call.recorded else None,
            recording_notice=call.notice if call.notice_played else None,
        )
        if call.reserved_agent is not None and call.connected_t is None and call.agent_id is None:
            call.agent_id = call.reserved_agent  # a guaranteed call nobody answered
            call.agent_taken = True
        release = call.agent_taken and call.connected_t is None
        self.record(call, record, release)
        if self.on_ended is not None:
            self.on_ended(call)
        self.kick()
