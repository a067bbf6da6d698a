"""Carrying out transfers and conferences, in the runner that holds the call.

A leg asked for by ``engine.transferask`` arrives on the agent bus; the runner of the
call's campaign takes it (once, fenced by its lease) and drives the switch through the
gateway's ``Conferencing`` capability:

* **blind**: the callee goes on music on hold and the first agent off the call at once
  (their attempt closes ``completed``, cause ``transferred``; they wrap up); the leg is
  dialed; when it answers the callee is connected to it.
* **warm**: the callee waits on music while the agent talks to the target; ``complete``
  takes the first agent off and connects the callee, ``cancel`` drops the leg and brings
  the callee back to the first agent.
* **conference**: the leg joins the conversation; ``leave`` takes the first agent off.
* a **campaign** target first waits (callee on music) for that campaign's agent free the
  longest, up to the campaign's ``transfer_wait_s``; then the leg is dialed to that agent.

When nobody takes the call: a warm transfer or a conference goes back to the first agent
(still on the call). A blind transfer goes back to the first agent if they are free again,
else the callee hears the call's campaign's abandon (safe-harbor) message and the call ends.

Once connected, the leg is the call: a ``LiveCall`` for the leg's attempt takes the
callee's channel in ``CallFlow`` and ends like any connected call (the target agent wraps
up). Between the first agent leaving and the leg answering (blind), the callee's events
come here (``CallFlow.adopted``).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from dialer import metrics
from dialer.engine.livecall import LiveCall
from dialer.engine.series import TRANSFER_MODES
from dialer.engine.transferlegs import Leg, LegBook
from dialer.gateway import (
    FINAL_EVENTS,
    AgentLeg,
    Answered,
    CallEvent,
    Conferencing,
    GatewayError,
    Hangup,
    LegRequest,
    Ringing,
)

if TYPE_CHECKING:
    from dialer.engine.runner import CampaignRunner

log = logging.getLogger(__name__)
QUEUE_POLL_S = 1.0  # call-world seconds between looks for a free agent of a target campaign
CANNOT = "this switch cannot transfer calls"


@dataclass(frozen=True, slots=True)
class _Now:
    t: float
    at: datetime


class Transfers:
    """The legs of one runner's calls (see the module docstring)."""

    def __init__(self, runner: CampaignRunner) -> None:
        self.runner = runner
        self.book = LegBook(runner)
        self.legs: dict[int, Leg] = {}
        runner.flow.on_ended = self.call_ended
        for mode in TRANSFER_MODES:  # exported at 0 (dashboards: increase())
            metrics.TRANSFERS.labels(str(runner.campaign_id), mode, "completed")

    @property
    def gateway(self) -> Conferencing:
        gateway = self.runner.gateway
        assert isinstance(gateway, Conferencing)
        return gateway

    def _now(self) -> _Now:
        return _Now(self.runner.timer.now(), self.runner.clock.now())

    # -- the bus --------------------------------------------------------------------------
    def on_bus(self, message: dict[str, Any]) -> None:
        op, parent, leg_id = message.get("op"), message.get("attempt"), message.get("leg")
        if not isinstance(parent, int) or not isinstance(leg_id, int):
            return
        if op == "start":
            self.runner.spawn(self.start(parent, leg_id))
            return
        leg = self.legs.get(leg_id)
        if (
            leg is not None
            and leg.parent.attempt_id == parent
            and op in ("complete", "cancel", "leave")
        ):
            self.runner.spawn(self._guard(leg, getattr(self, f"_{op}")(leg)))

    async def start_pending(self) -> None:
        """Legs asked for while this runner was not listening (bus reconnect, takeover)."""
        for row in await self.book.pending():
            await self.start(row["parent_attempt_id"], row["id"])

    # -- start ----------------------------------------------------------------------------
    async def start(self, parent_id: int, leg_id: int) -> None:
        flow = self.runner.flow
        parent = next((c for c in flow.calls.values() if c.attempt_id == parent_id), None)
        if parent is None:
            return  # not this runner's call (or gone: recovery closes the leg)
        row = await self.book.take(leg_id, parent_id)
        if row is None:
            return
        now = self._now()
        leg = Leg.from_row(row, parent, now.t)
        self.legs[leg.id] = leg
        if parent.state != "connected":
            await self._close(leg, "failed", "the call was not connected any more", "failed")
            return
        if not isinstance(self.runner.gateway, Conferencing):
            await self._close(leg, "failed", CANNOT, "failed")
            return
        await self._guard(leg, self._begin(leg))

    async def _begin(self, leg: Leg) -> None:
        gw, call_id = self.gateway, leg.call_id
        if leg.kind in ("blind", "warm"):
            await gw.hold(call_id)
        if leg.kind == "blind":
            await gw.drop_agent(call_id)
            self._hand_over(leg, "transferred", adopt=True)
        if leg.agent_id is None and leg.phone is None:
            await self._queue(leg)
        else:
            await self._dial(leg)

    async def _guard(self, leg: Leg, step: Any) -> None:
        """Run a step; a switch error (the call ended, the switch refused) fails the leg."""
        try:
            await step
        except GatewayError as exc:
            log.warning("transfer step failed: %s", exc, extra={"call_id": leg.call_id})
            if not leg.closed:
                await self._abort(leg, f"switch: {exc}")

    async def _abort(self, leg: Leg, why: str) -> None:
        if leg.handed and leg.child is None:  # the callee has nobody: end the call
            await self._hang_up(leg.call_id)
        elif not leg.handed:
            await self._unhold(leg)
        await self._close(leg, "failed", why, "failed")

    def _hand_over(self, leg: Leg, cause: str, *, adopt: bool) -> None:
        """The first agent is off the call: close their attempt (they wrap up)."""
        leg.handed = True
        flow = self.runner.flow
        if adopt:
            flow.adopted[leg.call_id] = partial(self._callee_event, leg)
        if leg.parent.state == "connected":
            flow.advance(leg.parent, "hangup", cause=cause)

    # -- a campaign's queue ---------------------------------------------------------------
    async def _queue(self, leg: Leg) -> None:
        await self.book.state(leg, "queued")
        leg.deadline_t = self.runner.timer.now() + leg.wait_s
        await self._try_claim(leg)

    async def _try_claim(self, leg: Leg) -> None:
        if leg.closed or leg.state != "queued":
            return
        found = await self.book.claim_campaign_agent(leg)
        if found:
            await self._guard(leg, self._dial(leg))
            return
        assert leg.deadline_t is not None
        if self.runner.timer.now() >= leg.deadline_t:
            why = f"no agent of campaign {leg.campaign_id} free within {leg.wait_s:g} s"
            await self._guard(leg, self._nobody(leg, why))
            return
        leg.poll = self.runner.timer.call_later(QUEUE_POLL_S, partial(self._poll, leg))

    def _poll(self, leg: Leg) -> None:
        self.runner.spawn(self._try_claim(leg))

    # -- the leg --------------------------------------------------------------------------
    async def _dial(self, leg: Leg) -> None:
        campaign = self.runner.config
        request = LegRequest(
            call_id=leg.call_id,
            leg_id=leg.leg_call_id,
            caller_id=leg.parent.caller_id or campaign.caller_id or "",
            ring_timeout_s=campaign.ring_timeout_s,
            agent=None if leg.agent_id is None else AgentLeg(leg.agent_id, leg.endpoint),
            phone_e164=leg.phone if leg.agent_id is None else None,
        )
        await self.book.state(leg, "ringing")
        await self.gateway.add_leg(request, partial(self._leg_event, leg))

    def _leg_event(self, leg: Leg, event: CallEvent) -> None:
        if leg.closed or event.call_id != leg.leg_call_id or isinstance(event, Ringing):
            return
        if isinstance(event, Answered):
            leg.answered_t, leg.answered_at = event.t, self.runner.clock.now()
            self.runner.spawn(self._guard(leg, self._answered(leg)))
        elif isinstance(event, Hangup) and leg.answered_t is not None:
            self.runner.spawn(self._guard(leg, self._target_left(leg)))
        elif not isinstance(event, Answered) and leg.answered_t is None:
            outcome = type(event).__name__.lower().replace("noanswer", "no_answer")
            if outcome == "hangup":
                outcome = "no_answer"
            why = f"the target did not answer ({outcome})"
            self.runner.spawn(self._guard(leg, self._unanswered(leg, why)))

    async def _answered(self, leg: Leg) -> None:
        now = self._now()
        if leg.kind == "blind":
            await self.gateway.unhold(leg.call_id)
            await self._connect(leg, now)
            return
        state = "consulting" if leg.kind == "warm" else "joined"
        await self.book.connected(leg, state, now.at)

    async def _connect(self, leg: Leg, now: _Now) -> None:
        """The callee is the leg's now: it becomes the call (see the module docstring)."""
        await self.book.connected(leg, "completed", now.at, transferred=True)
        flow = self.runner.flow
        flow.adopted.pop(leg.call_id, None)
        parent = leg.parent
        child = LiveCall(
            call_id=leg.call_id,
            lead=parent.lead,
            attempt_id=leg.id,
            started_at=leg.started_at,
            mode="transfer",
            dialed_t=leg.started_t,
            lead_status=parent.lead_status,
            state="connected",
            answered_t=leg.answered_t,
            answered_at=leg.answered_at,
            connected_t=now.t,
            agent_id=leg.agent_id,
            agent_taken=leg.agent_id is not None,
            caller_id=parent.caller_id,
        )
        leg.child = child
        flow.calls[leg.call_id] = child
        flow.by_state["connected"] += 1
        if leg.agent_id is not None:
            flow.agents.mark(
                leg.agent_id, "on_call", now.t, attempt=leg.id, campaign=leg.campaign_id
            )
        self._count(leg, "completed")
        del self.legs[leg.id]

    async def _unanswered(self, leg: Leg, why: str) -> None:
        if leg.kind == "blind":
            await self._nobody(leg, why)
            return
        await self._unhold(leg)
        await self._close(leg, "no_answer", why, "failed")

    async def _target_left(self, leg: Leg) -> None:
        """The target hung up before the transfer completed (or left the conference)."""
        await self._unhold(leg)
        wrap = leg.kind == "conference"
        await self._close(leg, "completed", "the target hung up", "failed", wrap=wrap)

    async def _nobody(self, leg: Leg, why: str) -> None:
        """Nobody took the call: back to the first agent, or the abandon message."""
        if not leg.handed:
            await self._unhold(leg)
            await self._close(leg, "failed", f"{why}: back to the transferring agent", "fallback")
            return
        if not leg.fell_back and await self.book.claim_first_agent(leg):
            leg.fell_back = True
            self._count(leg, "fallback")
            await self._dial(leg)
            return
        await self._close(leg, "failed", f"{why}: the abandon message was played", "fallback")
        message = self.runner.config.safe_harbor_message
        try:
            await self.gateway.unhold(leg.call_id)
            await self.runner.gateway.play(leg.call_id, message)
        finally:
            await self._hang_up(leg.call_id)

    # -- the agent's controls -------------------------------------------------------------
    async def _complete(self, leg: Leg) -> None:
        if leg.state != "consulting":
            return
        await self.gateway.drop_agent(leg.call_id)  # the answered leg becomes the agent
        await self.gateway.unhold(leg.call_id)
        self._hand_over(leg, "transferred", adopt=False)
        await self._connect(leg, self._now())

    async def _leave(self, leg: Leg) -> None:
        if leg.state != "joined":
            return
        await self.gateway.drop_agent(leg.call_id)
        self._hand_over(leg, "left the conference", adopt=False)
        await self._connect(leg, self._now())

    async def _cancel(self, leg: Leg) -> None:
        if leg.handed or leg.closed:
            return
        answered = leg.answered_t is not None
        await self._close(
            leg, "completed" if answered else "no_answer", "transfer cancelled", "cancelled"
        )
        await self.gateway.drop_leg(leg.call_id, leg.leg_call_id)
        await self._unhold(leg)

    # -- the end --------------------------------------------------------------------------
    def call_ended(self, call: LiveCall) -> None:
        """``CallFlow``'s hook: a call ended; a leg still in progress for it ends too."""
        for leg in list(self.legs.values()):
            if leg.parent is call and not leg.handed and not leg.closed:
                self.runner.spawn(self._call_gone(leg))

    async def _call_gone(self, leg: Leg) -> None:
        answered = leg.answered_t is not None
        outcome = "completed" if answered else "no_answer"
        wrap = answered and leg.kind == "conference"
        await self._close(leg, outcome, "the call ended first", "failed", wrap=wrap)
        with contextlib.suppress(GatewayError):
            await self.gateway.drop_leg(leg.call_id, leg.leg_call_id)

    def _callee_event(self, leg: Leg, event: CallEvent) -> None:
        """The callee's events while no agent has them (blind, before the leg answers)."""
        if isinstance(event, FINAL_EVENTS):
            self.runner.flow.adopted.pop(leg.call_id, None)
            if not leg.closed:
                self.runner.spawn(self._callee_left(leg))

    async def _callee_left(self, leg: Leg) -> None:
        await self._close(leg, "human", "the callee hung up during the transfer", "failed")
        with contextlib.suppress(GatewayError):
            await self.gateway.drop_leg(leg.call_id, leg.leg_call_id)

    async def _close(
        self, leg: Leg, outcome: str, why: str, result: str, *, wrap: bool = False
    ) -> None:
        if leg.closed:
            return
        leg.closed = True
        if leg.poll is not None:
            leg.poll.cancel()
        self.legs.pop(leg.id, None)
        self._count(leg, result)
        await self.book.close(leg, outcome, why, self._now(), wrap=wrap)

    async def _unhold(self, leg: Leg) -> None:
        try:
            await self.gateway.unhold(leg.call_id)
        except GatewayError as exc:
            log.info("unhold failed: %s", exc, extra={"call_id": leg.call_id})

    async def _hang_up(self, call_id: str) -> None:
        try:
            await self.runner.gateway.hangup(call_id)
        except GatewayError as exc:
            log.info("hangup failed: %s", exc, extra={"call_id": call_id})

    def _count(self, leg: Leg, result: str) -> None:
        metrics.TRANSFERS.labels(str(self.runner.campaign_id), leg.kind, result).inc()
