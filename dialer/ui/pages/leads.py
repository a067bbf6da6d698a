"""Find a lead by phone number and read its page (attempts, dispositions, notes); switch a
lead list on or off and reset it for another pass. Same domain code as the API
(``dialer.leads.lists``), acting as the session's principal."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from aiohttp import web

from dialer.auth.roles import Permission
from dialer.errors import ValidationError
from dialer.http.keys import CLOCK, POOL
from dialer.leads import consent, lists
from dialer.leads import store as leads
from dialer.ui.context import session
from dialer.ui.pages.privacy import retention_rows
from dialer.ui.render import flash, render, see_other
from dialer.ui.routing import UiRoutes

routes = UiRoutes()
ID = r"{id:\d+}"
RESET_OUTCOMES = ["no_answer", "busy"]


@routes.get("/ui/leads", permission=Permission.LEADS_READ)
async def search_page(request: web.Request) -> web.Response:
    who = session(request).principal
    phone = request.query.get("phone", "").strip()
    region = request.query.get("default_region", "").strip()
    found, error, e164 = None, None, None
    if phone:
        try:
            async with request.app[POOL].acquire() as conn:
                e164, found = await lists.find_by_phone(conn, phone, region or None, who.client_id)
        except ValidationError as exc:
            error = exc.message[:1].upper() + exc.message[1:] + "."
    retention: list[dict[str, Any]] = []
    if who.can(Permission.PRIVACY):
        async with request.app[POOL].acquire() as conn:
            retention = await retention_rows(conn, who)
    context = {
        "retention": retention,
        "title": "Find a lead",
        "section": "leads",
        "query": {"phone": phone, "default_region": region},
        "found": found,
        "e164": e164,
        "error": error,
    }
    return await render(request, "leads/search.html", context, status=400 if error else 200)


@routes.get(f"/ui/leads/{ID}", permission=Permission.LEADS_READ)
async def lead_page(request: web.Request) -> web.Response:
    return await _lead_page(request)


async def _lead_page(
    request: web.Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    who = session(request).principal
    async with request.app[POOL].acquire() as conn:
        lead = await leads.get(conn, int(request.match_info["id"]), who.client_id)
        attempts = await lists.attempts_of(conn, lead["id"])
        campaign = await conn.fetchval("SELECT name FROM campaigns WHERE id = $1",
                                       lead["campaign_id"])  # fmt: skip
    context = {
        "title": f"Lead {lead['phone_e164']}",
        "section": "leads",
        "lead": lead,
        "campaign_name": campaign,
        "attempts": attempts,
        "may_write": who.can(Permission.LEADS_WRITE),
        "consent_levels": [(level, level.replace("_", " ")) for level in consent.LEVELS],
        "consent_values": values or _consent_values(lead),
        "consent_errors": errors or {},
        "may_erase": who.can(Permission.PRIVACY),
    }
    return await render(request, "leads/page.html", context, status=status)


def _consent_values(lead: dict[str, Any]) -> dict[str, str]:
    """The form's values: instants as the datetime-local inputs show them (UTC)."""
    found = {"consent": lead["consent"], "consent_source": lead["consent_source"] or ""}
    for key in consent.TIMES:
        moment = lead[key]
        found[key] = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") if moment else ""
    return found


@routes.post(f"/ui/leads/{ID}/consent", permission=Permission.LEADS_WRITE)
async def lead_consent(request: web.Request) -> web.Response:
    """Record consent, its revocation (honoured from now: the number's next dial) or the
    business relationship; the same change as ``PATCH /api/v1/leads/{id}``."""
    form = await request.post()
    values = {k: str(form.get(k, "")).strip() for k in consent.FIELDS if k in form}
    body: dict[str, Any] = {"consent": values.get("consent", "none")}
    body["consent_source"] = values.get("consent_source") or None
    for key in consent.TIMES:
        text = values.get(key, "")
        body[key] = text + ("Z" if len(text) > 10 and text[-1].isdigit() else "") or None
    if body["consent"] == "revoked" and not values.get("consent_revoked_at"):
        body.pop("consent_revoked_at")  # now, or as recorded before
    who = session(request).principal
    try:
        async with request.app[POOL].acquire() as conn:
            await leads.patch(
                conn, int(request.match_info["id"]), body, who.client_id, who=who,
                now=request.app[CLOCK].now(),
            )  # fmt: skip
    except ValidationError as exc:
        message = exc.message[:1].upper() + exc.message[1:] + "."
        errors = {exc.field or "consent": message}
        return await _lead_page(request, values=values, errors=errors, status=400)
    revoked = body["consent"] == "revoked"
    text = "Consent revoked: the number is not called again." if revoked else "Consent saved."
    await flash(request, "success", text)
    return see_other(f"/ui/leads/{request.match_info['id']}")


async def _list_campaign(request: web.Request) -> int:
    who = session(request).principal
    async with request.app[POOL].acquire() as conn:
        found = await lists.get_list(conn, int(request.match_info["id"]), who.client_id)
    return int(found["campaign_id"])


@routes.post(f"/ui/lists/{ID}/active", permission=Permission.LEADS_WRITE)
async def list_active(request: web.Request) -> web.Response:
    form = await request.post()
    active = form.get("active") == "on"
    who = session(request).principal
    campaign_id = await _list_campaign(request)
    async with request.app[POOL].acquire() as conn:
        row = await lists.set_active(
            conn, int(request.match_info["id"]), {"active": active}, who,
            now=request.app[CLOCK].now(),
        )  # fmt: skip
    state = "on: its leads are dialed" if active else "off: its leads are not dialed"
    await flash(request, "success", f"List “{row['name']}” switched {state}.")
    return see_other(f"/ui/campaigns/{campaign_id}/lists")


@routes.post(f"/ui/lists/{ID}/reset", permission=Permission.LEADS_WRITE)
async def list_reset(request: web.Request) -> web.Response:
    who = session(request).principal
    campaign_id = await _list_campaign(request)
    async with request.app[POOL].acquire() as conn:
        done = await lists.reset_list(
            conn, int(request.match_info["id"]), {"outcomes": RESET_OUTCOMES}, who,
            now=request.app[CLOCK].now(),
        )  # fmt: skip
    n = done["reset"]
    await flash(request, "success", f"{n} lead{'s' if n != 1 else ''} will be called again.")
    return see_other(f"/ui/campaigns/{campaign_id}/lists")
