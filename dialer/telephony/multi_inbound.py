"""Inbound calls on a ``MultiSwitchGateway``: each member that reports inbound calls hands
them to the one handler; the call stays on the switch it arrived on (its answer, bridge,
messages and hang-up go there)."""

from __future__ import annotations

from typing import Any

from dialer.gateway import CallGone, EventSink, Inbound, InboundHandler, InboundSource


class MultiInbound:
    """Mixin of ``MultiSwitchGateway``: the ``InboundSource`` capability."""

    def on_inbound(self, handler: InboundHandler) -> None:
        gw: Any = self
        gw.ringing = {}  # inbound call id → its switch, until answered
        for switch in gw.switches:
            if isinstance(switch.gateway, InboundSource):
                switch.gateway.on_inbound(self._from(switch, handler))

    def _from(self, switch: Any, handler: InboundHandler) -> InboundHandler:
        gw: Any = self

        def arrived(inbound: Inbound) -> None:
            gw.ringing[inbound.call_id] = switch
            handler(inbound)

        return arrived

    async def answer(self, call_id: str, on_event: EventSink) -> None:
        gw: Any = self
        switch = getattr(gw, "ringing", {}).pop(call_id, None)
        if switch is None:
            raise CallGone(f"call {call_id} is not an inbound call waiting for an answer")
        gw.by_call[call_id] = switch
        switch.calls.add(call_id)
        try:
            await switch.gateway.answer(call_id, gw._sink(switch, call_id, on_event))
        except BaseException:
            gw._forget(switch, call_id)
            raise
