"""Answering machines on Asterisk: the AMD verdict, and waiting for the beep.

AMD: once answered, the channel is sent (``POST /channels/{id}/continue``) to the
``dialer-amd`` context, where ``AMD()`` sets ``AMDSTATUS`` and ``Stasis(${DIALER_APP},amd)``
brings it back; ``AMDSTATUS`` comes with ``ChannelVarset`` or is read back.

The beep: ARI itself detects no beep (``TALK_DETECT`` only reports talking starting and
stopping). ``AMD()`` returns ``MACHINE`` once the greeting is heard, usually before the beep,
so a message played at once is partly lost. Before a voicemail drop the adapter sets
``DIALER_BEEP_TIMEOUT`` (``POST /channels/{id}/variable``) and sends the channel to the
``dialer-beep`` context, which runs ``WaitForSilence(<ms>,1,${DIALER_BEEP_TIMEOUT})`` (the use
app_waitforsilence.c documents: "first waiting for the spiel to finish, then waiting for the
beep") and returns with ``Stasis(${DIALER_APP},beep)``. ``WAITSTATUS`` says ``SILENCE`` (the
beep has passed: the machine is recording) or ``TIMEOUT``. Either way the message follows.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import TYPE_CHECKING

from dialer.gateway import GatewayError
from dialer.telephony.ari_link import seg
from dialer.telephony.ari_wire import AMD_KINDS
from dialer.telephony.ari_wire import error_text as _message
from dialer.telephony.callbook import SwitchCall

if TYPE_CHECKING:
    from dialer.telephony.ari import AriGateway

log = logging.getLogger("dialer.telephony.ari")
BEEP_GRACE_S = 5.0  # beyond the dialplan's own timeout, before the wait is given up


async def start_amd(gw: AriGateway, call: SwitchCall) -> None:
    params = {"context": gw.config.amd_context, "extension": "s", "priority": "1"}
    status, data = await gw.request("POST", f"/channels/{seg(call.call_id)}/continue", params)
    if status >= 400 and status != 404 and not call.ended:
        log.warning("AMD could not start (%s); the answer counts as human", _message(data))
        gw.book.answer(call, "human")
    elif status < 400:
        gw.book.await_verdict(call, gw.config.amd_timeout_s)


async def read_amd(gw: AriGateway, call: SwitchCall) -> None:
    path = f"/channels/{seg(call.call_id)}/variable"
    status, data = await gw.request("GET", path, {"variable": "AMDSTATUS"})
    if call.ended or (status == 404 and "channel" in _message(data).lower()):
        return
    verdict(gw, call, str(data.get("value", "")) if status == 200 else "")


def verdict(gw: AriGateway, call: SwitchCall, status: str) -> None:
    status = status.strip().upper()
    if status == "HANGUP":
        return  # the callee left during AMD: ChannelDestroyed ends the call
    kind = AMD_KINDS.get(status)
    if kind is None:
        log.warning("AMDSTATUS %r not understood: is AMD() in the dialplan?", status)
        kind = "human"
    gw.book.answer(call, kind)


async def wait_for_beep(gw: AriGateway, call: SwitchCall, timeout_s: float) -> bool:
    """True once the beep has passed, False when ``timeout_s`` ran out (or the call
    ended); ``GatewayError`` if Asterisk would not run the ``dialer-beep`` context."""
    path = f"/channels/{seg(call.call_id)}"
    params = {"variable": "DIALER_BEEP_TIMEOUT", "value": str(max(1, math.ceil(timeout_s)))}
    status, data = await gw.request("POST", path + "/variable", params)
    if status == 404 or call.ended:
        return False
    if status >= 300:
        raise GatewayError(f"Asterisk would not wait for the beep: {_message(data)}")
    passed = call.beep = asyncio.get_running_loop().create_future()
    params = {"context": gw.config.beep_context, "extension": "s", "priority": "1"}
    status, data = await gw.request("POST", path + "/continue", params)
    try:
        if status >= 300:
            if status == 404:
                return False
            raise GatewayError(f"Asterisk would not wait for the beep: {_message(data)}")
        return await asyncio.wait_for(asyncio.shield(passed), timeout_s + BEEP_GRACE_S)
    except TimeoutError:
        log.warning("the %r context did not return the call in time", gw.config.beep_context)
        return False
    finally:
        call.beep = None


async def beep_passed(gw: AriGateway, call: SwitchCall) -> None:
    """The channel is back from ``dialer-beep`` (``Stasis(app,beep)``): read WAITSTATUS."""
    path = f"/channels/{seg(call.call_id)}/variable"
    status, data = await gw.request("GET", path, {"variable": "WAITSTATUS"})
    heard = status == 200 and str(data.get("value", "")).strip().upper() == "SILENCE"
    if call.beep is not None and not call.beep.done():
        call.beep.set_result(heard)
