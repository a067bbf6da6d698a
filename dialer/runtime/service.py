"""Running the service: database preparation, the full application, graceful shutdown.

Shared by ``dialer serve`` and ``dialer demo`` so both run exactly the same service.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterable

from aiohttp import web

from dialer import db
from dialer.clock import Clock, SystemClock
from dialer.config import Settings
from dialer.errors import UsageError
from dialer.migrate import migrate, pending
from dialer.runtime.app import create_app
from dialer.runtime.parts import CleanupContext, service_parts

log = logging.getLogger("dialer.runtime")


async def prepare_database(settings: Settings, *, quiet: bool = False) -> str:
    """The database URL, with migrations applied (or checked, without auto-migrate)."""
    url = await db.database_url(settings, quiet=quiet)
    conn = await db.connect(url)
    try:
        if settings.auto_migrate:
            applied = await migrate(conn)
            if applied:
                log.info("migrations applied", extra={"migrations": applied})
        elif todo := await pending(conn):
            raise UsageError(f"{len(todo)} migration(s) pending: run `dialer migrate`")
    finally:
        await conn.close()
    return url


def build_app(
    settings: Settings,
    url: str,
    *,
    clock: Clock | None = None,
    extra: Iterable[CleanupContext] = (),
) -> web.Application:
    return create_app(
        settings,
        database_url=url,
        clock=clock or SystemClock(),
        background=[*service_parts(), *extra],
    )


async def run_app(app: web.Application, settings: Settings, stop: asyncio.Event) -> None:
    """Serve ``app`` until ``stop`` is set, then shut down gracefully."""
    runner = web.AppRunner(
        app, handle_signals=False, access_log=None, shutdown_timeout=settings.shutdown_timeout_s
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        for host, port, *_ in runner.addresses:
            log.info("listening on http://%s:%s", host, port, extra={"port": port})
        await stop.wait()
        log.info("shutting down: finishing in-flight work")
    finally:
        await runner.cleanup()
    log.info("stopped")


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGINT/SIGTERM set ``stop`` (graceful shutdown)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def serve(settings: Settings) -> None:
    url = await prepare_database(settings)
    if settings.gateway == "sim":
        log.warning(
            "SIMULATED TELEPHONY: no real calls are placed (set DIALER_GATEWAY=ari|esl "
            "to dial through a real switch)",
            extra={"gateway": "sim"},
        )
    stop = asyncio.Event()
    stop_on_signals(stop)
    await run_app(build_app(settings, url), settings, stop)
