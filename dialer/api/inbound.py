"""``/api/v1/campaigns/{id}/inbound``: the callbacks a campaign received (docs/inbound.md).

Each inbound call is an attempt with ``direction`` inbound: who called (``caller``), which
of the campaign's numbers (``dialed``), the lead matched by the caller's number (or null),
the agent who took it or the callback message it heard (``outcome``), and the agent's
disposition. Keyset pagination like every list (``after``, ``limit``).
"""

from __future__ import annotations

from aiohttp import web

from dialer.api.paging import PAGE_PARAMS, page_of, page_response, page_schema
from dialer.api.params import query_instant
from dialer.api.registry import Param, Routes
from dialer.auth.roles import Permission
from dialer.campaigns import store as campaigns
from dialer.engine.inbound import inbound_calls
from dialer.http.keys import POOL, principal

routes = Routes("inbound", "Callbacks from callees (inbound calls to the campaigns' numbers)")
ID = r"{id:\d+}"
_TIME = {"type": ["string", "null"], "format": "date-time"}
INBOUND_CALL = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "description": "the attempt id"},
        "lead_id": {"type": ["integer", "null"], "description": "null: nobody called them"},
        "caller": {"type": "string", "description": "the caller's number (E.164)"},
        "dialed": {"type": "string", "description": "the campaign's number they called"},
        "started_at": _TIME,
        "ended_at": _TIME,
        "outcome": {
            "type": ["string", "null"],
            "description": "completed (agent or message heard), human (hung up first), ...",
        },
        "agent_id": {"type": ["integer", "null"], "description": "the blended agent"},
        "connected_at": _TIME,
        "talk_s": {"type": ["number", "null"]},
        "hangup_cause": {"type": ["string", "null"]},
        "disposition": {"type": ["string", "null"]},
    },
}


@routes.get(
    f"/api/v1/campaigns/{ID}/inbound",
    summary="A campaign's inbound calls (callbacks), oldest first; keyset pagination",
    permission=Permission.STATS_READ,
    query=(Param("from", "only calls started at or after this instant (ISO 8601)"), *PAGE_PARAMS),
    response=page_schema(INBOUND_CALL),
)
async def list_inbound(request: web.Request) -> web.Response:
    campaign_id = int(request.match_info["id"])
    page = page_of(request)
    since = query_instant(request, "from")
    async with request.app[POOL].acquire() as conn:
        await campaigns.get(conn, campaign_id, principal(request).client_id)
        rows = await inbound_calls(
            conn, campaign_id, after=page.after, limit=page.limit, since=since
        )
    return page_response(rows, page)
