"""Privacy in the console: erase a lead (a confirmed form on its page) and set the lead
retention of the clients the session sees (on the Find a lead page). The same domain code
as the API (``dialer.privacy``), acting as the session's principal; CSRF like every form."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp import web

from dialer.auth.roles import Permission, Principal
from dialer.errors import DialerError, ValidationError
from dialer.http.keys import CLOCK, POOL, RECORDINGS
from dialer.privacy import erase, retention
from dialer.ui.context import session
from dialer.ui.render import flash, see_other
from dialer.ui.routing import UiRoutes

routes = UiRoutes()
ID = r"{id:\d+}"


async def retention_rows(conn: asyncpg.Connection, who: Principal) -> list[dict[str, Any]]:
    """The clients the session sees, with their lead retention (for the search page)."""
    rows = await conn.fetch(
        "SELECT id, name, lead_retention_days FROM clients"
        " WHERE $1::bigint IS NULL OR id = $1 ORDER BY id",
        who.client_id,
    )
    return [dict(r) for r in rows]


@routes.post(f"/ui/leads/{ID}/erase", permission=Permission.PRIVACY)
async def erase_lead(request: web.Request) -> web.Response:
    who = session(request).principal
    lead_id = int(request.match_info["id"])
    form = await request.post()
    async with request.app[POOL].acquire() as conn:
        done = await erase.erase_lead(
            conn,
            lead_id,
            who=who,
            now=request.app[CLOCK].now(),
            suppress=form.get("suppress", "on") == "on",
        )
    await erase.delete_files(request.app.get(RECORDINGS), done)
    note = " Their number is suppressed: it will not be imported again." if done.suppressed else ""
    await flash(
        request,
        "success",
        f"Lead #{lead_id} erased: {done.attempts} call record"
        f"{'s' if done.attempts != 1 else ''} kept without personal data.{note}",
    )
    return see_other("/ui/leads")


@routes.post("/ui/privacy/retention", permission=Permission.PRIVACY)
async def set_retention(request: web.Request) -> web.Response:
    who = session(request).principal
    form = await request.post()
    text = str(form.get("lead_retention_days", "")).strip()
    try:
        client_id = int(str(form.get("client_id", "")))
        days = None if not text else int(text) if text.isdigit() else -1
        days = retention.parse_days({"lead_retention_days": days})
        async with request.app[POOL].acquire() as conn:
            row = await retention.set_retention(
                conn, client_id, days, who, now=request.app[CLOCK].now()
            )
    except (ValueError, ValidationError, DialerError) as exc:
        message = str(exc) if isinstance(exc, DialerError) else "choose a client"
        await flash(request, "error", message[:1].upper() + message[1:] + ".")
        return see_other("/ui/leads#retention")
    kept = f"{days} days" if days else "until erased"
    await flash(request, "success", f"Leads of {row['name']} are now kept {kept}.")
    return see_other("/ui/leads#retention")
