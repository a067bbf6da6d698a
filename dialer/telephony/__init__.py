"""Telephony: the ``Gateway`` protocol the engine dials through, and its implementations.

``sim`` (the default) is a simulated switch; ``ari`` (Asterisk, docs/asterisk.md) and ``esl``
(FreeSWITCH, docs/freeswitch.md) implement the same protocol (docs/engine.md, "Writing a
gateway adapter").
"""

from __future__ import annotations

from dialer.config import Settings
from dialer.gateway import (
    AgentLeg,
    Answered,
    Busy,
    CallEvent,
    CallGone,
    EventSink,
    Failed,
    Gateway,
    GatewayError,
    GatewayUnavailable,
    Hangup,
    NoAnswer,
    OriginateRequest,
    Ringing,
)
from dialer.telephony.sim import SimGatewayParams, SimulatedGateway
from dialer.timer import LoopTimer, Timer, VirtualTimer

__all__ = [
    "AgentLeg",
    "Answered",
    "Busy",
    "CallEvent",
    "CallGone",
    "EventSink",
    "Failed",
    "Gateway",
    "GatewayError",
    "GatewayUnavailable",
    "Hangup",
    "LoopTimer",
    "NoAnswer",
    "OriginateRequest",
    "Ringing",
    "SimGatewayParams",
    "SimulatedGateway",
    "Timer",
    "VirtualTimer",
    "make_gateway",
    "make_timer",
    "start_gateway",
]


def make_timer(settings: Settings) -> LoopTimer:
    """The call world's clock: sped up by ``DIALER_SIM_SPEED`` only with the simulated
    gateway (a real switch runs in real time)."""
    return LoopTimer(settings.sim_speed if settings.gateway == "sim" else 1.0)


# The factory imports the adapters, which import the names above: keep it last.
from dialer.telephony.factory import make_gateway, start_gateway  # noqa: E402
