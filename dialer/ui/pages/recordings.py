"""Call recordings in the console: the player and download of each attempt's recording on
the lead page (a session that sees the attempt's client), and on the agent desktop the past
calls of the lead on the agent's screen, whose recordings that agent may hear only while the
lead is theirs (a live call, its wrap-up, or a preview). The bytes are streamed by
``dialer.http.recordings`` from wherever they are stored (local disk or object storage)."""

from __future__ import annotations

from aiohttp import web

from dialer.agents import store as agents
from dialer.auth.roles import Permission
from dialer.errors import Forbidden, NotFound
from dialer.http.keys import POOL
from dialer.http.recordings import recording_response
from dialer.leads import lists
from dialer.ui.context import session
from dialer.ui.pages.desk import may_act_for
from dialer.ui.render import render_partial
from dialer.ui.routing import UiRoutes

routes = UiRoutes()
ID = r"{id:\d+}"
_CURRENT_LEAD = """
SELECT coalesce((SELECT lead_id FROM attempts WHERE id = $1), $2::bigint)
"""


@routes.get(rf"/ui/attempts/{ID}/recording", permission=Permission.LEADS_READ)
async def recording_download(request: web.Request) -> web.StreamResponse:
    """A call's recording for a session that sees the attempt's client (404 otherwise)."""
    who = session(request).principal
    return await recording_response(request, int(request.match_info["id"]), who.client_id)


async def _lead_on_screen(request: web.Request) -> int | None:
    """The lead on the agent's screen (a call, its wrap-up, a preview), if the session
    may act for that agent: 404 for another client's agent, else ``Forbidden``."""
    who = session(request).principal
    agent_id = int(request.match_info["id"])
    async with request.app[POOL].acquire() as conn:
        agent = await agents.get(conn, agent_id, who.client_id)
        if not may_act_for(who, agent_id):
            raise Forbidden("An agent may only open their own agent desktop.")
        if agent["state"] not in ("on_call", "wrap_up"):
            return None
        lead = await conn.fetchval(_CURRENT_LEAD, agent["attempt_id"], agent["preview_lead_id"])
    return int(lead) if lead is not None else None


@routes.get(f"/ui/agents/{ID}/calls", permission=Permission.AGENT_SELF)
async def past_calls(request: web.Request) -> web.Response:
    """The desk's "Past calls" panel: the earlier attempts of the lead on screen."""
    lead = await _lead_on_screen(request)
    calls = []
    if lead is not None:
        async with request.app[POOL].acquire() as conn:
            calls = [a for a in await lists.attempts_of(conn, lead) if a["ended_at"] is not None]
    context = {"calls": calls, "agent_id": int(request.match_info["id"])}
    return render_partial(request, "desk/_calls.html", context)


@routes.get(rf"/ui/agents/{ID}/calls/{{attempt:\d+}}/recording", permission=Permission.AGENT_SELF)
async def past_call_recording(request: web.Request) -> web.StreamResponse:
    """A past call's recording for the agent who has its lead on screen (404 otherwise)."""
    lead = await _lead_on_screen(request)
    attempt_id = int(request.match_info["attempt"])
    async with request.app[POOL].acquire() as conn:
        of_lead = await conn.fetchval("SELECT lead_id FROM attempts WHERE id = $1", attempt_id)
    if lead is None or of_lead != lead:
        raise NotFound(f"attempt {attempt_id} is not a call of the lead on your screen")
    return await recording_response(request, attempt_id, session(request).principal.client_id)
