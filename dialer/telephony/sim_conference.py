"""Transfers and conferences on the simulated gateway (``gateway.Conferencing``).

A call's second leg rings and answers after fixed delays: an agent's endpoint answers at
``LEG_AGENT_ANSWER_S``; an outside number at ``LEG_PHONE_ANSWER_S`` unless it does not exist
(``Failed("unallocated")``) or is one of ``SimGatewayParams.legs_unanswered`` (``NoAnswer``
at the ring timeout). A leg ends when it is dropped or when its call ends (the engine then
closes it either way). Hold only changes what the callee hears, so it is a flag here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dialer.gateway import (
    Answered,
    CallEvent,
    EventSink,
    Failed,
    GatewayError,
    Hangup,
    HangupBy,
    LegRequest,
    NoAnswer,
    Ringing,
)
from dialer.timer import Timer, TimerHandle

if TYPE_CHECKING:
    from dialer.telephony.sim import SimGatewayParams, _Call

LEG_RINGING_S = 0.3
LEG_AGENT_ANSWER_S = 1.0
LEG_PHONE_ANSWER_S = 3.0


@dataclass(slots=True)
class SimLeg:
    request: LegRequest
    on_event: EventSink
    answered: bool = False
    handles: list[TimerHandle] = field(default_factory=list)


class SimConferencing:
    """The ``Conferencing`` half of ``SimulatedGateway`` (a mixin: uses its calls and timer)."""

    timer: Timer
    params: SimGatewayParams

    _calls: dict[str, _Call]

    if TYPE_CHECKING:

        def _live(self, call_id: str) -> _Call: ...

    def _conf_init(self) -> None:
        self._legs: dict[str, SimLeg] = {}  # call id → its second leg
        self._held: set[str] = set()
        self.legs_dialed = 0

    async def hold(self, call_id: str) -> None:
        self._agent_call(call_id)
        self._held.add(call_id)

    async def unhold(self, call_id: str) -> None:
        self._live(call_id)
        self._held.discard(call_id)

    def on_hold(self, call_id: str) -> bool:
        return call_id in self._held

    async def add_leg(self, request: LegRequest, on_event: EventSink) -> None:
        call = self._live(request.call_id)
        if call.answered is None:
            raise GatewayError(f"call {request.call_id} has not been answered")
        if request.call_id in self._legs:
            raise GatewayError(f"call {request.call_id} already has a second leg")
        leg = SimLeg(request, on_event)
        self._legs[request.call_id] = leg
        self.legs_dialed += 1
        timer, lid = self.timer, request.leg_id
        later = leg.handles.append
        ring = Ringing(lid, timer.now() + LEG_RINGING_S)
        later(timer.call_later(LEG_RINGING_S, lambda: self._leg_emit(leg, ring)))
        phone = request.phone_e164
        if phone is not None and not self.params.number_exists(phone):
            later(timer.call_later(LEG_RINGING_S, lambda: self._leg_final(leg, "unallocated")))
        elif phone is not None and phone in self.params.legs_unanswered:
            later(timer.call_later(request.ring_timeout_s, lambda: self._leg_final(leg, None)))
        else:
            delay = LEG_AGENT_ANSWER_S if phone is None else LEG_PHONE_ANSWER_S
            later(timer.call_later(delay, lambda: self._leg_answer(leg)))

    async def drop_leg(self, call_id: str, leg_id: str) -> None:
        leg = self._legs.get(call_id)
        if leg is not None and leg.request.leg_id == leg_id:
            self._leg_end(leg, "dialer", later=True)

    async def drop_agent(self, call_id: str) -> None:
        call = self._agent_call(call_id)
        leg = self._legs.get(call_id)
        if leg is not None and leg.answered:  # the transfer is complete: the leg is the agent
            self._legs.pop(call_id)
            for handle in leg.handles:
                handle.cancel()
            return
        call.bridged = False

    # -- plumbing -------------------------------------------------------------------------
    def _agent_call(self, call_id: str) -> _Call:
        call = self._live(call_id)
        if not call.bridged:
            raise GatewayError(f"call {call_id} has no agent")
        return call

    def _leg_emit(self, leg: SimLeg, event: CallEvent) -> None:
        if self._legs.get(leg.request.call_id) is leg:
            leg.on_event(event)

    def _leg_answer(self, leg: SimLeg) -> None:
        if self._legs.get(leg.request.call_id) is not leg:
            return
        leg.answered = True
        call = self._calls.get(leg.request.call_id)
        if call is not None and not call.bridged:  # nobody else on the call: it is the agent
            call.bridged = True
            self._legs.pop(leg.request.call_id)
        leg.on_event(Answered(leg.request.leg_id, self.timer.now(), "human"))

    def _leg_final(self, leg: SimLeg, reason: str | None) -> None:
        if self._legs.get(leg.request.call_id) is not leg:
            return
        self._legs.pop(leg.request.call_id)
        lid, t = leg.request.leg_id, self.timer.now()
        leg.on_event(NoAnswer(lid, t) if reason is None else Failed(lid, t, reason))

    def _leg_end(self, leg: SimLeg, by: HangupBy, *, later: bool) -> None:
        if self._legs.get(leg.request.call_id) is not leg:
            return
        self._legs.pop(leg.request.call_id)
        for handle in leg.handles:
            handle.cancel()
        lid, t = leg.request.leg_id, self.timer.now()
        event: CallEvent = Hangup(lid, t, by) if leg.answered else NoAnswer(lid, t)
        if later:
            self.timer.call_later(0.0, lambda: leg.on_event(event))
        else:
            leg.on_event(event)

    def _drop_leg_of(self, call_id: str) -> None:
        """The call ended: its leg ends with it."""
        self._held.discard(call_id)
        leg = self._legs.get(call_id)
        if leg is not None:
            self._leg_end(leg, "network", later=True)
