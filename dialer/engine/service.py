"""The engine inside ``dialer serve`` / ``dialer demo``: bus, gateway, runners, sim agents.

``engine_context`` is the aiohttp cleanup context the service adds. It starts, in order,
the agent bus (LISTEN), the gateway chosen by ``DIALER_GATEWAY`` on the call-world timer
(``DIALER_SIM_SPEED``), and the engine; with ``DIALER_SIM_AGENTS=N`` each runner gets N
simulated agents. Shutdown runs in reverse and is graceful (see ``Engine.stop``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from dialer.agents.bus import AgentBus
from dialer.api.context import CLOCK, POOL, SERVICES, SETTINGS
from dialer.engine.runner import CampaignRunner, RunnerOptions
from dialer.engine.simagents import SimAgentParams, SimulatedAgents
from dialer.engine.supervisor import Engine, RunnerHook
from dialer.gateway import Gateway
from dialer.telephony import GatewayError, make_gateway, make_timer, start_gateway
from dialer.timer import Timer

log = logging.getLogger(__name__)

BUS = "agent_bus"
ENGINE = "engine"


def sim_agents_hook(
    bus: AgentBus,
    timer: Timer,
    count: int,
    *,
    seed: int | None = None,
    params: SimAgentParams | None = None,
    started: list[SimulatedAgents] | None = None,
) -> RunnerHook:
    """A runner hook that puts ``count`` simulated agents on every runner's campaign
    (except agentless ones)."""

    async def hook(runner: CampaignRunner) -> Callable[[], Awaitable[None]]:
        c = runner.config
        if c.dial_mode == "agentless":  # nobody to simulate
            return _nothing
        agents = SimulatedAgents(
            runner.pool,
            bus,
            timer,
            runner.clock,
            campaign_id=c.id,
            client_id=c.client_id,
            count=count,
            seed=None if seed is None else seed + c.id,
            params=params,
        )
        await agents.start()
        if started is not None:
            started.append(agents)
        log.info("%s simulated agents logged in", count, extra={"campaign_id": c.id})
        return agents.stop

    return hook


async def _nothing() -> None:
    return None


async def engine_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the dialing engine for the life of the application."""
    settings = app[SETTINGS]
    services: dict[str, Any] = app[SERVICES]
    timer = services.get("timer") or make_timer(settings)
    gateway: Gateway = services.get("gateway") or make_gateway(settings, timer)
    unreachable: GatewayError | None = None
    try:
        await start_gateway(gateway)  # a real switch: connect and reconcile before dialing
    except GatewayError as exc:  # the adapter keeps reconnecting in the background
        unreachable = exc
    bus = AgentBus(app[POOL])
    await bus.start()
    hooks: list[RunnerHook] = list(services.get("runner_hooks", ()))
    if settings.sim_agents:
        hooks.append(sim_agents_hook(bus, timer, settings.sim_agents))
    engine = Engine(
        app[POOL],
        gateway,
        timer,
        app[CLOCK],
        instance_id=settings.instance_id,
        bus=bus,
        options=services.get("runner_options")
        or RunnerOptions(
            lease_ttl_s=settings.lease_ttl_s, shutdown_timeout_s=settings.shutdown_timeout_s
        ),
        hooks=tuple(hooks),
    )
    if unreachable is not None:  # runners probe with one call before dialing on
        engine.health.failed(f"unreachable at start: {unreachable}")
    services.update({BUS: bus, ENGINE: engine, "gateway": gateway, "timer": timer})
    await engine.start()
    log.info(
        "dialing engine started",
        extra={"gateway": gateway.name, "speed": timer.speed, "sim_agents": settings.sim_agents},
    )
    try:
        yield
    finally:
        await engine.stop()
        await gateway.close()
        await bus.stop()
