"""Running the service: the listening port, database preparation, the full application,
graceful shutdown.

Shared by ``dialer serve`` and ``dialer demo`` so both run exactly the same service. The
port is bound before anything else starts: a port in use ends the start with one line
(exit 2) before the database, the engine or the scheduler has done anything.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import socket
from collections.abc import Iterable, Sequence

from aiohttp import web

from dialer import db
from dialer.clock import Clock, SystemClock
from dialer.config import Settings
from dialer.errors import UsageError
from dialer.migrate import migrate, pending
from dialer.runtime.app import create_app
from dialer.runtime.parts import CleanupContext, service_parts

log = logging.getLogger("dialer.runtime")


def bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for ``host:port`` (each address the host resolves to, as aiohttp
    would bind them), before any work starts. Raises ``UsageError`` with the fix."""
    sockets: list[socket.socket] = []
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(128)  # held from now on; connections wait until the app serves
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise UsageError(_bind_problem(host, port, exc), field="port") from None
    return sockets


def _bind_problem(host: str, port: int, exc: OSError) -> str:
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use (another dialer serve or demo?): "
            "stop that process, or set DIALER_PORT (or --port) to a free port"
        )
    if exc.errno == errno.EACCES:
        return f"no permission to listen on {where}: set DIALER_PORT to a port above 1023"
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return f"{host!r} is not an address of this machine: set DIALER_HOST (or --host)"
    return f"cannot listen on {where} ({exc.strerror or exc}): set DIALER_HOST/DIALER_PORT"


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
    parts: Iterable[CleanupContext] | None = None,
    extra: Iterable[CleanupContext] = (),
) -> web.Application:
    """The service's application with ``parts`` (default: all of ``dialer serve``'s)."""
    return create_app(
        settings,
        database_url=url,
        clock=clock or SystemClock(),
        background=[*(service_parts() if parts is None else parts), *extra],
    )


async def run_app(
    app: web.Application,
    settings: Settings,
    stop: asyncio.Event,
    sockets: Sequence[socket.socket] | None = None,
) -> None:
    """Serve ``app`` on ``sockets`` (bound here when not given, before the app's parts
    start) until ``stop`` is set, then shut down gracefully."""
    if sockets is None:
        sockets = bind(settings.host, settings.port)
    runner = web.AppRunner(
        app, handle_signals=False, access_log=None, shutdown_timeout=settings.shutdown_timeout_s
    )
    try:
        await runner.setup()
        for sock in sockets:
            await web.SockSite(runner, sock).start()
        for host, port, *_ in runner.addresses:
            log.info("listening on http://%s:%s", host, port, extra={"port": port})
        await stop.wait()
        log.info("shutting down: finishing in-flight work")
    finally:
        await runner.cleanup()
        for sock in sockets:
            sock.close()
    log.info("stopped")


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGINT/SIGTERM set ``stop`` (graceful shutdown)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def serve(settings: Settings) -> None:
    sockets = bind(settings.host, settings.port)  # first: a port in use starts nothing
    try:
        await _serve(settings, sockets)
    finally:
        for sock in sockets:
            sock.close()


async def _serve(settings: Settings, sockets: Sequence[socket.socket]) -> None:
    url = await prepare_database(settings)
    if settings.gateway == "sim":
        log.warning(
            "SIMULATED TELEPHONY: no real calls are placed (set DIALER_GATEWAY=ari|esl "
            "to dial through a real switch)",
            extra={"gateway": "sim"},
        )
    stop = asyncio.Event()
    stop_on_signals(stop)
    await run_app(build_app(settings, url), settings, stop, sockets)
