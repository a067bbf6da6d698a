"""Inbound calls over ARI: a channel the dialplan sends to ``Stasis(<app>,inbound)``.

Asterisk puts the channel into our application unanswered (state ``Ring``) with a
``StasisStart`` whose ``args`` are the dialplan's (``["inbound"]``, or none); the channel
carries the caller (``caller.number``) and the number dialed (``dialplan.exten``). The
dialer answers it with ``POST /channels/{id}/answer`` (Asterisk ARI ``channels.json``:
204; 404 once the channel is gone; 409 while it is not in a Stasis application).
"""

from __future__ import annotations

from typing import Any

from dialer.gateway import CallGone, GatewayError
from dialer.telephony.ari_link import Message, seg
from dialer.telephony.ari_wire import error_text
from dialer.telephony.switch_inbound import SwitchInbound

INBOUND_ARGS = ("inbound", "")  # what the dialplan passes (docs/asterisk.md)


class AriInbound(SwitchInbound):
    """Mixin of ``AriGateway``: the ``InboundSource`` capability."""

    def stasis_inbound(self, msg: Message) -> bool:
        """A ``StasisStart`` of a channel no call owns: an inbound call (True) or not."""
        args = msg.get("args") or [""]
        if str(args[0]) not in INBOUND_ARGS:
            return False
        channel = msg.get("channel") or {}
        caller = (channel.get("caller") or {}).get("number")
        dialed = (channel.get("dialplan") or {}).get("exten")
        return self.inbound_arrived(str(channel.get("id")), caller, dialed)

    async def answer_channel(self, call_id: str) -> None:
        gw: Any = self
        status, data = await gw.request("POST", f"/channels/{seg(call_id)}/answer")
        if status == 404:
            raise CallGone(f"call {call_id} has ended")
        if status >= 300:
            raise GatewayError(f"Asterisk did not answer {call_id}: {error_text(data)}")
