"""Inbound calls on the simulated gateway: callees who were called call the number back.

``place_inbound`` rings the dialer from ``caller`` on ``dialed`` (tests and the demo); with
``SimGatewayParams.callback_share`` set, a share of the callees the dialer called (answered
or missed) call the caller ID they saw back, ``callback_after_s`` (mean, exponential) after
their call ended. An inbound call rings until the engine answers it or the caller gives up
(``INBOUND_RING_S``); once answered it is a live human call like an answered outbound one:
it talks its script's ``talk_s`` when bridged, hears messages (and may press the opt-out
key during the first one), and hangs up after ``patience_s`` if nothing happens.
"""

from __future__ import annotations

import itertools
import random
from typing import TYPE_CHECKING, Any

from dialer.gateway import (
    CallGone,
    EventSink,
    Inbound,
    InboundHandler,
    OriginateRequest,
)
from dialer.sim.model import CallOutcome, CallScript

if TYPE_CHECKING:
    from dialer.telephony.sim import _Call

INBOUND_RING_S = 30.0  # a caller the dialer never answers gives up after this
INBOUND_PATIENCE_S = 60.0  # an answered caller left alone hangs up after this
INBOUND = ("direction", "inbound")
_SEQ = itertools.count(1)
_SEEN = (CallOutcome.HUMAN, CallOutcome.MACHINE, CallOutcome.NO_ANSWER)  # a call they saw


class SimInbound:
    """Mixin of ``SimulatedGateway``: the ``InboundSource`` capability."""

    _inbound_handler: InboundHandler | None = None
    _callback_rng: random.Random | None = None
    inbound_placed = 0

    def on_inbound(self, handler: InboundHandler) -> None:
        self._inbound_handler = handler

    def place_inbound(
        self, caller: str, dialed: str, *, talk_s: float = 30.0, presses: bool = False
    ) -> str:
        """Ring the dialer from ``caller`` on ``dialed``; returns the call id. ``presses``:
        the caller presses the opt-out key during the first message they hear."""
        from dialer.telephony.sim import _Call

        gw: Any = self
        call_id = f"sim-in-{next(_SEQ)}"
        request = OriginateRequest(
            call_id, caller, dialed, INBOUND_RING_S, amd=False, variables=(INBOUND,)
        )
        script = CallScript(CallOutcome.HUMAN, 0.0, talk_s, 0.0, INBOUND_PATIENCE_S)
        call = _Call(request, script, "human", _ignore, presses=presses)
        gw._calls[call_id] = call
        self.inbound_placed += 1
        gw._at(call, INBOUND_RING_S, lambda: gw._end(call, "callee", cause="no answer"))
        handler = self._inbound_handler
        if handler is not None:
            handler(Inbound(call_id, gw.timer.now(), caller, dialed))
        return call_id

    async def answer(self, call_id: str, on_event: EventSink) -> None:
        gw: Any = self
        call: _Call | None = gw._calls.get(call_id)
        if call is None:
            raise CallGone(f"call {call_id} has ended")
        if INBOUND not in call.request.variables or call.answered is not None:
            raise CallGone(f"call {call_id} is not an inbound call waiting for an answer")
        gw._cancel(call)
        call.on_event, call.answered = on_event, "human"
        gw._at(call, call.script.patience_s, lambda: gw._end(call, "callee", cause="waited"))

    def _call_back_later(self, call: _Call) -> None:
        """Maybe schedule this callee's callback (a call of the dialer that just ended)."""
        gw: Any = self
        share = gw.params.callback_share
        if not share or INBOUND in call.request.variables or self._inbound_handler is None:
            return
        if call.script.outcome not in _SEEN or not gw.params.number_exists(call.request.phone_e164):
            return  # nobody saw this call: nobody calls back
        if self._callback_rng is None:
            self._callback_rng = random.Random(gw._rng.random())
        rng = self._callback_rng
        if rng.random() >= share:
            return
        after = rng.expovariate(1.0 / gw.params.callback_after_s)
        caller, dialed = call.request.phone_e164, call.request.caller_id
        presses = rng.random() < gw.params.opt_out_share
        talk = gw.params.callee.sample(rng, 0.0).talk_s
        gw.timer.call_later(
            after, lambda: self.place_inbound(caller, dialed, talk_s=talk, presses=presses)
        )


def _ignore(event: object) -> None:
    """Events of an inbound call before it is answered go nowhere."""
