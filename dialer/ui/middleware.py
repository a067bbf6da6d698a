"""The console's middleware: finds the session of every ``/ui`` request and turns errors into
pages (the API's middleware turns the same domain errors into JSON; this one runs inside it,
only for console paths, so the API is untouched).
"""

from __future__ import annotations

import hashlib
import hmac
import logging

import asyncpg
from aiohttp import web
from aiohttp.typedefs import Handler

from dialer.errors import Conflict, Forbidden, NotFound, UsageError
from dialer.http.keys import CLOCK, POOL, SETTINGS
from dialer.inputs import check_fields
from dialer.secrets import master_key
from dialer.ui import sessions
from dialer.ui.context import CONSOLE, PREFIX, SESSION, SESSION_ENDED, STATIC_PREFIX
from dialer.ui.cookies import SESSION_COOKIE, clear_cookie
from dialer.ui.render import error_page

log = logging.getLogger("dialer.ui")
_KEY_PURPOSE = b"dialer/ui-session-cookie/v1"


def signing_key(app: web.Application) -> bytes:
    """The key that signs session cookies: a subkey of the service's master key
    (``DIALER_SECRET_KEY`` or the data directory's key file), derived on first use."""
    state = app[CONSOLE]
    if state.signing_key is None:
        master = master_key(app[SETTINGS]).encode("utf-8")
        state.signing_key = hmac.new(master, _KEY_PURPOSE, hashlib.sha256).digest()
    return state.signing_key


def is_console_page(path: str) -> bool:
    return (path == PREFIX or path.startswith(PREFIX + "/")) and not path.startswith(STATIC_PREFIX)


@web.middleware
async def console_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not is_console_page(request.path):
        return await handler(request)
    app = request.app
    cookie = request.cookies.get(SESSION_COOKIE)
    found = None
    try:
        if cookie:
            found, ended = await sessions.load(
                app[POOL], cookie, key=signing_key(app), now=app[CLOCK].now()
            )
            if found is not None:
                request[SESSION] = found
            elif ended is not None:
                request[SESSION_ENDED] = ended
        response = await _handle(request, handler)
    except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError) as exc:
        log.warning("database unavailable", extra={"path": request.path, "error": str(exc)})
        response = error_page(
            request, 503, "Service unavailable", "The database cannot be reached. Try again."
        )
    if cookie and found is None and SESSION_COOKIE not in response.cookies:
        clear_cookie(response, request, SESSION_COOKIE)  # forged, expired or revoked
    return response


async def _handle(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        check_fields(request.query, what="query parameter ")  # NUL, lone surrogates: 400
        return await handler(request)
    except web.HTTPNotFound:
        return error_page(request, 404, "Page not found", "There is no page at this address.")
    except web.HTTPMethodNotAllowed:
        return error_page(request, 405, "Not allowed", "This page does not accept that request.")
    except Forbidden as exc:
        return error_page(request, 403, "Not allowed", str(exc))
    except NotFound as exc:
        return error_page(request, 404, "Not found", str(exc))
    except Conflict as exc:
        return error_page(request, 409, "Cannot do that now", exc.message)
    except UsageError as exc:
        return error_page(request, 400, "Cannot do that", exc.message)
    except web.HTTPException:
        raise
    except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError):
        raise
    except Exception:
        log.exception("unhandled error", extra={"path": request.path, "method": request.method})
        return error_page(
            request, 500, "Something went wrong", "The error was logged. Try again shortly."
        )
