"""Inbound calls on the real switches (Asterisk ARI, FreeSWITCH ESL): the ``InboundSource``
capability both adapters share.

The switch's dialplan hands a call to one of the campaigns' numbers to the dialer (ARI:
``Stasis(<app>,inbound)``, docs/asterisk.md; ESL: ``park`` with ``dialer_inbound=true``,
docs/freeswitch.md). The adapter puts the channel in its call book as a call nobody
listens to yet and reports ``Inbound(call_id, t, caller, dialed)``; the engine's ``answer``
answers the channel (the adapter's ``answer_channel``) and from then on the call is an
answered call like an outbound one: ``bridge``, ``play``, ``hangup``, ``Dtmf``, ``Hangup``.
Without a handler (no engine listens) the channel is left to the dialplan.
"""

from __future__ import annotations

import logging
from typing import Any

from dialer.gateway import CallEvent, CallGone, EventSink, Inbound, InboundHandler, OriginateRequest

log = logging.getLogger(__name__)

INBOUND_VARIABLE = ("direction", "inbound")
RING_S = 60.0  # nominal: an inbound call has no ring timeout of ours
NO_NUMBER = "+0"  # stands for a withheld caller number inside the adapter only


def e164(raw: object) -> str:
    """A switch's number as E.164 (``+`` and digits); ``""`` when it has no digits (a
    withheld caller). Trunks often send national or bare international digits: those are
    taken as international (``14155550142`` → ``+14155550142``)."""
    text = str(raw or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        return ""
    return "+" + digits.lstrip("0") if not text.startswith("+") else "+" + digits


def is_inbound(request: OriginateRequest) -> bool:
    return INBOUND_VARIABLE in request.variables


class SwitchInbound:
    """Mixin of ``SwitchGateway`` subclasses: inbound channels as calls of the book."""

    _inbound_handler: InboundHandler | None = None

    def on_inbound(self, handler: InboundHandler) -> None:
        self._inbound_handler = handler

    def inbound_arrived(self, call_id: str, caller: object, dialed: object) -> bool:
        """A channel the dialer did not originate asks for the dialer: reported to the
        handler (True), or not (no handler, or a number missing: False)."""
        gw: Any = self
        handler = self._inbound_handler
        number, to = e164(caller), e164(dialed)
        if handler is None or not to or gw.book.get(call_id) is not None:
            return False
        request = OriginateRequest(
            call_id, number or NO_NUMBER, to, RING_S, amd=False, variables=(INBOUND_VARIABLE,)
        )
        call = gw.book.add(request, _nobody)
        call.rang, call.stage = True, "inbound"
        log.info("inbound call", extra={"call_id": call_id, "dialed": to})
        handler(Inbound(call_id, gw.timer.now(), number, to))
        return True

    async def answer(self, call_id: str, on_event: EventSink) -> None:
        gw: Any = self
        call = gw.book.live(call_id)
        if not is_inbound(call.request) or call.answered is not None:
            raise CallGone(f"call {call_id} is not an inbound call waiting for an answer")
        await gw.answer_channel(call_id)
        if call.ended:
            raise CallGone(f"call {call_id} has ended")
        call.on_event, call.up, call.answered = on_event, True, "human"


def _nobody(event: CallEvent) -> None:
    """Events of an inbound call before its answer: the engine has not taken it yet."""
