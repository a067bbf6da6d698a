"""Transfer legs on a switch: what the ARI and ESL ``Conferencing`` halves share.

A leg (``gateway.LegRequest``) is a second party dialed for an answered call: it rings,
answers, joins the call, and may become the call's agent channel (a completed transfer).
The bookkeeping is the same on both switches; how a leg is dialed and joined is not
(``ari_bridge``: bridges; ``esl_transfer``: a conference room).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dialer.gateway import EventSink, Hangup, LegRequest
from dialer.telephony.causes import hangup_party, unanswered_event

if TYPE_CHECKING:
    from dialer.telephony.callbook import SwitchCall
    from dialer.timer import Timer


@dataclass(eq=False)
class SwitchLeg:
    call: SwitchCall
    request: LegRequest
    on_event: EventSink
    rang: bool = False
    answered: bool = False


class SwitchLegs:
    """Legs by channel id, dropping the agent, promoting an answered leg, endings."""

    timer: Timer
    legs: dict[str, SwitchCall]  # agent channels → their call
    tasks: Any  # the adapter's task set (``spawn``)

    if TYPE_CHECKING:

        async def kill_channel(self, channel: str) -> None: ...

    def _with_agent(self, call_id: str) -> SwitchCall:
        """The answered call whose agent may be dropped (each switch says what that needs)."""
        raise NotImplementedError

    def _xlegs(self) -> dict[str, SwitchLeg]:
        found: dict[str, SwitchLeg] | None = self.__dict__.get("_xleg_map")
        if found is None:
            found = self.__dict__["_xleg_map"] = {}
        return found

    async def drop_leg(self, call_id: str, leg_id: str) -> None:
        if leg_id in self._xlegs():
            await self.kill_channel(leg_id)

    async def drop_agent(self, call_id: str) -> None:
        call = self._with_agent(call_id)
        old = call.agent_leg
        answered = next((x for x in self._xlegs().values() if x.call is call and x.answered), None)
        if old is not None:
            self.legs.pop(old, None)  # its hangup must not end the call
            await self.kill_channel(old)
        if answered is None:
            call.agent_leg, call.bridged = None, False
            return
        self._promote(answered)

    def _promote(self, leg: SwitchLeg) -> None:
        """The answered leg is the call's agent channel from now on."""
        self._xlegs().pop(leg.request.leg_id, None)
        leg.call.agent_leg, leg.call.bridged = leg.request.leg_id, True
        self.legs[leg.request.leg_id] = leg.call

    def leg_ended(self, channel_id: str, code: int, sip: int | None = None) -> bool:
        """The leg's channel is gone: its final event (False: not a leg)."""
        leg = self._xlegs().pop(channel_id, None)
        if leg is None:
            return False
        t, lid = self.timer.now(), leg.request.leg_id
        if leg.answered:
            leg.on_event(Hangup(lid, t, hangup_party(code), "normal"))
        else:
            leg.on_event(unanswered_event(lid, t, code, rang=leg.rang, rang_out=False, sip=sip))
        return True

    def legs_of_gone_call(self, call: SwitchCall) -> None:
        """The callee is gone: their leg in progress goes too."""
        for leg_id, leg in list(self._xlegs().items()):
            if leg.call is call:
                self.tasks.spawn(self.kill_channel(leg_id))
