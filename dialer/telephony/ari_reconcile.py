"""After every (re)connection to Asterisk: make the dialer's calls agree with the switch.

Asterisk forgets every channel when it restarts, and drops events for an application
while its WebSocket is away. So after each connection the channel list is read and:

* a call of ours that Asterisk no longer has ends: ``Hangup(by="network", cause="lost")``
  if it was answered, ``Failed("lost")`` if not, ``Hangup(by="dialer")`` if we had
  already asked for its hangup (no attempt stays open forever);
* a call still there is caught up from its snapshot (ringing; answered into our
  application while we were away → the step it missed);
* a channel tagged with our application (``DIALER_APP``) that no call owns, left by a
  crashed process, is hung up; so are our bridges (named ``<app>:<call id>``) of calls
  that ended.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from dialer.gateway import GatewayError
from dialer.telephony.ari_link import Message, seg
from dialer.telephony.callbook import SwitchCall

if TYPE_CHECKING:
    from dialer.telephony.ari import AriGateway

log = logging.getLogger("dialer.telephony.ari")


async def reconcile(gateway: AriGateway) -> None:
    """Make our calls agree with the switch: calls it lost end (``Hangup(network,
    lost)`` or ``Failed(lost)``); steps missed while disconnected are caught up;
    channels and bridges tagged with our application that no call owns are removed."""
    status, channels = await gateway.request("GET", "/channels")
    if status != 200 or not isinstance(channels, list):
        raise GatewayError(f"could not list channels (HTTP {status})")
    present = {ch["id"]: ch for ch in channels}
    for call in list(gateway.book.calls.values()):
        channel = present.get(call.call_id)
        if channel is None:
            gateway.book.lose(call)
            gateway.callee_gone(call, 0)
            continue
        if call.agent_leg in gateway.legs and call.agent_leg not in present:
            gateway.agent_gone(call.agent_leg, 0)
        if call.hangup_requested:
            gateway.tasks.spawn(gateway.kill_channel(call.call_id))
        else:
            _catch_up(gateway, call, channel)
    known = set(gateway.book.calls) | set(gateway.legs) | gateway.monitor_channels()
    known |= set(gateway._xlegs())
    strays = [ch for cid, ch in present.items() if cid not in known]
    for channel in strays:
        if await _is_ours(gateway, channel):
            log.info("hanging up a stray channel", extra={"channel": channel["id"]})
            await gateway.kill_channel(channel["id"])
    await _sweep_bridges(gateway)


def _catch_up(gateway: AriGateway, call: SwitchCall, channel: Message) -> None:
    if channel.get("state") == "Ringing":
        gateway.book.ring(call)
    dialplan = channel.get("dialplan") or {}
    app, _, args = str(dialplan.get("app_data") or "").partition(",")
    if dialplan.get("app_name") == "Stasis" and app == gateway.config.app:
        gateway.stage(call, args.split(",")[0])
    elif channel.get("state") == "Up":
        call.up = True


async def _is_ours(gateway: AriGateway, channel: Message) -> bool:
    variables = channel.get("channelvars")
    if isinstance(variables, dict) and "DIALER_APP" in variables:
        return bool(variables["DIALER_APP"] == gateway.config.app)
    dialplan = channel.get("dialplan") or {}
    if dialplan.get("app_name") == "Stasis":
        return str(dialplan.get("app_data") or "").split(",")[0] == gateway.config.app
    path = f"/channels/{seg(channel['id'])}/variable"
    status, data = await gateway.request("GET", path, {"variable": "DIALER_APP"})
    return status == 200 and isinstance(data, dict) and data.get("value") == gateway.config.app


async def _sweep_bridges(gateway: AriGateway) -> None:
    status, bridges = await gateway.request("GET", "/bridges")
    if status != 200 or not isinstance(bridges, list):
        return
    prefix = f"{gateway.config.app}:"
    for bridge in bridges:
        name = str(bridge.get("name") or "")
        if name.startswith(prefix) and name[len(prefix) :] not in gateway.book.calls:
            await gateway.request("DELETE", f"/bridges/{seg(bridge['id'])}")
