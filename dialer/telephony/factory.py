"""The gateway ``DIALER_GATEWAY`` names, built from the settings.

``sim`` (default) is the simulated switch; ``ari`` talks to Asterisk, ``esl`` to
FreeSWITCH. The settings were validated when they were read (a real switch without its
address or credentials is a ``ConfigError`` naming the variable, exit 2), so building a
gateway never fails for want of configuration. Real adapters connect on their first call,
or when ``start_gateway`` is awaited at start-up (recommended: a switch that cannot be
reached is then reported before any lead is claimed).
"""

from __future__ import annotations

from dialer.config import Settings
from dialer.errors import ConfigError
from dialer.gateway import Gateway
from dialer.telephony.ari import AriGateway
from dialer.telephony.esl import EslGateway
from dialer.telephony.sim import SimGatewayParams, SimulatedGateway
from dialer.telephony.switch_config import AriConfig, EslConfig
from dialer.timer import Timer


def make_gateway(settings: Settings, timer: Timer) -> Gateway:
    """The configured gateway; its events carry ``timer.now()`` as their time."""
    if settings.gateway == "sim":
        return SimulatedGateway(timer, SimGatewayParams.demo())
    if settings.gateway == "ari":
        return AriGateway(AriConfig.from_settings(settings), timer)
    if settings.gateway == "esl":
        return EslGateway(EslConfig.from_settings(settings), timer)
    raise ConfigError(f"DIALER_GATEWAY={settings.gateway} is unknown", field="DIALER_GATEWAY")


async def start_gateway(gateway: Gateway) -> None:
    """Connect a real switch now (and reconcile its channels); nothing for the simulator.
    ``GatewayError`` if the switch cannot be reached within its connect timeout."""
    if isinstance(gateway, AriGateway | EslGateway):
        await gateway.start()
