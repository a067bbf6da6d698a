"""Liveness, readiness, Prometheus metrics and the OpenAPI document."""

from __future__ import annotations

import asyncio

import asyncpg
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from dialer import metrics
from dialer.api.registry import Routes
from dialer.http.jsonio import json_response
from dialer.http.keys import AGENT_BUS, ENGINE, IMPORTS, POOL, SCHEDULER, WEBHOOK_WORKER
from dialer.loops import Heartbeat
from dialer.migrate import MigrationError, pending

routes = Routes("service", "Health, readiness, metrics and this document")
OPENAPI = web.AppKey("openapi", dict)


@routes.get("/healthz", summary="The process is alive", permission=None)
async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


@routes.get(
    "/readyz",
    summary="Database reachable, migrations current and every background loop of this "
    "process running (503 otherwise)",
    permission=None,
)
async def readyz(request: web.Request) -> web.Response:
    pool = request.app[POOL]
    try:
        async with asyncio.timeout(3):
            async with pool.acquire() as conn:
                todo = await pending(conn)
    except MigrationError as exc:
        return json_response({"status": "not ready", "reason": str(exc)}, status=503)
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        reason = f"database unreachable: {exc or type(exc).__name__}"
        return json_response({"status": "not ready", "reason": reason}, status=503)
    if todo:
        reason = f"{len(todo)} migration(s) pending: run `dialer migrate`"
        return json_response({"status": "not ready", "reason": reason}, status=503)
    problems = [p for beat in heartbeats(request.app) if (p := beat.problem())]
    if problems:
        return json_response({"status": "not ready", "reason": "; ".join(problems)}, status=503)
    return json_response({"status": "ready"})


def heartbeats(app: web.Application) -> list[Heartbeat]:
    """The heartbeats of the background loops this process runs."""
    parts = (
        app.get(ENGINE),
        app.get(AGENT_BUS),
        app.get(WEBHOOK_WORKER),
        app.get(IMPORTS),
        app.get(SCHEDULER),
    )
    beats = [getattr(part, "heartbeat", None) for part in parts]
    return [beat for beat in beats if isinstance(beat, Heartbeat)]


@routes.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format)",
    permission=None,
    response_content_type="text/plain",
)
async def prometheus_metrics(request: web.Request) -> web.Response:
    pool = request.app[POOL]
    metrics.DB_POOL_SIZE.set(pool.get_size())
    metrics.DB_POOL_IN_USE.set(pool.get_size() - pool.get_idle_size())
    response = web.Response(body=generate_latest())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    response.charset = "utf-8"
    return response


@routes.get("/api/v1/openapi.json", summary="This OpenAPI 3.1 document", permission=None)
async def openapi_document(request: web.Request) -> web.Response:
    return json_response(request.app[OPENAPI])
