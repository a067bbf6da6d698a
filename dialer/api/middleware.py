"""Request middlewares: errors as JSON, bearer authentication, request metrics."""

from __future__ import annotations

import logging
import time

import asyncpg
from aiohttp import web
from aiohttp.typedefs import Handler

from dialer import metrics
from dialer.auth.tokens import authenticate
from dialer.errors import Conflict, Forbidden, NotFound, UsageError
from dialer.http.jsonio import error_response
from dialer.http.keys import CLOCK, POOL, PRINCIPAL
from dialer.inputs import check_fields, path_id

log = logging.getLogger("dialer.api")

API_PREFIX = "/api/v1/"
# Values the driver cannot encode (an int past bigint) or PostgreSQL refuses (class 22).
BAD_VALUES = (asyncpg.exceptions._base.DataError, asyncpg.DataError)
PUBLIC_API = {"/api/v1/openapi.json"}


def _route_label(request: web.Request) -> str:
    """A bounded label for metrics: the route's pattern, never the concrete path."""
    info = request.match_info.route.resource
    return info.canonical if info is not None else "unmatched"


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn domain errors and aiohttp's HTTP errors into JSON bodies."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except UsageError as exc:
        status = 400
        return error_response(400, exc.message, field=exc.field)
    except Forbidden as exc:
        status = 403
        return error_response(403, str(exc))
    except NotFound as exc:
        status = 404
        return error_response(404, str(exc))
    except Conflict as exc:
        status = 409
        return error_response(409, exc.message, field=exc.field)
    except BAD_VALUES as exc:
        # A backstop: input the checks in ``dialer.inputs`` let through and the database
        # (or its driver) could not take is the caller's error, not the service's.
        status = 400
        log.warning("value refused by the database", extra={"path": request.path})
        return error_response(400, f"a value is out of range or not storable: {type(exc).__name__}")
    except web.HTTPException as exc:
        status = exc.status
        if exc.status < 400 or not request.path.startswith("/api/"):
            raise
        return error_response(exc.status, exc.reason)
    except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError) as exc:
        status = 503
        log.warning("database unavailable", extra={"path": request.path, "error": str(exc)})
        return error_response(503, "database unavailable, try again shortly")
    except Exception:
        log.exception("unhandled error", extra={"path": request.path, "method": request.method})
        return error_response(500, "internal error")
    finally:
        route = _route_label(request)
        metrics.HTTP_REQUESTS.labels(request.method, route, str(status)).inc()
        metrics.HTTP_LATENCY.labels(request.method, route).observe(time.perf_counter() - started)


@web.middleware
async def inputs_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The checks every request gets before its handler (``dialer.inputs``): query names
    and values are storable text, and a numeric path id past ``bigint`` names nothing. The
    console checks its query itself (``ui.middleware``), to answer with an error page."""
    if request.path.startswith(("/api/", "/ui")):
        if request.path.startswith("/api/"):
            check_fields(request.query, what="query parameter ")
        for name, value in request.match_info.items():
            if value.isdigit():
                try:
                    path_id(value, name)
                except NotFound:
                    if request.path.startswith("/api/"):
                        raise
                    raise web.HTTPNotFound() from None  # the console's plain 404
    return await handler(request)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every ``/api/v1/*`` route needs a valid bearer token (401 JSON otherwise)."""
    if not request.path.startswith(API_PREFIX) or request.path in PUBLIC_API:
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
    app = request.app
    who = await authenticate(app[POOL], token.strip(), now=app[CLOCK].now())
    if who is None:
        return _unauthorized("invalid or revoked token")
    request[PRINCIPAL] = who
    return await handler(request)


def _unauthorized(message: str) -> web.Response:
    response = error_response(401, message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="dialer"'
    return response
