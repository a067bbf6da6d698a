"""The HTTP application the root hands its parts to: API routes, console, middlewares."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

import asyncpg
from aiohttp import web

from dialer import __version__, db, metrics
from dialer.api import (
    agents,
    calls,
    campaigns,
    clients,
    codes,
    health,
    reports,
    rules,
    users,
    webhooks,
)
from dialer.api import dnc as dnc_api
from dialer.api import imports as imports_api
from dialer.api import inbound as inbound_api
from dialer.api import leads as leads_api
from dialer.api import lists as lists_api
from dialer.api import monitors as monitors_api
from dialer.api import privacy as privacy_api
from dialer.api import recordings as recordings_api
from dialer.api import stats as stats_api
from dialer.api import transfers as transfers_api
from dialer.api.idempotency import idempotency_middleware
from dialer.api.middleware import auth_middleware, errors_middleware, inputs_middleware
from dialer.api.openapi import build_document
from dialer.api.ratelimit import (
    address_limit_middleware,
    setup_limits,
    token_limit_middleware,
)
from dialer.api.registry import Routes, install
from dialer.clock import Clock, SystemClock
from dialer.config import Settings
from dialer.http.keys import CLOCK, POOL, RECORDINGS, SETTINGS
from dialer.recordings import recordings_storage
from dialer.runtime.parts import CleanupContext
from dialer.ui import setup_ui

ROUTE_TABLES: tuple[Routes, ...] = (
    health.routes,
    clients.routes,
    campaigns.routes,
    rules.routes,
    imports_api.routes,
    privacy_api.routes,
    leads_api.routes,
    dnc_api.routes,
    webhooks.routes,
    agents.routes,
    calls.routes,
    transfers_api.routes,
    stats_api.routes,
    reports.routes,
    users.routes,
    codes.routes,
    lists_api.routes,
    recordings_api.routes,
    monitors_api.routes,
    inbound_api.routes,
)


def create_app(
    settings: Settings,
    *,
    pool: asyncpg.Pool | None = None,
    database_url: str | None = None,
    clock: Clock | None = None,
    background: Iterable[CleanupContext] = (),
) -> web.Application:
    """The service's application.

    Pass ``pool`` to reuse one the caller owns (tests), or ``database_url`` to have the app
    open and close its own. ``background`` adds the parts (``runtime.parts``: scheduler,
    engine, delivery workers, ...) that start after the pool and stop before it.
    """
    if pool is None and database_url is None:
        raise ValueError("create_app needs a pool or a database_url")
    app = web.Application(
        middlewares=[
            errors_middleware,
            inputs_middleware,
            address_limit_middleware,
            auth_middleware,
            token_limit_middleware,
            idempotency_middleware,
        ],
        client_max_size=1024**2 * 16,
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock or SystemClock()
    setup_limits(app)
    app[RECORDINGS] = recordings_storage(settings)
    app.on_cleanup.append(_close_recordings)
    metrics.BUILD_INFO.labels(__version__).set(1)

    if pool is not None:
        app[POOL] = pool
    else:
        app.cleanup_ctx.append(_pool_context(settings, database_url or ""))
    app.cleanup_ctx.extend(background)

    endpoints = install(app, ROUTE_TABLES)
    app[health.OPENAPI] = build_document(endpoints)
    setup_ui(app)  # the web console under /ui/ (not in the OpenAPI document)
    return app


async def _close_recordings(app: web.Application) -> None:
    await app[RECORDINGS].close()


def _pool_context(settings: Settings, url: str) -> CleanupContext:
    async def pool_ctx(app: web.Application) -> AsyncIterator[None]:
        app[POOL] = await db.create_pool(
            url, min_size=settings.pool_min_size, max_size=settings.pool_max_size
        )
        yield
        await app[POOL].close()

    return pool_ctx
