"""Streamed uploads from console pages, handed to the API's own upload handlers.

The browser sends the file as the request body (XHR, the CSRF token in its header; see
``static/upload.js``); the page's route declares ``header_csrf=True`` so the body is left
unread, and the API handler (``dialer.api.imports.upload_list``,
``dialer.api.dnc.upload_dnc_list``) streams it to disk, records the import and queues it,
exactly as for ``/api/v1``. Its answer is the API's JSON (202 with the import, or an
error with its ``field``), which the page's script shows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from dialer.errors import Conflict, NotFound, UsageError
from dialer.http.jsonio import error_response

UploadHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def api_upload(request: web.Request, handler: UploadHandler) -> web.StreamResponse:
    """Run ``handler`` (which reads the session's principal as the API principal); domain
    errors are answered as the API answers them (JSON), not as console pages."""
    try:
        return await handler(request)
    except UsageError as exc:
        return error_response(400, exc.message, field=exc.field)
    except NotFound as exc:
        return error_response(404, str(exc))
    except Conflict as exc:
        return error_response(409, exc.message, field=exc.field)
