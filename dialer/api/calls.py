"""``/api/v1/calls/{id}/disposition`` and ``/api/v1/leads/{id}/callback``.

A call's id is its attempt id (the ``call_id`` an agent desktop receives in its screen pop).
Both routes call the same domain functions the simulated agents use
(``dialer.engine.dispositions``), so a disposition and a CRM callback follow one rule.
"""

from __future__ import annotations

from aiohttp import web

from dialer.api.registry import Routes
from dialer.auth.roles import Permission
from dialer.engine.dispositions import record_disposition, schedule_callback
from dialer.http.jsonio import json_response, read_object
from dialer.http.keys import CLOCK, POOL, principal

routes = Routes("calls", "Dispositions of calls and callbacks of leads")
ID = r"{id:\d+}"

WHEN = {
    "type": "string",
    "description": "ISO 8601 with an offset, or a local time without one (the lead's zone)",
}
DISPOSITION_BODY = {
    "type": "object",
    "required": ["disposition"],
    "additionalProperties": False,
    "properties": {
        "disposition": {
            "type": "string",
            "description": "the agent's result code; no_answer, busy, machine and failed "
            "are retried like those outcomes, anything else completes the lead",
        },
        "callback_at": {**WHEN, "type": ["string", "null"]},
        "callback_owner": {
            "enum": ["agent", "anyone"],
            "description": "who dials the callback (default: this agent)",
        },
        "dnc": {"type": "boolean", "description": "the callee asked not to be called again"},
        "notes": {"type": ["string", "null"]},
    },
}
CALLBACK_BODY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "at": {"type": "string", "format": "date-time", "description": "instant with offset"},
        "local_time": {
            "type": "string",
            "description": "wall-clock time in the lead's own zone, e.g. 2026-12-01T10:00",
        },
        "agent_id": {"type": "integer", "description": "only this agent dials it (optional)"},
    },
}


@routes.post(
    f"/api/v1/calls/{ID}/disposition",
    summary="Disposition a call the agent talked on (ends the agent's wrap-up)",
    permission=Permission.AGENT_SELF,
    body=DISPOSITION_BODY,
    response={"type": "object", "description": "the attempt with its disposition"},
)
async def disposition(request: web.Request) -> web.Response:
    body = await read_object(request)
    async with request.app[POOL].acquire() as conn:
        row = await record_disposition(
            conn,
            int(request.match_info["id"]),
            body,
            who=principal(request),
            now=request.app[CLOCK].now(),
        )
    row.pop("compliance", None)
    return json_response(row)


@routes.post(
    f"/api/v1/leads/{ID}/callback",
    summary="Schedule a callback for a lead, for anyone or one agent",
    permission=Permission.LEADS_WRITE,
    body=CALLBACK_BODY,
    response={"type": "object"},
)
async def callback(request: web.Request) -> web.Response:
    body = await read_object(request)
    async with request.app[POOL].acquire() as conn:
        result = await schedule_callback(
            conn,
            int(request.match_info["id"]),
            body,
            who=principal(request),
            now=request.app[CLOCK].now(),
        )
    return json_response(result)
