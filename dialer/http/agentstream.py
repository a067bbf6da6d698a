"""An agent's event stream (WebSocket), shared by the API and the console's agent desk:
state changes from the agent bus plus the screen pop of each call."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from dialer.agents import store
from dialer.auth.roles import Permission, Principal
from dialer.auth.tokens import token_active
from dialer.campaigns import codes, scripts
from dialer.http.jsonio import dumps, error_response
from dialer.http.keys import AGENT_BUS, POOL, principal

log = logging.getLogger(__name__)

# The event stream re-checks its token before every message and at least this often, and
# closes with this code once the token is revoked (by any process).
TOKEN_RECHECK_S = 30.0
CLOSE_TOKEN_REVOKED = 4401

SELF_DENIED = "an agent token may only act as its own agent"


async def acting_on(request: web.Request) -> tuple[int, Principal]:
    """The agent a desktop route acts on, after the own-agent / manager check."""
    who, agent_id = principal(request), int(request.match_info["id"])
    if who.agent_id is not None and who.agent_id != agent_id:
        async with request.app[POOL].acquire() as conn:
            await store.get(conn, agent_id, who.client_id)  # 404 if another client's
        raise web.HTTPForbidden(reason=SELF_DENIED)
    if who.agent_id is None and not who.can(Permission.AGENTS_WRITE):
        raise web.HTTPForbidden(reason="only managers or the agent itself may do this")
    return agent_id, who


StillValid = Callable[[], Awaitable[bool]]


async def stream_agent_events(
    request: web.Request, still_valid: StillValid | None = None
) -> web.StreamResponse:
    """The agent's event stream. ``still_valid`` is asked before every message and at
    least every ``TOKEN_RECHECK_S``; False closes the stream (4401). Default: the
    request's token is not revoked (the console passes its session check)."""
    agent_id, who = await acting_on(request)
    pool = request.app[POOL]
    if still_valid is None:

        async def still_valid() -> bool:
            return await token_active(pool, who.token_id)

    bus = request.app.get(AGENT_BUS)
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


async def call_message(conn: Any, call_id: int, lead: dict[str, Any]) -> dict[str, Any]:
    """A call's screen pop: the lead, the campaign's dispositions (with hotkeys) and its
    script rendered for the lead (safe HTML, or None); ``inbound``: the lead called back."""
    inbound = lead.pop("direction", "outbound") == "inbound"
    items = await codes.dispositions(conn, lead["campaign_id"])
    script = scripts.render(await scripts.get_script(conn, lead["campaign_id"]), lead)
    return {
        "type": "call",
        "call_id": call_id,
        "inbound": inbound,
        "lead": lead,
        "dispositions": [{"code": d.code, "label": d.label, "hotkey": d.hotkey} for d in items],
        "script": script,
    }


def state_message(data: dict[str, Any]) -> dict[str, Any]:
    """``pending_until``: the deadline of a pause held while available (else null)."""
    pending = data.get("pending", data.get("pending_action"))
    until = data.get("pending_until") if pending and data.get("state") == "available" else None
    return {
        "type": "state",
        "state": data.get("state"),
        "reason": data.get("reason", data.get("state_reason")),
        "pending": pending,
        "pending_until": until.isoformat() if isinstance(until, datetime) else until,
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
                out.append(await call_message(conn, call_id, found))
        elif message["state"] == "on_call" and message.get("lead"):
            lead = await store.screen_lead(conn, message["lead"])
            if lead is not None:
                out.append({"type": "preview", "lead": lead})
    return out
