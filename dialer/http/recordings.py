"""Serving a call's recording, shared by the API (a token) and the console (a session)."""

from __future__ import annotations

from aiohttp import web

from dialer.errors import NotFound
from dialer.http.keys import POOL, RECORDINGS
from dialer.recordings import find_key


async def recording_response(
    request: web.Request, attempt_id: int, scope: int | None
) -> web.Response:
    """The WAV of an attempt ``scope`` may see (shared by the API and the console)."""
    async with request.app[POOL].acquire() as conn:
        key = await find_key(conn, attempt_id, scope)
    data = await request.app[RECORDINGS].read(key)
    if data is None:
        raise NotFound(f"the recording of attempt {attempt_id} is no longer stored")
    return web.Response(
        body=data,
        content_type="audio/wav",
        headers={
            "Content-Disposition": f'attachment; filename="attempt-{attempt_id}.wav"',
            "Cache-Control": "private, no-store",
        },
    )
