"""The gateway ``DIALER_GATEWAY`` names, built from the settings.

``sim`` (default) is the simulated switch; ``ari`` talks to Asterisk, ``esl`` to
FreeSWITCH. The settings were validated when they were read (a real switch without its
address or credentials is a ``ConfigError`` naming the variable, exit 2), so building a
gateway never fails for want of configuration. Real adapters connect on their first call,
or when ``start_gateway`` is awaited at start-up (recommended: a switch that cannot be
reached is then reported before any lead is claimed).
"""

from __future__ import annotations

import asyncio
from typing import Any

from dialer.config import Settings
from dialer.errors import ConfigError
from dialer.gateway import Gateway, GatewayUnavailable
from dialer.telephony.ari import AriGateway
from dialer.telephony.dialstrings import SwitchStrings
from dialer.telephony.esl import EslGateway
from dialer.telephony.multi import MultiSwitchGateway, Switch
from dialer.telephony.sim import SimGatewayParams, SimulatedGateway
from dialer.telephony.switch_config import AriConfig, EslConfig
from dialer.timer import Timer


def make_gateway(settings: Settings, timer: Timer) -> Gateway:
    """The configured gateway; its events carry ``timer.now()`` as their time."""
    if settings.switches:
        return MultiSwitchGateway(
            [_member(spec, settings, timer) for spec in settings.switches], timer
        )
    if settings.gateway == "sim":
        return SimulatedGateway(timer, SimGatewayParams.demo())
    if settings.gateway == "ari":
        return AriGateway(AriConfig.from_settings(settings), timer)
    if settings.gateway == "esl":
        return EslGateway(EslConfig.from_settings(settings), timer)
    raise ConfigError(f"DIALER_GATEWAY={settings.gateway} is unknown", field="DIALER_GATEWAY")


def _member(spec: dict[str, Any], settings: Settings, timer: Timer) -> Switch:
    """One switch of ``DIALER_SWITCHES`` (validated when the settings were read)."""
    kind = spec["gateway"]
    gateway: Gateway
    if kind == "ari":
        gateway = AriGateway(
            AriConfig(
                url=spec["url"].rstrip("/"),
                user=spec["user"],
                password=spec["password"],
                app=spec.get("app", settings.ari_app),
                strings=SwitchStrings.from_settings(settings, "ari"),
            ),
            timer,
        )
    elif kind == "esl":
        gateway = EslGateway(
            EslConfig(
                password=spec["password"],
                host=spec.get("host", "127.0.0.1"),
                port=int(spec.get("port", 8021)),
                app=spec.get("app", settings.esl_app),
                strings=SwitchStrings.from_settings(settings, "esl"),
                recording_dir=settings.esl_recording_dir,
            ),
            timer,
        )
    else:
        gateway = SimulatedGateway(timer, SimGatewayParams.demo())
    return Switch(spec["name"], gateway, spec["weight"], frozenset(spec["agents"]))


async def start_gateway(gateway: Gateway) -> None:
    """Connect a real switch now (and reconcile its channels); nothing for the simulator.
    ``GatewayError`` if the switch cannot be reached within its connect timeout."""
    if isinstance(gateway, AriGateway | EslGateway):
        await gateway.start()
    if isinstance(gateway, MultiSwitchGateway):  # every switch reachable now, or reported
        results = await asyncio.gather(
            *(start_gateway(s.gateway) for s in gateway.switches), return_exceptions=True
        )
        failed = [f"{s.name}: {r}" for s, r in zip(gateway.switches, results, strict=True) if r]
        if len(failed) == len(gateway.switches):
            raise GatewayUnavailable("no switch reachable (" + "; ".join(failed) + ")")
