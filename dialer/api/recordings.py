"""``/api/v1/attempts/{id}/recording``: download a call's recording (a token of the
attempt's client; another client's attempt is not found)."""

from __future__ import annotations

from aiohttp import web

from dialer.api.registry import Routes
from dialer.auth.roles import Permission
from dialer.http.keys import principal
from dialer.http.recordings import recording_response

routes = Routes("recordings", "Call recordings")


@routes.get(
    r"/api/v1/attempts/{id:\d+}/recording",
    summary="The call's recording (audio/wav); 404 if none or not yours",
    permission=Permission.LEADS_READ,
)
async def get_recording(request: web.Request) -> web.StreamResponse:
    return await recording_response(
        request, int(request.match_info["id"]), principal(request).client_id
    )
