"""The long-running parts of a service process, each built once here and handed out.

Every part is an aiohttp cleanup context: it builds its collaborators from the settings
and the application's pool and clock, starts them, stores the handle the front ends need
under a typed key (``dialer.http.keys``), and stops them in reverse order at shutdown.
This module and ``runtime.app`` are the only places that build engine, gateway, importer,
webhook worker, scheduler and gauges.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from aiohttp import web

from dialer.agents.bus import AgentBus
from dialer.engine.runner import RunnerOptions
from dialer.engine.simagents import SimAgentParams, sim_agents_hook
from dialer.engine.simsupervisor import sim_supervisor_hook
from dialer.engine.supervisor import POLL_S, Engine, RunnerHook
from dialer.gateway import Gateway, GatewayError
from dialer.http.keys import (
    AGENT_BUS,
    CLOCK,
    ENGINE,
    IMPORTS,
    POOL,
    RECORDINGS,
    SCHEDULER,
    SETTINGS,
    WEBHOOK_WORKER,
)
from dialer.leads.background import ImportService
from dialer.recordings.s3 import RETRY_S, S3Recordings
from dialer.scheduler import CampaignScheduler
from dialer.secrets import secret_box
from dialer.stats.gauges import GaugeRefresher
from dialer.telephony import make_gateway, make_timer, start_gateway
from dialer.timer import Timer
from dialer.webhooks.destinations import BlockedNetworks
from dialer.webhooks.sender import new_session
from dialer.webhooks.worker import DeliveryWorker

log = logging.getLogger("dialer.runtime")

CleanupContext = Callable[[web.Application], AsyncIterator[None]]


async def scheduler_part(app: web.Application) -> AsyncIterator[None]:
    """The leader-elected campaign scheduler."""
    settings = app[SETTINGS]
    scheduler = CampaignScheduler(
        app[POOL],
        app[CLOCK],
        instance_id=settings.instance_id,
        lease_ttl_s=settings.lease_ttl_s,
        recordings=app[RECORDINGS],
    )
    scheduler.start()
    app[SCHEDULER] = scheduler
    yield
    await scheduler.stop()


async def webhooks_part(app: web.Application) -> AsyncIterator[None]:
    """The webhook delivery worker and its HTTP session."""
    settings = app[SETTINGS]
    blocked = BlockedNetworks(settings.webhook_blocked_networks)
    session = new_session(blocked=blocked, limit=64)
    worker = DeliveryWorker(
        app[POOL],
        app[CLOCK],
        secret_box(settings),
        session=session,
        instance_id=settings.instance_id,
        blocked=blocked,
    )
    worker.start()
    app[WEBHOOK_WORKER] = worker
    try:
        yield
    finally:
        await worker.stop(timeout_s=settings.shutdown_timeout_s)
        await session.close()


async def imports_part(app: web.Application) -> AsyncIterator[None]:
    """The background runner of uploaded lead and DNC lists."""
    settings = app[SETTINGS]
    service = ImportService(
        app[POOL],
        app[CLOCK],
        instance_id=settings.instance_id,
        uploads=(settings.data_dir / "uploads").resolve(),
        phone_backend=settings.phone_backend,
    )
    await service.start()
    app[IMPORTS] = service
    yield
    await service.stop()


async def gauges_part(app: web.Application) -> AsyncIterator[None]:
    """The database-fed campaign gauges, refreshed before serving and then periodically."""
    refresher = GaugeRefresher(app[POOL], app[CLOCK])
    await refresher.start()
    try:
        yield
    finally:
        await refresher.stop()


async def agent_bus_part(app: web.Application) -> AsyncIterator[None]:
    """Only the agent bus (LISTEN): agent events without an engine (tests, tools)."""
    bus = AgentBus(app[POOL], clock=app[CLOCK])
    await bus.start()
    app[AGENT_BUS] = bus
    yield
    await bus.stop()


async def recordings_part(app: web.Application) -> AsyncIterator[None]:
    """Retries the uploads of recordings spooled on local disk (S3 storage only)."""
    store = app[RECORDINGS]
    if not isinstance(store, S3Recordings):
        yield
        return
    stop = asyncio.Event()

    async def loop() -> None:
        while not stop.is_set():
            try:
                await store.flush(app[POOL])
            except Exception as exc:  # the next pass tries again; nothing is lost
                log.warning("recording uploads not retried: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RETRY_S)

    task = asyncio.create_task(loop(), name="recording-uploads")
    try:
        yield
    finally:
        stop.set()
        await task


@dataclass(frozen=True)
class EngineParts:
    """What the engine part may be given instead of building it from the settings."""

    gateway: Gateway | None = None
    timer: Timer | None = None
    hooks: Sequence[RunnerHook] = ()
    options: RunnerOptions | None = None
    poll_s: float | None = None  # how often the engine looks for campaigns (default 5 s)
    campaigns: frozenset[int] | None = None  # only these campaigns (the demo's), else all
    sim_params: SimAgentParams | None = None  # how DIALER_SIM_AGENTS agents behave


def engine_part(given: EngineParts = EngineParts()) -> CleanupContext:
    """The dialing engine: agent bus, the gateway chosen by ``DIALER_GATEWAY`` on the call
    world's timer (``DIALER_SIM_SPEED``), the engine; with ``DIALER_SIM_AGENTS=N`` each
    runner gets N simulated agents. Shutdown runs in reverse and is graceful."""

    async def engine_ctx(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        timer = given.timer or make_timer(settings)
        gateway = given.gateway or make_gateway(settings, timer)
        unreachable: GatewayError | None = None
        try:
            await start_gateway(gateway)  # a real switch: connect and reconcile first
        except GatewayError as exc:  # the adapter keeps reconnecting in the background
            unreachable = exc
        bus = AgentBus(app[POOL], clock=app[CLOCK])
        await bus.start()
        hooks = list(given.hooks)
        if settings.sim_agents:
            hooks.append(sim_agents_hook(bus, timer, settings.sim_agents, params=given.sim_params))
            hooks.append(sim_supervisor_hook(timer))  # listens to some of their calls
        options = given.options or RunnerOptions(
            lease_ttl_s=settings.lease_ttl_s,
            shutdown_timeout_s=settings.shutdown_timeout_s,
            recordings=app[RECORDINGS],
        )
        engine = Engine(
            app[POOL],
            gateway,
            timer,
            app[CLOCK],
            instance_id=settings.instance_id,
            bus=bus,
            options=options,
            hooks=tuple(hooks),
            poll_s=given.poll_s or POLL_S,
            campaigns=given.campaigns,
        )
        if unreachable is not None:  # runners probe with one call before dialing on
            engine.health.failed(f"unreachable at start: {unreachable}")
        app[AGENT_BUS], app[ENGINE] = bus, engine
        await engine.start()
        log.info(
            "dialing engine started",
            extra={
                "gateway": gateway.name,
                "speed": timer.speed,
                "sim_agents": settings.sim_agents,
            },
        )
        try:
            yield
        finally:
            await engine.stop()
            await gateway.close()
            await bus.stop()

    return engine_ctx


def service_parts() -> list[CleanupContext]:
    """Everything ``dialer serve`` runs besides HTTP, started after the pool, stopped
    before it."""
    return [
        scheduler_part,
        webhooks_part,
        engine_part(),
        imports_part,
        gauges_part,
        recordings_part,
    ]


DEMO_TRANSFER_P = 0.25  # share of the demo's connected calls handed on to its closers


def demo_parts(campaign_id: int, closers_id: int | None = None) -> list[CleanupContext]:
    """What ``dialer demo`` runs: the service without the scheduler, whose engine dials only
    the demo's campaigns, so campaigns the user left in the data directory stay as they are
    (a running one is neither dialed nor started, paused or stopped by a schedule). Its
    simulated agents hand some calls on to the closers' campaign (docs/transfers.md)."""
    ids = {campaign_id} if closers_id is None else {campaign_id, closers_id}
    params = SimAgentParams(transfer_p=DEMO_TRANSFER_P, transfer_to=closers_id)
    engine = engine_part(EngineParts(campaigns=frozenset(ids), sim_params=params))
    return [webhooks_part, engine, imports_part, gauges_part, recordings_part]
