"""Telephony: the ``Gateway`` protocol the engine dials through, and its implementations.

``sim`` (the default) is a simulated switch; Asterisk ARI and FreeSWITCH ESL adapters will
implement the same protocol (see docs/engine.md, "Writing a gateway adapter").
"""

from __future__ import annotations

from dialer.config import Settings
from dialer.errors import ConfigError
from dialer.telephony.base import (
    AgentLeg,
    Answered,
    Busy,
    CallEvent,
    CallGone,
    EventSink,
    Failed,
    Gateway,
    GatewayError,
    Hangup,
    NoAnswer,
    OriginateRequest,
    Ringing,
)
from dialer.telephony.sim import SimGatewayParams, SimulatedGateway
from dialer.telephony.timer import LoopTimer, Timer, VirtualTimer

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
]


def make_timer(settings: Settings) -> LoopTimer:
    """The call world's clock: sped up by ``DIALER_SIM_SPEED`` only with the simulated
    gateway (a real switch runs in real time)."""
    return LoopTimer(settings.sim_speed if settings.gateway == "sim" else 1.0)


def make_gateway(settings: Settings, timer: Timer) -> Gateway:
    """The gateway ``DIALER_GATEWAY`` names; ``ConfigError`` for adapters not built yet."""
    if settings.gateway == "sim":
        return SimulatedGateway(timer)
    raise ConfigError(
        f"DIALER_GATEWAY={settings.gateway} is not available yet: only the simulated "
        "gateway (sim) ships in this version",
        field="DIALER_GATEWAY",
    )
