"""Supervisor monitoring: ``/api/v1/calls/{id}/monitor``, ``/api/v1/monitors/{id}`` and
``/api/v1/calls/live``.

A manager rings their phone into a call connected to an agent to listen, whisper to the
agent or barge in (``dialer.engine.monitor``). The process answering must run the dialing
engine (every ``dialer serve`` does); its switch must be able to monitor (409 otherwise).
Every start, mode change and stop is audited.
"""

from __future__ import annotations

from aiohttp import web

from dialer.api.params import query_int
from dialer.api.registry import Param, Routes
from dialer.auth.roles import Permission
from dialer.engine.monitor import Monitors
from dialer.errors import Conflict
from dialer.http.jsonio import json_response, read_object
from dialer.http.keys import ENGINE, principal

routes = Routes("monitors", "Supervisors listening to, whispering in or barging into calls")
ID = r"{id:\d+}"
MODE = {
    "enum": ["listen", "whisper", "barge"],
    "description": "listen: hear both, heard by none; whisper: only the agent hears you; "
    "barge: everybody hears everybody",
}
MONITOR = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "call_id": {"type": "integer", "description": "the call (attempt) monitored"},
        "campaign_id": {"type": "integer"},
        "agent_id": {"type": ["integer", "null"]},
        "mode": MODE,
        "modes": {"type": "array", "items": MODE, "description": "every mode it was in"},
        "endpoint": {"type": "string"},
        "actor": {"type": "string", "description": "who started it"},
        "started_at": {"type": "string", "format": "date-time"},
        "ended_at": {"type": ["string", "null"], "format": "date-time"},
        "end_reason": {
            "type": ["string", "null"],
            "description": "stopped, call_ended or supervisor (their phone hung up)",
        },
        "live": {"type": "boolean"},
    },
}
START_BODY = {
    "type": "object",
    "required": ["mode", "endpoint"],
    "additionalProperties": False,
    "properties": {
        "mode": MODE,
        "endpoint": {
            "type": "string",
            "description": "the supervisor's phone: PJSIP/2001, user/2001, or an extension",
        },
    },
}
MODE_BODY = {
    "type": "object",
    "required": ["mode"],
    "additionalProperties": False,
    "properties": {"mode": MODE},
}


def _monitors(request: web.Request) -> Monitors:
    engine = request.app.get(ENGINE)
    if engine is None:
        raise Conflict("this process runs no dialing engine: it cannot monitor calls", field="id")
    return engine.monitors


@routes.post(
    f"/api/v1/calls/{ID}/monitor",
    summary="Ring your phone into a live call to listen, whisper or barge",
    permission=Permission.CALLS_MONITOR,
    body=START_BODY,
    status=201,
    response=MONITOR,
)
async def start_monitor(request: web.Request) -> web.Response:
    body = await read_object(request)
    monitors = _monitors(request)
    row = await monitors.start(int(request.match_info["id"]), body, who=principal(request))
    return json_response(row, status=201)


@routes.get(
    f"/api/v1/monitors/{ID}",
    summary="One monitor session",
    permission=Permission.CALLS_MONITOR,
    response=MONITOR,
)
async def get_monitor(request: web.Request) -> web.Response:
    row = await _monitors(request).get(int(request.match_info["id"]), who=principal(request))
    return json_response(row)


@routes.patch(
    f"/api/v1/monitors/{ID}",
    summary="Switch a live monitor to listen, whisper or barge",
    permission=Permission.CALLS_MONITOR,
    body=MODE_BODY,
    response=MONITOR,
)
async def change_monitor(request: web.Request) -> web.Response:
    body = await read_object(request)
    monitors = _monitors(request)
    row = await monitors.change(int(request.match_info["id"]), body, who=principal(request))
    return json_response(row)


@routes.delete(
    f"/api/v1/monitors/{ID}",
    summary="Stop monitoring (your phone hangs up; the call goes on)",
    permission=Permission.CALLS_MONITOR,
    response=MONITOR,
)
async def stop_monitor(request: web.Request) -> web.Response:
    row = await _monitors(request).stop(int(request.match_info["id"]), who=principal(request))
    return json_response(row)


@routes.get(
    "/api/v1/calls/live",
    summary="Calls connected to an agent now, with their live monitors",
    permission=Permission.CALLS_MONITOR,
    query=(Param("campaign", "only calls of this campaign", {"type": "integer"}),),
    response={
        "type": "object",
        "properties": {
            "monitoring": {"type": "boolean", "description": "whether the switch can monitor"},
            "calls": {"type": "array", "items": {"type": "object"}},
        },
    },
)
async def live_calls(request: web.Request) -> web.Response:
    campaign = query_int(request, "campaign", default=0, lo=0) or None
    result = await _monitors(request).live(who=principal(request), campaign_id=campaign)
    return json_response(result)
