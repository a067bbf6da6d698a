"""People who sign in: list them, create one (an agent user gets its agent), disable one.

The same domain functions as ``/api/v1/users`` (``dialer.auth.users``), acting as the
session's principal: a client's manager sees and manages that client's users only."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dialer.auth import users
from dialer.auth.roles import USER_ROLES, Permission
from dialer.errors import Conflict, NotFound, ValidationError
from dialer.http.keys import CLOCK, POOL
from dialer.ui.context import session
from dialer.ui.render import flash, render, see_other
from dialer.ui.routing import UiRoutes

routes = UiRoutes()
FIELDS = ("name", "role", "password", "agent")


async def _page(
    request: web.Request, form: dict[str, str], errors: dict[str, str], status: int = 200
) -> web.Response:
    who = session(request).principal
    async with request.app[POOL].acquire() as conn:
        rows = await users.list_users(conn, who.client_id)
    roles = [(r, r.title()) for r in USER_ROLES if r != "admin" or who.client_id is None]
    now = request.app[CLOCK].now()
    for row in rows:
        row["locked"] = row["locked_until"] is not None and row["locked_until"] > now
    context = {
        "title": "Users",
        "section": "users",
        "users": rows,
        "roles": roles,
        "form": form,
        "errors": errors,
        "me": who.user_id,
    }
    return await render(request, "users/page.html", context, status=status)


@routes.get("/ui/users", permission=Permission.USERS_WRITE)
async def users_page(request: web.Request) -> web.Response:
    return await _page(request, {"role": "agent"}, {})


@routes.post("/ui/users", permission=Permission.USERS_WRITE)
async def create_user(request: web.Request) -> web.Response:
    posted = await request.post()
    form = {k: str(posted.get(k, "")) for k in FIELDS}
    body: dict[str, Any] = {k: form[k] for k in ("name", "role", "password")}
    if form["agent"].strip():
        body["agent"] = form["agent"].strip()
    who = session(request).principal
    try:
        async with request.app[POOL].acquire() as conn:
            row = await users.create_user(conn, body, who, now=request.app[CLOCK].now())
    except (ValidationError, Conflict, NotFound) as exc:
        field = getattr(exc, "field", None) or "agent"
        message = exc.message if isinstance(exc, ValidationError | Conflict) else str(exc)
        form["password"] = ""
        errors = {field if field in FIELDS else "name": message[:1].upper() + message[1:] + "."}
        return await _page(request, form, errors, status=400)
    await flash(request, "success", f"User “{row['name']}” created ({row['role']}).")
    return see_other("/ui/users")


@routes.post(r"/ui/users/{id:\d+}/disable", permission=Permission.USERS_WRITE)
async def disable_user(request: web.Request) -> web.Response:
    who = session(request).principal
    async with request.app[POOL].acquire() as conn:
        row = await users.disable_user(
            conn, int(request.match_info["id"]), who, now=request.app[CLOCK].now()
        )
    await flash(request, "success", f"User “{row['name']}” disabled; their sessions have ended.")
    return see_other("/ui/users")
