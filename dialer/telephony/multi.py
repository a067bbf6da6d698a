"""``MultiSwitchGateway``: many Asterisk/FreeSWITCH boxes (or simulators) as one gateway.

A contact centre of hundreds of agents runs several switches (a few dozen agents each).
The engine still sees one ``Gateway``:

* each call goes to one switch, spread by weight (smooth weighted round-robin) over the
  switches that are in service; the call, its agent leg, its messages, its hang-up and its
  recording stay on that switch;
* agent homing: a call whose agent is known when it is placed (preview, an agent-owned
  callback: ``OriginateRequest.agent``) goes to the switch that agent's endpoint is
  registered on (its home, from the switch's ``agents``) while that switch is in service, so
  the agent leg stays local; it does not take a turn of the weighted rotation;
* a switch that refuses with ``GatewayUnavailable`` (down, reconnecting) is taken out of
  service and the call is tried on the next one; it is tried again after a back-off
  (doubling, at most ``MAX_OUT_S``), and is back in with its first successful originate;
* only when every switch is out does ``originate`` raise ``GatewayUnavailable`` (the
  engine's outage handling then applies);
* ``/metrics``: ``dialer_switch_up{switch}``, ``dialer_switch_calls{switch}``,
  ``dialer_switch_originates_total{switch}``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from dialer import metrics
from dialer.gateway import (
    FINAL_EVENTS,
    AgentLeg,
    BeepListener,
    CallEvent,
    CallGone,
    EventSink,
    Gateway,
    GatewayError,
    GatewayUnavailable,
    OriginateRequest,
    Recording,
    RecordingSource,
)
from dialer.telephony.multi_conference import MultiConferencing
from dialer.telephony.multi_inbound import MultiInbound
from dialer.telephony.multi_monitor import MultiMonitoring
from dialer.timer import Timer

log = logging.getLogger("dialer.telephony.multi")
FIRST_OUT_S = 2.0
MAX_OUT_S = 60.0


@dataclass(eq=False)
class Switch:
    """One member: its gateway, weight and the agent endpoints registered on it."""

    name: str
    gateway: Gateway
    weight: float = 1.0
    agents: frozenset[str] = frozenset()
    current: float = 0.0  # smooth weighted round-robin state
    out_until: float | None = None  # out of service until this time (None: in)
    out_s: float = 0.0  # the last back-off
    calls: set[str] = field(default_factory=set)

    def in_service(self, now: float) -> bool:
        return self.out_until is None or now >= self.out_until


class MultiSwitchGateway(MultiMonitoring, MultiInbound, MultiConferencing):
    """Several switches behind the ``Gateway`` protocol (see the module docstring)."""

    name = "multi"

    def __init__(self, switches: Sequence[Switch], timer: Timer) -> None:
        if not switches:
            raise ValueError("a multi-switch gateway needs at least one switch")
        self.switches = list(switches)
        self.timer = timer
        self.by_call: dict[str, Switch] = {}
        for switch in self.switches:
            metrics.SWITCH_UP.labels(switch.name).set(1)
            metrics.SWITCH_CALLS.labels(switch.name).set(0)
            metrics.SWITCH_ORIGINATES.labels(switch.name)
            metrics.SWITCH_HOMED.labels(switch.name)

    @property
    def calls_up(self) -> int:
        return len(self.by_call)

    def order(self, agent: AgentLeg | None = None) -> list[Switch]:
        """The switches to try for the next call: the agent's home switch when it is in
        service, else the weighted pick; then the others in service by weight."""
        now = self.timer.now()
        ready = [s for s in self.switches if s.in_service(now)]
        if not ready:
            return []
        home = self.home_of(agent.endpoint if agent else None)
        if home is not None and home in ready:
            metrics.SWITCH_HOMED.labels(home.name).inc()
            return [home, *sorted((s for s in ready if s is not home), key=lambda s: -s.weight)]
        total = sum(s.weight for s in ready)
        for s in ready:
            s.current += s.weight
        chosen = max(ready, key=lambda s: s.current)
        chosen.current -= total
        rest = sorted((s for s in ready if s is not chosen), key=lambda s: -s.weight)
        return [chosen, *rest]

    def home_of(self, endpoint: str | None) -> Switch | None:
        """The switch an agent endpoint is registered on (None: not listed)."""
        return next((s for s in self.switches if endpoint and endpoint in s.agents), None)

    # -- protocol -------------------------------------------------------------------------
    async def originate(self, request: OriginateRequest, on_event: EventSink) -> None:
        if request.call_id in self.by_call:
            raise GatewayError(f"call id {request.call_id} is already in use")
        reasons = []
        for switch in self.order(request.agent):
            sink = self._sink(switch, request.call_id, on_event)
            self.by_call[request.call_id] = switch
            switch.calls.add(request.call_id)
            try:
                await switch.gateway.originate(request, sink)
            except GatewayUnavailable as exc:
                self._forget(switch, request.call_id)
                self._take_out(switch, str(exc))
                reasons.append(f"{switch.name}: {exc}")
                continue
            except BaseException:
                self._forget(switch, request.call_id)
                raise
            self._back_in(switch)
            metrics.SWITCH_ORIGINATES.labels(switch.name).inc()
            metrics.SWITCH_CALLS.labels(switch.name).set(len(switch.calls))
            return
        raise GatewayUnavailable("no switch in service (" + "; ".join(reasons or ["all out"]) + ")")

    async def bridge(self, call_id: str, agent: AgentLeg) -> None:
        switch = self._switch(call_id)
        home = self.home_of(agent.endpoint)
        if home is not None and home is not switch:
            log.info(
                "agent %s is homed on %s; bridged on %s, which carries the call",
                agent.agent_id,
                home.name,
                switch.name,
            )
        await switch.gateway.bridge(call_id, agent)

    async def play(self, call_id: str, message: str) -> bool:
        return await self._switch(call_id).gateway.play(call_id, message)

    async def wait_for_beep(self, call_id: str, timeout_s: float) -> bool:
        gateway = self._switch(call_id).gateway
        if isinstance(gateway, BeepListener):
            return await gateway.wait_for_beep(call_id, timeout_s)
        return False

    async def hangup(self, call_id: str) -> None:
        switch = self.by_call.get(call_id)
        if switch is not None:
            await switch.gateway.hangup(call_id)

    async def take_recording(self, call_id: str) -> Recording | None:
        for switch in self.switches:  # the call has ended: ask whichever recorded it
            if isinstance(switch.gateway, RecordingSource):
                got = await switch.gateway.take_recording(call_id)
                if got is not None:
                    return got
        return None

    async def close(self) -> None:
        await asyncio.gather(*(s.gateway.close() for s in self.switches), return_exceptions=True)

    # -- plumbing -------------------------------------------------------------------------
    def _switch(self, call_id: str) -> Switch:
        switch = self.by_call.get(call_id)
        if switch is None:
            raise CallGone(f"call {call_id} has ended")
        return switch

    def _sink(self, switch: Switch, call_id: str, on_event: EventSink) -> EventSink:
        def sink(event: CallEvent) -> None:
            if isinstance(event, FINAL_EVENTS):
                self._forget(switch, call_id)
                metrics.SWITCH_CALLS.labels(switch.name).set(len(switch.calls))
            on_event(event)

        return sink

    def _forget(self, switch: Switch, call_id: str) -> None:
        switch.calls.discard(call_id)
        if self.by_call.get(call_id) is switch:
            del self.by_call[call_id]

    def _take_out(self, switch: Switch, reason: str) -> None:
        switch.out_s = min(MAX_OUT_S, switch.out_s * 2 if switch.out_s else FIRST_OUT_S)
        switch.out_until = self.timer.now() + switch.out_s
        metrics.SWITCH_UP.labels(switch.name).set(0)
        log.warning("switch %s out of service for %.0f s: %s", switch.name, switch.out_s, reason)

    def _back_in(self, switch: Switch) -> None:
        if switch.out_until is not None:
            log.info("switch %s back in service", switch.name)
        switch.out_until, switch.out_s = None, 0.0
        metrics.SWITCH_UP.labels(switch.name).set(1)
