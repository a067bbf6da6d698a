"""A campaign's caller-ID pool: the numbers, local presence, the daily cap, today's use,
retiring a number, and "which number would a call to this phone present, and why".

Every step is the domain code the API uses (``dialer.campaigns.callerids``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dialer.auth.roles import Permission
from dialer.campaigns import callerids, store
from dialer.errors import ValidationError
from dialer.http.keys import CLOCK, POOL
from dialer.ui.context import session
from dialer.ui.render import flash, render, see_other
from dialer.ui.routing import UiRoutes

routes = UiRoutes()
ID = r"{id:\d+}"


def _numbers(text: str) -> list[str]:
    return [n.strip() for n in text.replace(",", "\n").splitlines() if n.strip()]


def _cap(text: str) -> int | str | None:
    text = text.strip()
    if not text:
        return None
    return int(text) if text.isdigit() else text  # a non-number is refused by parse_pool


async def _page(
    request: web.Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    who = session(request).principal
    campaign_id = int(request.match_info["id"])
    now = request.app[CLOCK].now()
    phone = request.query.get("phone", "").strip()
    picked: dict[str, Any] | None = None
    pick_error = None
    async with request.app[POOL].acquire() as conn:
        pool = await callerids.get_pool(conn, campaign_id, who.client_id, now=now)
        campaign = await store.get(conn, campaign_id, who.client_id)
        if phone:
            try:
                picked = await callerids.pick_now(conn, campaign_id, who.client_id, phone, now=now)
            except ValidationError as exc:
                pick_error = exc.message[:1].upper() + exc.message[1:]
    items = pool["items"]
    form = values or {
        "numbers": "\n".join(i["number"] for i in items if not i["retired"]),
        "retired": "\n".join(i["number"] for i in items if i["retired"]),
        "local_presence": "on" if pool["local_presence"] else "",
        "daily_cap": "" if pool["daily_cap"] is None else str(pool["daily_cap"]),
    }
    context = {
        "title": f"Caller IDs · {campaign['name']}",
        "section": "campaigns",
        "campaign": campaign,
        "pool": pool,
        "form": form,
        "errors": errors or {},
        "phone": phone,
        "picked": picked,
        "pick_error": pick_error,
        "may_write": who.can(Permission.CAMPAIGNS_WRITE),
    }
    return await render(request, "campaigns/caller_ids.html", context, status=status)


@routes.get(f"/ui/campaigns/{ID}/caller-ids", permission=Permission.CAMPAIGNS_READ)
async def caller_ids_page(request: web.Request) -> web.Response:
    return await _page(request)


@routes.post(f"/ui/campaigns/{ID}/caller-ids", permission=Permission.CAMPAIGNS_WRITE)
async def save_caller_ids(request: web.Request) -> web.Response:
    """Replace the pool as ``PUT /api/v1/campaigns/{id}/caller-ids`` does (audited)."""
    who = session(request).principal
    campaign_id = int(request.match_info["id"])
    form = await request.post()
    values = {
        k: str(form.get(k, "")) for k in ("numbers", "retired", "local_presence", "daily_cap")
    }
    items: list[dict[str, Any]] = [{"number": n} for n in _numbers(values["numbers"])]
    items += [{"number": n, "retired": True} for n in _numbers(values["retired"])]
    body = {
        "items": items,
        "local_presence": values["local_presence"] == "on",
        "daily_cap": _cap(values["daily_cap"]),
    }
    try:
        async with request.app[POOL].acquire() as conn:
            await callerids.put_pool(conn, campaign_id, body, who, now=request.app[CLOCK].now())
    except ValidationError as exc:
        message = exc.message[:1].upper() + exc.message[1:]
        field = "daily_cap" if exc.field == "daily_cap" else "numbers"
        return await _page(request, values=values, errors={field: message}, status=400)
    await flash(request, "success", f"Caller IDs saved: {len(items)} number(s).")
    return see_other(f"/ui/campaigns/{campaign_id}/caller-ids")
