"""A campaign's lead lists: upload a CSV (streamed), watch its import, read its summary
and download its rejected rows.

The upload is the API's own handler (``POST /api/v1/campaigns/{id}/lists``) acting as the
session's principal; the progress and the error report read the same import records with
the same scoping (``dialer.api.imports``), so the console can never show or take more than
the token could through the API.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dialer.auth.roles import Permission
from dialer.campaigns import store
from dialer.http import uploads
from dialer.http.keys import CLOCK, POOL
from dialer.leads import imports, phones
from dialer.sql import queries
from dialer.stats import penetration
from dialer.stats.summary import list_figures
from dialer.ui.context import session
from dialer.ui.pages.live import head_context
from dialer.ui.render import is_htmx, render, render_partial
from dialer.ui.routing import UiRoutes
from dialer.ui.uploads import api_upload

routes = UiRoutes()
ID = r"{id:\d+}"
IMPORTS_SHOWN = 10
POLL_S = 1
_Q = queries("dialer.ui")
# Why rows are rejected, in words (reasons the importer reports; others are humanised).
REASONS = {
    phones.MISSING_PHONE: "No phone number",
    phones.INVALID_NUMBER: "Not a valid phone number",
    phones.NO_COUNTRY_CODE: "No country code (the campaign has no default country)",
    phones.MALFORMED_ROW: "Row cannot be read",
    phones.DUPLICATE_IN_FILE: "Repeated within the file",
    phones.DUPLICATE_IN_CAMPAIGN: "Already in the campaign",
    phones.DNC: "On a do-not-call list",
    phones.ALREADY_LISTED: "Already on the list",
}


def import_view(row: dict[str, Any]) -> dict[str, Any]:
    """An import as the console shows it: the API's presentation, reasons largest first."""
    data = imports.present(row)
    reasons = sorted(data["rejected_by_reason"].items(), key=lambda kv: (-kv[1], kv[0]))
    data["reasons"] = [(key, REASONS.get(key), n) for key, n in reasons]
    data["live"] = data["state"] in ("queued", "running")
    return data


async def recent_imports(
    pool_or_conn: Any, kind: str, scope: int | None, campaign_id: int | None
) -> list[dict[str, Any]]:
    rows = await pool_or_conn.fetch(_Q["recent_imports"], kind, scope, campaign_id, IMPORTS_SHOWN)
    return [import_view(dict(r)) for r in rows]


@routes.get(f"/ui/campaigns/{ID}/lists", permission=Permission.LEADS_READ)
async def lists_page(request: web.Request) -> web.Response:
    who = session(request).principal
    async with request.app[POOL].acquire() as conn:
        campaign = await store.get(conn, int(request.match_info["id"]), who.client_id)
        found = await recent_imports(conn, "leads", who.client_id, campaign["id"])
        lists = await list_figures(conn, campaign["id"])
        leads = await penetration(conn, campaign["id"])
    context = {
        "title": f"Lead lists · {campaign['name']}",
        "section": "campaigns",
        **head_context(who, campaign, "lists"),
        "imports": found,
        "lists": lists,
        "leads": leads,
        "may_upload": who.can(Permission.LEADS_WRITE),
        "upload_url": f"/ui/campaigns/{campaign['id']}/lists",
        "default_region": campaign.get("default_region") or "",
        "poll_s": POLL_S,
    }
    return await render(request, "lists/page.html", context)


@routes.get(f"/ui/campaigns/{ID}/lists/side", permission=Permission.LEADS_READ)
async def lists_side(request: web.Request) -> web.Response:
    """The Leads and Lists panels alone: the page fetches them again when an import ends."""
    who = session(request).principal
    async with request.app[POOL].acquire() as conn:
        campaign = await store.get(conn, int(request.match_info["id"]), who.client_id)
        lists = await list_figures(conn, campaign["id"])
        leads = await penetration(conn, campaign["id"])
    context = {
        "campaign": campaign,
        "lists": lists,
        "leads": leads,
        "may_upload": who.can(Permission.LEADS_WRITE),
    }
    return render_partial(request, "lists/_side.html", context)


@routes.post(f"/ui/campaigns/{ID}/lists", permission=Permission.LEADS_WRITE, header_csrf=True)
async def upload_list(request: web.Request) -> web.StreamResponse:
    """The CSV streamed by the page: ``POST /api/v1/campaigns/{id}/lists`` as this session."""
    return await api_upload(request, uploads.upload_list)


@routes.get(r"/ui/imports/{id:\d+}", permission=Permission.LEADS_READ)
async def import_card(request: web.Request) -> web.Response:
    """One import: the card the pages poll while it runs (htmx), or a page of its own."""
    row = await uploads.visible_import(request, int(request.match_info["id"]))
    shown = import_view(row)
    context: dict[str, Any] = {"i": shown, "poll_s": POLL_S}
    if is_htmx(request):
        # The last poll of a finished import tells the page, whose other panels refresh.
        done = {} if shown["live"] else {"HX-Trigger": "import-done"}
        return render_partial(request, "imports/_card.html", context, headers=done)
    back = f"/ui/campaigns/{row['campaign_id']}/lists" if row["kind"] == "leads" else "/ui/dnc"
    now = request.app[CLOCK].now()
    context |= {"title": f"Import #{row['id']}", "back": back, "now": now}
    section = "campaigns" if row["kind"] == "leads" else "dnc"
    return await render(request, "imports/page.html", {**context, "section": section})


@routes.get(r"/ui/imports/{id:\d+}/errors.csv", permission=Permission.LEADS_READ)
async def import_errors(request: web.Request) -> web.StreamResponse:
    """The rejected rows as CSV: ``GET /api/v1/imports/{id}/errors.csv`` as this session."""
    return await uploads.import_errors(request)
