"""Inbound calls over the event socket: a channel the dialplan parks for the dialer.

docs/freeswitch.md: the trunk's context sends the campaigns' numbers to an extension that
runs ``set dialer_app=<DIALER_ESL_APP>`` and ``park``. FreeSWITCH then fires
``CHANNEL_PARK`` for the unanswered inbound channel (``Call-Direction: inbound``; like
every channel event of that kind it carries the channel variables as ``variable_*``,
switch_channel_event_set_extended_data); ``Caller-Caller-ID-Number`` is the caller,
``Caller-Destination-Number`` the number dialed. The dialer answers it with ``uuid_answer``
(mod_commands: ``+OK``, or ``-ERR No such channel!`` once it is gone).
"""

from __future__ import annotations

from typing import Any

from dialer.gateway import CallGone, GatewayError
from dialer.telephony.esl_link import Headers
from dialer.telephony.switch_inbound import SwitchInbound


class EslInbound(SwitchInbound):
    """Mixin of ``EslGateway``: the ``InboundSource`` capability."""

    def park_inbound(self, headers: Headers, body: str) -> None:
        """``CHANNEL_PARK``: an inbound channel parked for this dialer is a callback (our
        own originated legs park too: they are in the book and left alone)."""
        gw: Any = self
        uid = headers.get("Unique-ID", "")
        if uid in gw.book.calls or uid in gw.legs:
            return
        if headers.get("Call-Direction") != "inbound":
            return
        if headers.get("variable_dialer_app") != gw.config.app:
            return  # parked by another application (or another dialer process)
        caller = headers.get("Caller-Caller-ID-Number")
        self.inbound_arrived(uid, caller, headers.get("Caller-Destination-Number"))

    async def answer_channel(self, call_id: str) -> None:
        gw: Any = self
        reply = await gw.link.api(f"uuid_answer {call_id}")
        if reply.startswith("+OK"):
            return
        if "No such channel" in reply:
            raise CallGone(f"call {call_id} has ended")
        raise GatewayError(f"FreeSWITCH did not answer {call_id}: {reply.strip()}")
