"""Blended agents in the console: a manager lets an agent take callbacks (inbound calls)
as well as outbound calls, or stops it, from the agent list (docs/inbound.md). The same
change as ``PATCH /api/v1/agents/{id}`` with ``blended``; runners pick it up at once."""

from __future__ import annotations

from aiohttp import web

from dialer.agents import store as agents
from dialer.auth.roles import Permission
from dialer.errors import NotFound
from dialer.http.keys import CLOCK, POOL
from dialer.inputs import check_fields
from dialer.ui.context import session
from dialer.ui.render import flash, redirect
from dialer.ui.routing import UiRoutes

routes = UiRoutes()


@routes.post(r"/ui/agents/{id:\d+}/blended", permission=Permission.AGENTS_WRITE)
async def set_blended(request: web.Request) -> web.Response:
    who = session(request).principal
    form = check_fields(await request.post())
    value = str(form.get("blended") or "")
    if value not in ("on", "off"):
        await flash(request, "error", "Choose whether the agent takes callbacks (on or off).")
        return redirect(request, "/ui/desk")
    async with request.app[POOL].acquire() as conn:
        try:
            agent = await agents.update(
                conn,
                int(request.match_info["id"]),
                {"blended": value == "on"},
                who,
                now=request.app[CLOCK].now(),
            )
        except NotFound as exc:
            await flash(request, "error", str(exc))
            return redirect(request, "/ui/desk")
    took = (
        "takes callbacks as well as outbound calls"
        if agent["blended"]
        else ("takes outbound calls only")
    )
    await flash(request, "success", f"{agent['name']} {took}.")
    return redirect(request, "/ui/desk")
