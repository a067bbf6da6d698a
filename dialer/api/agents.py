"""``/api/v1/agents``: manage agents, and the HTTP surface of agent desktops.

Managers create agents, assign the campaigns they work and an optional softphone endpoint.
A desktop (or softphone integration) logs its agent in, marks it ready or paused, logs it
out, dials or skips a previewed lead, and listens on ``/events`` (WebSocket) for the screen
pop of each connected call; the stream ends (close code 4401) as soon as its token is
revoked. An ``agent`` token acts only as its own agent; others answer 403 (same client)
or 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from dialer.agents import store
from dialer.api.context import CLOCK, POOL, SERVICES, principal
from dialer.api.jsonio import dumps, error_response, json_response, read_object
from dialer.api.paging import PAGE_PARAMS, page_of, page_response
from dialer.api.params import query_int
from dialer.api.registry import Param, Routes
from dialer.auth.roles import Permission, Principal
from dialer.auth.tokens import token_active
from dialer.errors import ValidationError

log = logging.getLogger(__name__)
routes = Routes("agents", "Agents, their state, and agent-desktop events")
ID = r"{id:\d+}"
AGENT = {"type": "object", "description": "an agent with its state and campaigns"}
FIELDS_SCHEMA = {
    "name": {"type": "string", "description": "unique within the client"},
    "campaigns": {"type": "array", "items": {"type": "integer"}, "description": "campaign ids"},
    "endpoint": {"type": ["string", "null"], "description": "softphone endpoint, e.g. PJSIP/1001"},
}
REASON_BODY = {
    "type": "object",
    "properties": {"reason": {"type": "string", "description": "reason code (pause, logout)"}},
}
SELF_DENIED = "an agent token may only act as its own agent"
# The event stream re-checks its token before every message and at least this often, and
# closes with this code once the token is revoked (by any process).
TOKEN_RECHECK_S = 30.0
CLOSE_TOKEN_REVOKED = 4401


def _id(request: web.Request) -> int:
    return int(request.match_info["id"])


async def _acting_on(request: web.Request) -> tuple[int, Principal]:
    """The agent a desktop route acts on, after the own-agent / manager check."""
    who, agent_id = principal(request), _id(request)
    if who.agent_id is not None and who.agent_id != agent_id:
        async with request.app[POOL].acquire() as conn:
            await store.get(conn, agent_id, who.client_id)  # 404 if another client's
        raise web.HTTPForbidden(reason=SELF_DENIED)
    if who.agent_id is None and not who.can(Permission.AGENTS_WRITE):
        raise web.HTTPForbidden(reason="only managers or the agent itself may do this")
    return agent_id, who


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
    summary="Change an agent's name, endpoint or campaigns",
    permission=Permission.AGENTS_WRITE,
    body={"type": "object", "additionalProperties": False, "properties": FIELDS_SCHEMA},
    response=AGENT,
)
async def update_agent(request: web.Request) -> web.Response:
    body = await read_object(request)
    async with request.app[POOL].acquire() as conn:
        row = await store.update(conn, _id(request), body, principal(request))
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
        agent_id, who = await _acting_on(request)
        reason = await _reason(request)
        async with request.app[POOL].acquire() as conn:
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
_state_action("ready", "Available again after a pause (during a call: cancels a pending pause)")
_state_action("pause", "Pause with a reason code (during a call: after it ends)")
_state_action("logout", "Log out (during a call: after it ends)")


def _preview_action(choice: str, summary: str) -> None:
    async def handler(request: web.Request) -> web.Response:
        agent_id, who = await _acting_on(request)
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


_preview_action("dial", "Preview mode: dial the lead on screen")
_preview_action("skip", "Preview mode: pass on the lead on screen (offered again later)")


@routes.get(
    f"/api/v1/agents/{ID}/events",
    summary="WebSocket: the agent's state changes and the screen pop of each call",
    permission=Permission.AGENT_SELF,
    response={"type": "object", "description": "JSON messages: state, call, preview"},
)
async def agent_events(request: web.Request) -> web.StreamResponse:
    return await stream_agent_events(request)


StillValid = Callable[[], Awaitable[bool]]


async def stream_agent_events(
    request: web.Request, still_valid: StillValid | None = None
) -> web.StreamResponse:
    """The agent's event stream. ``still_valid`` is asked before every message and at
    least every ``TOKEN_RECHECK_S``; False closes the stream (4401). Default: the
    request's token is not revoked (the console passes its session check)."""
    agent_id, who = await _acting_on(request)
    pool = request.app[POOL]
    if still_valid is None:

        async def still_valid() -> bool:
            return await token_active(pool, who.token_id)

    bus = request.app[SERVICES].get("agent_bus")
    if bus is None:
        return error_response(503, "agent events need the dialing engine (dialer serve)")
    async with request.app[POOL].acquire() as conn:
        agent = await store.get(conn, agent_id, who.client_id)
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)

    def listen(message: dict[str, Any]) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(message)

    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    unsubscribe = bus.subscribe(listen, agent_id=agent_id)
    reader = asyncio.create_task(_drain(ws))
    close_code: int = WSCloseCode.OK
    close_message = b""
    try:
        await ws.send_str(dumps(state_message(agent)))
        while not reader.done():
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait(
                {getter, reader}, timeout=TOKEN_RECHECK_S, return_when=asyncio.FIRST_COMPLETED
            )
            if reader in done:
                getter.cancel()
                break
            if not await still_valid():  # before anything is sent
                getter.cancel()
                close_code, close_message = CLOSE_TOKEN_REVOKED, b"signed out or token revoked"
                log.info("agent events closed: access ended", extra={"agent_id": agent_id})
                break
            if getter not in done:  # quiet: the token was checked, wait again
                getter.cancel()
                continue
            message = getter.result()
            for out in await desk_messages(request, message):
                await ws.send_str(dumps(out))
            if message.get("deleted"):
                break
    finally:
        unsubscribe()
        reader.cancel()
        await ws.close(code=close_code, message=close_message)
    return ws


async def _drain(ws: web.WebSocketResponse) -> None:
    """Read (and ignore) what the desktop sends until it closes the socket."""
    async for msg in ws:
        if msg.type == WSMsgType.ERROR:
            return


def state_message(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "state",
        "state": data.get("state"),
        "reason": data.get("reason", data.get("state_reason")),
        "pending": data.get("pending", data.get("pending_action")),
        "call_id": data.get("attempt", data.get("attempt_id")),
        "campaign_id": data.get("campaign", data.get("campaign_id")),
    }


async def desk_messages(request: web.Request, message: dict[str, Any]) -> list[dict[str, Any]]:
    """What the desktop receives for one bus message: the state, plus a screen pop."""
    if message.get("event") != "state":
        return []
    out = [state_message(message)]
    async with request.app[POOL].acquire() as conn:
        if message["state"] == "on_call" and message.get("attempt"):
            found = await store.screen_call(conn, message["attempt"])
            if found is not None:
                call_id = found.pop("call_id")
                out.append({"type": "call", "call_id": call_id, "lead": found})
        elif message["state"] == "on_call" and message.get("lead"):
            lead = await store.screen_lead(conn, message["lead"])
            if lead is not None:
                out.append({"type": "preview", "lead": lead})
    return out
