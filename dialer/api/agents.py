"""``/api/v1/agents``: manage agents, and the HTTP surface of agent desktops.

Managers create agents, assign the campaigns they work and an optional softphone endpoint.
A desktop (or softphone integration) logs its agent in, marks it ready or paused, logs it
out, dials or skips a previewed lead, and listens on ``/events`` (WebSocket) for the screen
pop of each connected call; the stream ends (close code 4401) as soon as its token is
revoked. An ``agent`` token acts only as its own agent; others answer 403 (same client)
or 404.
"""

from __future__ import annotations

import logging

from aiohttp import web

from dialer.agents import store
from dialer.api.paging import PAGE_PARAMS, page_of, page_response
from dialer.api.params import query_int
from dialer.api.registry import Param, Routes
from dialer.auth.roles import Permission
from dialer.campaigns.codes import check_pause_code
from dialer.engine import manual
from dialer.errors import ValidationError
from dialer.http import agentstream
from dialer.http.agentstream import acting_on
from dialer.http.jsonio import json_response, read_object
from dialer.http.keys import CLOCK, POOL, principal

log = logging.getLogger(__name__)
routes = Routes("agents", "Agents, their state, and agent-desktop events")
ID = r"{id:\d+}"
AGENT = {
    "type": "object",
    "description": "an agent with its state and campaigns",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "state": {
            "type": "string",
            "enum": ["offline", "available", "on_call", "wrap_up", "paused"],
        },
        "state_reason": {"type": ["string", "null"], "description": "pause code, or why"},
        "campaigns": {"type": "array", "items": {"type": "integer"}},
        "pending_action": {
            "type": ["string", "null"],
            "enum": ["pause", "logout", None],
            "description": "a pause or logout waiting: after the current call (on_call, "
            "wrap_up), or *held* while available because calls ring that count on the agent",
        },
        "pending_reason": {"type": ["string", "null"], "description": "its pause code"},
        "pending_until": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "a held pause applies by then at the latest (sooner once the calls "
            "it waits for are gone); null unless available with a pending action",
        },
    },
}
FIELDS_SCHEMA = {
    "name": {"type": "string", "description": "unique within the client"},
    "campaigns": {"type": "array", "items": {"type": "integer"}, "description": "campaign ids"},
    "endpoint": {"type": ["string", "null"], "description": "softphone endpoint, e.g. PJSIP/1001"},
    "blended": {
        "type": "boolean",
        "description": "takes inbound calls (callbacks) as well as outbound (docs/inbound.md)",
    },
}
REASON_BODY = {
    "type": "object",
    "properties": {"reason": {"type": "string", "description": "reason code (pause, logout)"}},
}


def _id(request: web.Request) -> int:
    return int(request.match_info["id"])


async def _reason(request: web.Request) -> str | None:
    if not request.can_read_body:
        return None
    body = await read_object(request)
    unknown = set(body) - {"reason"}
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationError(f"unknown field {field!r}", field=field)
    reason = body.get("reason")
    if reason is not None and (not isinstance(reason, str) or not 0 < len(reason) <= 100):
        raise ValidationError("reason must be a string of 1-100 characters", field="reason")
    return reason


@routes.post(
    "/api/v1/agents",
    summary="Create an agent (offline) with the campaigns it works",
    permission=Permission.AGENTS_WRITE,
    body={
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "properties": {**FIELDS_SCHEMA, "client_id": {"type": "integer"}},
    },
    status=201,
    response=AGENT,
)
async def create_agent(request: web.Request) -> web.Response:
    body = await read_object(request)
    async with request.app[POOL].acquire() as conn:
        row = await store.create(conn, body, principal(request), now=request.app[CLOCK].now())
    return json_response(store.present(row), status=201)


@routes.get(
    "/api/v1/agents",
    summary="List agents (keyset pagination: pass the last id as `after`)",
    permission=Permission.AGENTS_READ,
    query=(
        Param("state", "only agents in this state"),
        Param("campaign", "only agents working this campaign", {"type": "integer"}),
        *PAGE_PARAMS,
    ),
    response={"type": "object", "properties": {"items": {"type": "array", "items": AGENT}}},
)
async def list_agents(request: web.Request) -> web.Response:
    page = page_of(request, max_limit=store.PAGE_MAX)
    campaign = query_int(request, "campaign", default=0, lo=0) or None
    async with request.app[POOL].acquire() as conn:
        rows = await store.list_page(
            conn,
            principal(request).client_id,
            state=request.query.get("state"),
            campaign_id=campaign,
            after=page.after,
            limit=page.limit,
        )
    return page_response(rows, page, store.present)


@routes.get(
    f"/api/v1/agents/{ID}", summary="One agent", permission=Permission.AGENTS_READ, response=AGENT
)
async def get_agent(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        row = await store.get(conn, _id(request), principal(request).client_id)
    return json_response(store.present(row))


@routes.patch(
    f"/api/v1/agents/{ID}",
    summary="Change an agent's name, endpoint, campaigns or blending",
    permission=Permission.AGENTS_WRITE,
    body={"type": "object", "additionalProperties": False, "properties": FIELDS_SCHEMA},
    response=AGENT,
)
async def update_agent(request: web.Request) -> web.Response:
    body = await read_object(request)
    async with request.app[POOL].acquire() as conn:
        row = await store.update(
            conn, _id(request), body, principal(request), now=request.app[CLOCK].now()
        )
    return json_response(store.present(row))


@routes.delete(
    f"/api/v1/agents/{ID}",
    summary="Delete an agent who is not on a call",
    permission=Permission.AGENTS_WRITE,
    status=204,
)
async def delete_agent(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        await store.delete(conn, _id(request), principal(request), now=request.app[CLOCK].now())
    return web.Response(status=204)


def _state_action(action: str, summary: str) -> None:
    async def handler(request: web.Request) -> web.Response:
        agent_id, who = await acting_on(request)
        reason = await _reason(request)
        async with request.app[POOL].acquire() as conn:
            if action == "pause":  # one of the pause codes of the agent's campaigns
                await store.get(conn, agent_id, who.client_id)
                await check_pause_code(conn, agent_id, reason)
            row, _ = await store.act(
                conn,
                agent_id,
                action,
                scope=who.client_id,
                now=request.app[CLOCK].now(),
                reason=reason,
            )
        return json_response(store.present(row))

    handler.__name__ = f"agent_{action}"
    routes.post(
        f"/api/v1/agents/{ID}/{action}",
        summary=summary,
        permission=Permission.AGENT_SELF,
        body=REASON_BODY,
        response=AGENT,
    )(handler)


_state_action("login", "Log the agent in: available for calls")
_state_action("ready", "Available again after a pause (a pending or held pause is cancelled)")
_state_action(
    "pause",
    "Pause with one of the pause codes of the agent's campaigns (during a call: after it "
    "ends; while available with calls ringing for more agents than the other free ones: "
    "held, `pending_until`, until those calls are gone)",
)
_state_action("logout", "Log out (during a call: after it ends; held like a pause)")


def _preview_action(choice: str, summary: str) -> None:
    async def handler(request: web.Request) -> web.Response:
        agent_id, who = await acting_on(request)
        async with request.app[POOL].acquire() as conn:
            row = await store.preview_choice(conn, agent_id, choice, scope=who.client_id)
        return json_response(
            {"agent_id": agent_id, "lead_id": row["preview_lead_id"], "accepted": choice},
            status=202,
        )

    handler.__name__ = f"preview_{choice}"
    routes.post(
        f"/api/v1/agents/{ID}/{choice}",
        summary=summary,
        permission=Permission.AGENT_SELF,
        status=202,
        response={"type": "object"},
    )(handler)


_preview_action("skip", "Preview mode: pass on the lead on screen (offered again later)")


@routes.post(
    f"/api/v1/agents/{ID}/dial",
    summary="Manual dial: call `phone` for this agent (the call reaches this agent only; "
    "202 with the attempt id, 409 with the rules' reasons); no body: preview mode, dial the "
    "lead on screen",
    permission=Permission.AGENT_SELF,
    body={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "phone": {"type": "string", "description": "the number, in any usual format"},
            "campaign_id": {"type": "integer", "description": "a campaign the agent works"},
            "lead_id": {"type": "integer", "description": "the lead to call (its number)"},
        },
    },
    status=202,
    response={
        "type": "object",
        "properties": {
            "attempt_id": {"type": "integer"},
            "lead_id": {"type": "integer"},
            "agent_id": {"type": "integer"},
            "accepted": {"type": "string", "description": "preview mode: dial"},
            "campaign_id": {"type": "integer"},
            "phone": {"type": "string", "description": "E.164"},
        },
    },
)
async def manual_dial(request: web.Request) -> web.Response:
    """202 with the attempt id; 409 with the rules' decision (``reasons``, ``rule_ids``,
    ``next_allowed_at``) when the calling rules or the DNC list refuse the number, 409 when
    the agent is offline or busy (see ``dialer.engine.manual``)."""
    agent_id, who = await acting_on(request)
    body = await read_object(request) if request.can_read_body else {}
    if not body:  # preview mode: the agent dials the lead on screen
        async with request.app[POOL].acquire() as conn:
            row = await store.preview_choice(conn, agent_id, "dial", scope=who.client_id)
        return json_response(
            {"agent_id": agent_id, "lead_id": row["preview_lead_id"], "accepted": "dial"},
            status=202,
        )
    req = manual.parse(agent_id, body)
    try:
        async with request.app[POOL].acquire() as conn:
            accepted = await manual.request_dial(conn, req, who=who, now=request.app[CLOCK].now())
    except manual.Refused as exc:
        return json_response(exc.to_dict(), status=409)
    return json_response(accepted, status=202)


@routes.get(
    f"/api/v1/agents/{ID}/events",
    summary="WebSocket: the agent's state changes and the screen pop of each call",
    permission=Permission.AGENT_SELF,
    response={"type": "object", "description": "JSON messages: state, call, preview"},
)
async def agent_events(request: web.Request) -> web.StreamResponse:
    return await agentstream.stream_agent_events(request)
