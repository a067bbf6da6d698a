"""Transfers and conferences over ESL (``gateway.Conferencing``), a mixin of ``EslGateway``.

FreeSWITCH joins more than two parties in a conference (mod_conference), so a call that
gets a second leg moves from its two-party ``uuid_bridge`` into a conference room of its own
(``dialer-<call id>``):

* the callee and the agent go in together: ``uuid_transfer <callee> -both
  conference:<room> inline`` (both legs of the bridge move, neither is hung up);
* **hold**: the callee leaves the room for ``park`` (``uuid_transfer <callee> park inline``)
  and hears music on hold (``uuid_broadcast <callee> local_stream://moh aleg``);
  **unhold** stops it (``uuid_break <callee> all``) and moves them back into the room;
* **add_leg**: ``originate {origination_uuid=<leg>,...}<dial string> &conference(<room>)``:
  the leg joins the room when it answers (``CHANNEL_ANSWER``); ``CHANNEL_HANGUP_COMPLETE``
  (or a failed background job) ends it;
* **drop_agent**: ``uuid_kill`` of the agent's channel; an answered leg becomes the call's
  agent channel (the same ending rules as ``EslGateway.bridge``).
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
from dialer.telephony.esl_commands import originate_command
from dialer.telephony.switch_legs import SwitchLeg, SwitchLegs

if TYPE_CHECKING:
    from dialer.telephony.callbook import CallBook, SwitchCall
    from dialer.telephony.switch_config import EslConfig
    from dialer.timer import Timer

MOH = "local_stream://moh"


def room(call_id: str) -> str:
    return f"dialer-{call_id}"


class EslConferencing(SwitchLegs):
    """The ``Conferencing`` half of ``EslGateway`` (see the module docstring)."""

    book: CallBook
    config: EslConfig
    timer: Timer
    legs: dict[str, SwitchCall]  # agent channels → their call
    link: Any
    tasks: Any

    if TYPE_CHECKING:

        async def kill_channel(self, channel: str) -> None: ...

        async def _start_job(self, call: SwitchCall | None, channel: str, command: str) -> None: ...

    def _rooms(self) -> set[str]:
        found: set[str] | None = self.__dict__.get("_room_set")
        if found is None:
            found = self.__dict__["_room_set"] = set()
        return found

    async def _api(self, command: str) -> None:
        reply = await self.link.api(command)
        if reply.startswith("-ERR") and ("No such channel" in reply or "Invalid uuid" in reply):
            raise CallGone(f"channel gone ({command.split()[1]})")
        if not reply.startswith("+OK"):
            raise GatewayError(f"FreeSWITCH refused {command.split()[0]}: {reply.strip()}")

    def _with_agent(self, call_id: str) -> SwitchCall:
        call = self.book.answered(call_id)
        if not call.bridged and call.call_id not in self._rooms():
            raise GatewayError(f"call {call_id} has no agent")
        return call

    async def _into_room(self, call: SwitchCall) -> None:
        if call.call_id in self._rooms():
            return
        await self._api(
            f"uuid_transfer {call.call_id} -both conference:{room(call.call_id)} inline"
        )
        self._rooms().add(call.call_id)

    async def hold(self, call_id: str) -> None:
        call = self._with_agent(call_id)
        await self._into_room(call)
        await self._api(f"uuid_transfer {call_id} park inline")
        await self._api(f"uuid_broadcast {call_id} {MOH} aleg")

    async def unhold(self, call_id: str) -> None:
        call = self.book.answered(call_id)
        if call.call_id not in self._rooms():
            return  # never held: still bridged with its agent
        await self._api(f"uuid_break {call_id} all")
        await self._api(f"uuid_transfer {call_id} conference:{room(call_id)} inline")

    async def add_leg(self, request: LegRequest, on_event: EventSink) -> None:
        call = self._with_agent(request.call_id)
        if any(x.call is call for x in self._xlegs().values()):
            raise GatewayError(f"call {request.call_id} already has a second leg")
        await self._into_room(call)
        strings = self.config.strings
        dial = (
            strings.agent_leg(request.agent)
            if request.agent is not None
            else strings.callee(str(request.phone_e164))
        )
        variables = {
            "origination_uuid": request.leg_id,
            "origination_caller_id_number": request.caller_id,
            "originate_timeout": str(int(request.ring_timeout_s)),
            "ignore_early_media": "true",
            "dialer_app": self.config.app,
            "dialer_call_id": call.call_id,
        }
        self._xlegs()[request.leg_id] = SwitchLeg(call, request, on_event)
        command = originate_command(variables, dial, f"&conference({room(call.call_id)})")
        try:
            await self._start_job(None, request.leg_id, command)
        except GatewayError:
            self._xlegs().pop(request.leg_id, None)
            raise

    # -- events (dispatched from EslGateway) ----------------------------------------------
    def leg_progress(self, uid: str) -> bool:
        leg = self._xlegs().get(uid)
        if leg is None:
            return False
        if not leg.rang:
            leg.rang = True
            leg.on_event(Ringing(uid, self.timer.now()))
        return True

    def leg_answered(self, uid: str) -> bool:
        leg = self._xlegs().get(uid)
        if leg is None:
            return False
        leg.answered = True
        leg.on_event(Answered(uid, self.timer.now(), "human"))
        if leg.call.agent_leg is None:  # nobody else on the call (blind): it is the agent
            self._promote(leg)
        return True

    def legs_of_gone_call(self, call: SwitchCall) -> None:
        self._rooms().discard(call.call_id)
        super().legs_of_gone_call(call)
