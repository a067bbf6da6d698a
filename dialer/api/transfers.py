"""``/api/v1/calls/{id}/transfer`` (+ ``/complete``, ``/cancel``), ``/conference`` and
``/leave``: live call control by the agent on the call or a manager (docs/transfers.md).

Accepted requests answer 202: the runner holding the call carries them out
(``dialer.engine.transfer``); the leg's progress shows on the desk and in ``attempts``
(``parent_attempt_id``, ``leg_state``). 409 when the call is not live, already has a leg in
progress, the target agent is busy, or the calling rules / DNC lists refuse the number
(with ``reasons`` and ``rule_ids``).
"""

from __future__ import annotations

from aiohttp import web

from dialer.api.registry import Routes
from dialer.auth.roles import Permission
from dialer.engine import transferask
from dialer.engine.manual import Refused
from dialer.http.jsonio import json_response, read_object
from dialer.http.keys import CLOCK, POOL, principal

routes = Routes("transfers", "Transfers and conferences of live calls")
ID = r"{id:\d+}"

TARGET = {
    "type": "object",
    "description": "exactly one: an agent (signed in and available), a campaign (its next "
    "free agent; the callee waits on music up to the campaign's transfer_wait_s) or an "
    "outside number (normalised like an import; checked against the calling rules and DNC)",
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": False,
    "properties": {
        "agent_id": {"type": "integer"},
        "campaign_id": {"type": "integer"},
        "phone": {"type": "string"},
    },
}
NOTES = {
    "type": ["string", "null"],
    "maxLength": 2000,
    "description": "for the target agent: shown in their screen pop with the lead",
}
TRANSFER_BODY = {
    "type": "object",
    "required": ["to"],
    "additionalProperties": False,
    "properties": {
        "to": TARGET,
        "mode": {
            "enum": list(transferask.MODES),
            "description": "blind (default): hand the callee over and wrap up; warm: talk "
            "to the target first (callee on hold), then complete or cancel",
        },
        "notes": NOTES,
    },
}
CONFERENCE_BODY = {
    "type": "object",
    "required": ["to"],
    "additionalProperties": False,
    "properties": {"to": TARGET, "notes": NOTES},
}
ACCEPTED = {
    "type": "object",
    "properties": {
        "call_id": {"type": "integer", "description": "the call (attempt) transferred"},
        "leg_id": {"type": "integer", "description": "the leg's attempt (parent_attempt_id)"},
        "leg": {"enum": ["blind", "warm", "conference"]},
        "to": TARGET,
        "state": {"type": "string"},
    },
}
CONTROLLED = {
    "type": "object",
    "properties": {
        "call_id": {"type": "integer"},
        "leg_id": {"type": "integer"},
        "op": {"enum": list(transferask.OPS)},
    },
}


async def _ask(request: web.Request, *, conference: bool) -> web.Response:
    body = await read_object(request)
    try:
        async with request.app[POOL].acquire() as conn:
            accepted = await transferask.request(
                conn,
                int(request.match_info["id"]),
                body,
                who=principal(request),
                now=request.app[CLOCK].now(),
                conference=conference,
            )
    except Refused as exc:
        return json_response(exc.to_dict(), status=409)
    return json_response(accepted, status=202)


async def _control(request: web.Request, op: str) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        done = await transferask.control(
            conn,
            int(request.match_info["id"]),
            op,
            who=principal(request),
            now=request.app[CLOCK].now(),
        )
    return json_response(done, status=202)


@routes.post(
    f"/api/v1/calls/{ID}/transfer",
    summary="Transfer a live call to an agent, a campaign or a number (blind or warm)",
    permission=Permission.AGENT_SELF,
    body=TRANSFER_BODY,
    status=202,
    response=ACCEPTED,
)
async def transfer(request: web.Request) -> web.Response:
    return await _ask(request, conference=False)


@routes.post(
    f"/api/v1/calls/{ID}/transfer/complete",
    summary="Complete a warm transfer: the callee goes to the target, the agent wraps up",
    permission=Permission.AGENT_SELF,
    status=202,
    response=CONTROLLED,
)
async def complete(request: web.Request) -> web.Response:
    return await _control(request, "complete")


@routes.post(
    f"/api/v1/calls/{ID}/transfer/cancel",
    summary="Cancel a warm transfer: the target is dropped, the callee comes back",
    permission=Permission.AGENT_SELF,
    status=202,
    response=CONTROLLED,
)
async def cancel(request: web.Request) -> web.Response:
    return await _control(request, "cancel")


@routes.post(
    f"/api/v1/calls/{ID}/conference",
    summary="Add a third party (agent, campaign or number) to a live call",
    permission=Permission.AGENT_SELF,
    body=CONFERENCE_BODY,
    status=202,
    response=ACCEPTED,
)
async def conference(request: web.Request) -> web.Response:
    return await _ask(request, conference=True)


@routes.post(
    f"/api/v1/calls/{ID}/leave",
    summary="The agent leaves a conference: the callee stays with the third party",
    permission=Permission.AGENT_SELF,
    status=202,
    response=CONTROLLED,
)
async def leave(request: web.Request) -> web.Response:
    return await _control(request, "leave")
