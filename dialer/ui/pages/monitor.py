"""Supervisor monitoring from the board: Listen / Whisper / Barge / Stop on each agent in a
call (``dialer.engine.monitor``, the same as ``POST /api/v1/calls/{id}/monitor``).

The buttons in the refreshing board panel submit one form outside it (``monitor-form`` in
``board/page.html``: the CSRF token and the supervisor's phone), so a refresh never wipes
what the supervisor typed. The phone defaults to the one they used last.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp import web

from dialer.auth.roles import Permission, Principal
from dialer.engine.monitor import live_monitors
from dialer.errors import Conflict, NotFound, ValidationError
from dialer.http.keys import ENGINE
from dialer.inputs import check_fields
from dialer.ui.context import session
from dialer.ui.render import flash, redirect
from dialer.ui.routing import UiRoutes

routes = UiRoutes()
BOARD = r"/ui/campaigns/{id:\d+}/board"
TARGET = r"{target:\d+}"
DOING = {"listen": "Listening to", "whisper": "Whispering to the agent on", "barge": "Barged into"}

LAST_ENDPOINT = "SELECT endpoint FROM call_monitors WHERE actor = $1 ORDER BY id DESC LIMIT 1"


async def board_monitors(
    conn: asyncpg.Connection, who: Principal, campaign_id: int
) -> dict[str, Any]:
    """What the board of ``campaign_id`` shows of monitoring: live monitors by call (of
    any campaign: an agent may be on a call of another), the phone used last."""
    if not who.can(Permission.CALLS_MONITOR):
        return {"may_monitor": False, "monitors": {}}
    live = await live_monitors(conn, None, who.client_id)  # its agents' calls may be elsewhere
    return {
        "may_monitor": True,
        "monitors": {m["call_id"]: m for m in live},
        "monitor_endpoint": await conn.fetchval(LAST_ENDPOINT, who.actor) or "",
    }


def _board(campaign_id: int) -> str:
    return f"/ui/campaigns/{campaign_id}/board"


async def _act(request: web.Request, action: str) -> web.Response:
    who = session(request).principal
    form = check_fields(await request.post())
    campaign_id = int(request.match_info["id"])
    engine = request.app.get(ENGINE)
    body = {"mode": str(form.get("mode", "")), "endpoint": str(form.get("endpoint", ""))}
    try:
        if engine is None:
            raise Conflict("this console process runs no dialing engine", field="id")
        monitors = engine.monitors
        target = int(request.match_info["target"])
        if action == "start":
            got = await monitors.start(target, body, who=who)
            text = f"{DOING[got['mode']]} call {got['call_id']} on {got['endpoint']}."
        elif body["mode"] == "stop":
            got = await monitors.stop(target, who=who)
            text = f"Stopped monitoring call {got['call_id']}."
        else:
            got = await monitors.change(target, {"mode": body["mode"]}, who=who)
            text = f"{DOING[got['mode']]} call {got['call_id']}."
    except (ValidationError, Conflict, NotFound) as exc:
        message = str(exc)
        await flash(request, "error", message[:1].upper() + message[1:] + ".")
    else:
        await flash(request, "success", text)
    return redirect(request, _board(campaign_id))


@routes.post(f"{BOARD}/calls/{TARGET}/monitor", permission=Permission.CALLS_MONITOR)
async def start_monitor(request: web.Request) -> web.Response:
    return await _act(request, "start")


@routes.post(f"{BOARD}/monitors/{TARGET}", permission=Permission.CALLS_MONITOR)
async def change_monitor(request: web.Request) -> web.Response:
    return await _act(request, "change")
