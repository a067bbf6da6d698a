"""Serving a call's recording, shared by the API (a token) and the console (a session).

The bytes are streamed through the service from wherever they are stored (local disk or
object storage): never a redirect to a public or presigned URL, so the access check is the
only way to a recording and the bucket need not be reachable from browsers."""

from __future__ import annotations

from aiohttp import web

from dialer.errors import NotFound
from dialer.http.keys import POOL, RECORDINGS
from dialer.recordings import find_key


async def recording_response(
    request: web.Request, attempt_id: int, scope: int | None
) -> web.StreamResponse:
    """The WAV of an attempt ``scope`` may see (shared by the API and the console)."""
    async with request.app[POOL].acquire() as conn:
        key = await find_key(conn, attempt_id, scope)
    got = await request.app[RECORDINGS].open(key)
    if got is None:
        raise NotFound(f"the recording of attempt {attempt_id} is no longer stored")
    response = web.StreamResponse(
        headers={
            "Content-Type": "audio/wav",
            "Content-Disposition": f'attachment; filename="attempt-{attempt_id}.wav"',
            "Cache-Control": "private, no-store",
        }
    )
    if got.size is not None:
        response.content_length = got.size
    await response.prepare(request)
    async for chunk in got.chunks:
        await response.write(chunk)
    await response.write_eof()
    return response
