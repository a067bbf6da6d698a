"""Transfers and conferences over ARI (``gateway.Conferencing``), a mixin of ``AriGateway``.

Asterisk terms (tests/fakes/ari_api_docs: bridges.json, channels.json):

* the call's mixing bridge (``{call}-bridge``, made when the agent was bridged) holds the
  callee and the agent; a second leg joins the same bridge, so three parties talk;
* **hold**: the callee leaves the bridge (``POST /bridges/{id}/removeChannel``) and hears
  music on hold (``POST /channels/{callee}/moh``); **unhold** stops the music
  (``DELETE /channels/{callee}/moh``) and puts them back (``addChannel``);
* **add_leg**: ``POST /channels/{leg}`` to the agent's endpoint or the outside number, into
  our Stasis application with ``appArgs=leg``; its ``StasisStart`` is the answer, after
  which it is added to the bridge; ``ChannelDestroyed`` ends it (``Hangup`` if answered,
  else ``Busy``/``NoAnswer``/``Failed`` from the cause);
* **drop_agent** hangs up the agent's channel; an answered leg becomes the call's agent
  channel (an agent leg that hangs up later ends the call, as in ``AriGateway.bridge``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dialer.gateway import (
    Answered,
    CallGone,
    EventSink,
    GatewayError,
    LegRequest,
    Ringing,
)
from dialer.telephony.ari_link import Message, seg
from dialer.telephony.switch_legs import SwitchLeg, SwitchLegs

if TYPE_CHECKING:
    from dialer.telephony.callbook import CallBook, SwitchCall
    from dialer.telephony.switch_config import AriConfig
    from dialer.timer import Timer


class AriConferencing(SwitchLegs):
    """The ``Conferencing`` half of ``AriGateway`` (see the module docstring)."""

    book: CallBook
    config: AriConfig
    timer: Timer
    legs: dict[str, SwitchCall]  # agent channels → their call
    tasks: Any  # the adapter's task set (``spawn``)

    if TYPE_CHECKING:

        async def request(
            self,
            method: str,
            path: str,
            params: dict[str, str] | None = None,
            body: dict[str, Any] | None = None,
        ) -> tuple[int, Any]: ...

        async def kill_channel(self, channel_id: str) -> None: ...

    def _with_agent(self, call_id: str) -> SwitchCall:
        call = self.book.answered(call_id)
        if call.bridge_id is None:
            raise GatewayError(f"call {call_id} has no bridge")
        return call

    async def _ok(self, method: str, path: str, params: dict[str, str] | None = None) -> None:
        status, data = await self.request(method, path, params)
        if status == 404 and path.startswith("/channels/"):
            raise CallGone(f"channel gone ({path})")
        if status >= 300:
            message = data.get("message") if isinstance(data, dict) else data
            raise GatewayError(f"Asterisk refused {method} {path} (HTTP {status}: {message})")

    async def hold(self, call_id: str) -> None:
        call = self._with_agent(call_id)
        assert call.bridge_id is not None
        bridge = seg(call.bridge_id)
        await self._ok("POST", f"/bridges/{bridge}/removeChannel", {"channel": call_id})
        await self._ok("POST", f"/channels/{seg(call_id)}/moh")

    async def unhold(self, call_id: str) -> None:
        call = self._with_agent(call_id)
        assert call.bridge_id is not None
        status, _ = await self.request("DELETE", f"/channels/{seg(call_id)}/moh")
        if status == 404:
            raise CallGone(f"call {call_id} has ended")
        bridge = seg(call.bridge_id)
        status, _ = await self.request(
            "POST", f"/bridges/{bridge}/addChannel", {"channel": call_id}
        )
        if status not in (204, 409):  # 409: already in a bridge (it was never held)
            raise GatewayError(f"could not bring the callee back (HTTP {status})")

    async def add_leg(self, request: LegRequest, on_event: EventSink) -> None:
        call = self._with_agent(request.call_id)
        if any(x.call is call for x in self._xlegs().values()):
            raise GatewayError(f"call {request.call_id} already has a second leg")
        strings = self.config.strings
        endpoint = (
            strings.agent_leg(request.agent)
            if request.agent is not None
            else strings.callee(str(request.phone_e164))
        )
        leg = SwitchLeg(call, request, on_event)
        self._xlegs()[request.leg_id] = leg
        params = {
            "endpoint": endpoint,
            "app": self.config.app,
            "appArgs": "leg",
            "callerId": request.caller_id,
            "timeout": str(int(request.ring_timeout_s)),
        }
        body = {"variables": {"DIALER_APP": self.config.app, "DIALER_CALL_ID": call.call_id}}
        status, data = await self.request("POST", f"/channels/{seg(request.leg_id)}", params, body)
        if status != 200:
            self._xlegs().pop(request.leg_id, None)
            message = data.get("message") if isinstance(data, dict) else data
            raise GatewayError(f"could not dial the transfer leg: {message}")

    # -- events (dispatched from AriGateway) ----------------------------------------------
    def leg_started(self, channel_id: str) -> bool:
        """``StasisStart`` of a leg: it answered; into the call's bridge."""
        leg = self._xlegs().get(channel_id)
        if leg is None:
            return False
        self.tasks.spawn(self._join_leg(leg))
        return True

    async def _join_leg(self, leg: SwitchLeg) -> None:
        call = leg.call
        if call.ended or call.bridge_id is None:
            await self.kill_channel(leg.request.leg_id)
            return
        bridge = seg(call.bridge_id)
        status, _ = await self.request(
            "POST", f"/bridges/{bridge}/addChannel", {"channel": leg.request.leg_id}
        )
        if status != 204:
            await self.kill_channel(leg.request.leg_id)
            return
        leg.answered = True
        leg.on_event(Answered(leg.request.leg_id, self.timer.now(), "human"))
        if call.agent_leg is None:  # no agent on the call (blind): the leg is the agent now
            self._promote(leg)

    def leg_ringing(self, channel: Message) -> bool:
        leg = self._xlegs().get(str(channel.get("id")))
        if leg is None:
            return False
        if channel.get("state") == "Ringing" and not leg.rang:
            leg.rang = True
            leg.on_event(Ringing(leg.request.leg_id, self.timer.now()))
        return True
