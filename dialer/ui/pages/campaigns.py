"""Campaign pages: the list, the create and edit forms, start/pause/stop and delete.

Every read and write goes through ``dialer.campaigns.store`` with the principal's client
scope, exactly as the API does: another client's campaign is a 404 page, validation errors
come back with the same ``field`` the API reports.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import available_timezones

import asyncpg
from aiohttp import web

from dialer.auth.roles import Permission, Principal
from dialer.campaigns import control, model, store
from dialer.campaigns.states import ACTIONS
from dialer.clients import DEFAULT_CLIENT_ID, list_clients
from dialer.compliance import load_rulebook
from dialer.dnc.kinds import CATEGORY_NAMES
from dialer.errors import Conflict, NotFound, ValidationError
from dialer.http.keys import CLOCK, ENGINE, POOL
from dialer.inputs import check_fields
from dialer.stats.summary import CampaignSummary, campaign_summaries, day_start
from dialer.ui.campaign_form import DAY_NAMES, CampaignForm, body_from_form, values_from_campaign
from dialer.ui.context import session
from dialer.ui.filters import humanise
from dialer.ui.pages.auth import safe_next
from dialer.ui.render import flash, is_htmx, render, render_partial, see_other
from dialer.ui.routing import UiRoutes
from dialer.ui.sessions import FlashKind

routes = UiRoutes()
PAGE_SIZE = 50
ID = r"{id:\d+}"
MANUAL_ACTIONS = ("start", "pause", "stop")
DONE = {
    "start": "is running",
    "pause": "is paused",
    "stop": "is stopped (Start again dials its remaining leads)",
}


@functools.cache
def _zones() -> list[str]:
    """IANA zone names offered by the form's time-zone field."""
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


def actions_for(state: str) -> list[str]:
    """The buttons a campaign in ``state`` shows: the lifecycle's own table decides what is
    possible; Stop is offered only while there is dialing to stop (running or paused)."""
    return [
        a
        for a in MANUAL_ACTIONS
        if state in ACTIONS[a][0] and (a != "stop" or state in ("running", "paused"))
    ]


def _id(request: web.Request) -> int:
    return int(request.match_info["id"])


async def _client_names(conn: asyncpg.Connection, who: Principal) -> dict[int, str]:
    return {c["id"]: c["name"] for c in await list_clients(conn, who.client_id)}


def operating_zone(campaign: dict[str, Any]) -> str | None:
    """The campaign's operating time zone (its shift's), where its "today" is counted."""
    shift = campaign.get("shift")
    return shift.get("timezone") if isinstance(shift, dict) else None


async def today_figures(
    conn: asyncpg.Connection, who: Principal, rows: Sequence[dict[str, Any]], now: datetime
) -> dict[int, CampaignSummary]:
    """Today's figures of the listed campaigns (each "today" begins at midnight in its
    operating zone, UTC without one): one batch of queries per zone, not per campaign."""
    if not rows or not who.can(Permission.STATS_READ):
        return {}
    by_zone: dict[str | None, list[int]] = defaultdict(list)
    for row in rows:
        by_zone[operating_zone(row)].append(row["id"])
    figures: dict[int, CampaignSummary] = {}
    for zone, ids in by_zone.items():
        since = day_start(now, zone)
        figures |= await campaign_summaries(conn, ids, since=since, until=now, now=now)
    return figures


def _row_context(
    who: Principal, clients: dict[int, str], figures: dict[int, CampaignSummary]
) -> dict[str, Any]:
    return {
        "may_write": who.can(Permission.CAMPAIGNS_WRITE),
        "may_read_leads": who.can(Permission.LEADS_READ),
        "may_read_stats": who.can(Permission.STATS_READ),
        "clients": clients,
        "show_client": who.client_id is None and len(clients) > 1,
        "actions_for": actions_for,
        "figures": figures,
    }


@routes.get("/ui/campaigns", permission=Permission.CAMPAIGNS_READ)
async def campaign_list(request: web.Request) -> web.Response:
    who = session(request).principal
    state = request.query.get("state") or None
    if state not in (None, *model.STATES):
        state = None
    after_text = request.query.get("after", "0")
    after = int(after_text) if after_text.isdigit() and len(after_text) < 19 else 0
    async with request.app[POOL].acquire() as conn:
        rows = await store.list_page(conn, who.client_id, state=state, after=after, limit=PAGE_SIZE)
        clients = await _client_names(conn, who)
        figures = await today_figures(conn, who, rows, request.app[CLOCK].now())
    context = {
        "title": "Campaigns",
        "section": "campaigns",
        "campaigns": rows,
        "state": state,
        "states": model.STATES,
        "after": after,
        "next_after": rows[-1]["id"] if len(rows) == PAGE_SIZE else None,
        **_row_context(who, clients, figures),
    }
    return await render(request, "campaigns/list.html", context)


async def _form_page(
    request: web.Request,
    form: CampaignForm,
    *,
    campaign: dict[str, Any] | None,
    status: int = 200,
) -> web.Response:
    who = session(request).principal
    async with request.app[POOL].acquire() as conn:
        clients = await _client_names(conn, who)
    title = f"Edit {campaign['name']}" if campaign else "New campaign"
    context = {
        "title": title,
        "section": "campaigns",
        "form": form,
        "campaign": campaign,
        "fields": model.FIELDS,
        "purposes": [(p, humanise(p)) for p in model.PURPOSES],
        "categories": [("", "None")] + [(k, f"{k} · {name}") for k, name in CATEGORY_NAMES.items()],
        "dial_modes": [(m, humanise(m)) for m in model.DIAL_MODES],
        "record_modes": [(m, humanise(m)) for m in model.RECORD_MODES],
        "consent_modes": [(m, humanise(m)) for m in model.RECORDING_CONSENT],
        "alt_policies": [(m, humanise(m)) for m in model.ALT_PHONE_POLICIES],
        "opt_out_modes": [(m, humanise(m)) for m in model.OPT_OUT_MODES],
        "opt_out_keys": [(k, k) for k in model.OPT_OUT_KEYS],
        "opt_out_rules": load_rulebook().opt_out_anywhere(form.values.get("purpose") or ""),
        "zones": _zones(),
        "outcomes": model.RETRY_OUTCOMES,
        "default_retry": model.DEFAULT_RETRY_POLICY,
        "days": DAY_NAMES,
        "clients": clients,
        "choose_client": campaign is None and who.client_id is None and len(clients) > 1,
        "may_waive": who.can(Permission.CAMPAIGNS_OVERRIDE),
    }
    return await render(request, "campaigns/form.html", context, status=status)


async def _submitted(request: web.Request) -> dict[str, str]:
    form = check_fields(await request.post())
    return {k: v for k, v in form.items() if isinstance(v, str)}


@routes.get("/ui/campaigns/new", permission=Permission.CAMPAIGNS_WRITE)
async def new_campaign(request: web.Request) -> web.Response:
    form = CampaignForm(values_from_campaign(None))
    form.values["client_id"] = str(session(request).principal.client_id or DEFAULT_CLIENT_ID)
    return await _form_page(request, form, campaign=None)


@routes.post("/ui/campaigns/new", permission=Permission.CAMPAIGNS_WRITE)
async def create_campaign(request: web.Request) -> web.Response:
    who = session(request).principal
    submitted = await _submitted(request)
    form = CampaignForm(values_from_campaign(None))
    form.keep(submitted)
    body, form.errors = body_from_form(
        submitted,
        may_waive=who.can(Permission.CAMPAIGNS_OVERRIDE),
        choose_client=who.client_id is None,
    )
    if not form.errors:
        try:
            async with request.app[POOL].acquire() as conn:
                row = await store.create(conn, body, who, now=request.app[CLOCK].now())
        except (ValidationError, Conflict) as exc:
            form.add_error(exc.field, exc.message)
        except NotFound as exc:  # a client outside the principal's scope
            form.add_error("client_id", str(exc))
        else:
            # Next comes its first list: straight to the Lead lists tab (else its settings).
            await flash(request, "success", f"Campaign “{row['name']}” created.")
            tab = "lists" if who.can(Permission.LEADS_READ) else "edit"
            return see_other(f"/ui/campaigns/{row['id']}/{tab}")
    return await _form_page(request, form, campaign=None, status=400)


@routes.get(f"/ui/campaigns/{ID}/edit", permission=Permission.CAMPAIGNS_WRITE)
async def edit_campaign(request: web.Request) -> web.Response:
    who = session(request).principal
    async with request.app[POOL].acquire() as conn:
        row = await store.get(conn, _id(request), who.client_id)
    return await _form_page(request, CampaignForm(values_from_campaign(row)), campaign=row)


@routes.post(f"/ui/campaigns/{ID}/edit", permission=Permission.CAMPAIGNS_WRITE)
async def update_campaign(request: web.Request) -> web.Response:
    who = session(request).principal
    submitted = await _submitted(request)
    async with request.app[POOL].acquire() as conn:
        current = await store.get(conn, _id(request), who.client_id)
        form = CampaignForm(values_from_campaign(current))
        form.keep(submitted)
        body, form.errors = body_from_form(
            submitted, may_waive=who.can(Permission.CAMPAIGNS_OVERRIDE), choose_client=False
        )
        if not form.errors:
            try:
                row = await store.update(
                    conn, current["id"], body, who, now=request.app[CLOCK].now()
                )
            except (ValidationError, Conflict) as exc:
                form.add_error(exc.field, exc.message)
            else:
                await flash(request, "success", f"Campaign “{row['name']}” saved.")
                return see_other("/ui/campaigns")
    return await _form_page(request, form, campaign=current, status=400)


async def _row_response(
    request: web.Request, row: dict[str, Any] | None, kind: FlashKind, text: str
) -> web.Response:
    """htmx: the changed row (or nothing, once deleted) plus the message out of band."""
    who = session(request).principal
    async with request.app[POOL].acquire() as conn:
        clients = await _client_names(conn, who)
        figures = await today_figures(conn, who, [row] if row else [], request.app[CLOCK].now())
    context = {
        "c": row,
        "flash": [{"kind": kind, "text": text}],
        **_row_context(who, clients, figures),
    }
    return render_partial(request, "campaigns/_row.html", context)


@routes.post(
    f"/ui/campaigns/{ID}/{{action:start|pause|stop}}", permission=Permission.CAMPAIGNS_WRITE
)
async def campaign_action(request: web.Request) -> web.Response:
    who = session(request).principal
    action = request.match_info["action"]
    kind: FlashKind
    async with request.app[POOL].acquire() as conn:
        try:
            row, step = await control.change_state(
                conn,
                _id(request),
                action,
                scope=who.client_id,
                now=request.app[CLOCK].now(),
                engine=request.app.get(ENGINE),
            )
        except Conflict as exc:
            row = await store.get(conn, _id(request), who.client_id)
            kind, text = "error", f"“{row['name']}”: {exc.message}."
        else:
            already = "" if step.changes else " already"
            kind, text = "success", f"“{row['name']}”{already} {DONE[action]}."
    if is_htmx(request):
        return await _row_response(request, row, kind, text)
    await flash(request, kind, text)
    return see_other(await _back_to(request))


async def _back_to(request: web.Request) -> str:
    """Where a button's form returns: the page it names (a console page), else the list."""
    form = check_fields(await request.post())
    return safe_next(form.get("next")) or "/ui/campaigns"


@routes.post(f"/ui/campaigns/{ID}/delete", permission=Permission.CAMPAIGNS_WRITE)
async def delete_campaign(request: web.Request) -> web.Response:
    who = session(request).principal
    kind: FlashKind
    left: dict[str, Any] | None
    async with request.app[POOL].acquire() as conn:
        row = await store.get(conn, _id(request), who.client_id)
        try:
            await store.delete(conn, row["id"], who, now=request.app[CLOCK].now())
        except Conflict as exc:
            kind, text, left = "error", f"“{row['name']}”: {exc.message}.", row
        else:
            kind, text, left = "success", f"Campaign “{row['name']}” deleted.", None
    if is_htmx(request):
        return await _row_response(request, left, kind, text)
    await flash(request, kind, text)
    return see_other("/ui/campaigns")
