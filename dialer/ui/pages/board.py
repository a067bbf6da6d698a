"""The supervisor board (every agent of a campaign: state, time in state, pause code,
current call and its duration, calls today; refreshed by htmx polling like the live view)
and the agent report page (``dialer.stats.agents``, the report behind
``/api/v1/reports/agents``)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from aiohttp import web

from dialer.agents.states import STATES as AGENT_STATES
from dialer.auth.roles import Permission, Principal
from dialer.errors import ValidationError
from dialer.http.keys import CLOCK, POOL
from dialer.instants import parse_instant
from dialer.sql import queries
from dialer.stats.agents import agent_report, report_csv
from dialer.stats.summary import day_start
from dialer.ui.context import session
from dialer.ui.pages.campaigns import operating_zone
from dialer.ui.pages.live import REFRESH_S, polled_page, polled_panel
from dialer.ui.pages.monitor import board_monitors
from dialer.ui.render import render
from dialer.ui.routing import UiRoutes

routes = UiRoutes()
ID = r"{id:\d+}"
DEFAULT_WINDOW = timedelta(hours=24)
_Q = queries("dialer.ui")


async def _board(
    conn: asyncpg.Connection, who: Principal, campaign: dict[str, Any], now: datetime
) -> dict[str, Any]:
    since = day_start(now, operating_zone(campaign))
    team = [dict(r) for r in await conn.fetch(_Q["board_agents"], campaign["id"], since)]
    by_state = Counter(a["state"] for a in team)
    monitoring = await board_monitors(conn, who, campaign["id"])
    for agent in team:  # the live monitor on the agent's current call, if any
        agent["monitor"] = monitoring["monitors"].get(agent["attempt_id"])
    return {
        **monitoring,
        "campaign": campaign,
        "team": team,
        "by_state": [(s, by_state.get(s, 0)) for s in AGENT_STATES],
        "now": now,
        "refresh_s": REFRESH_S,
    }


@routes.get(f"/ui/campaigns/{ID}/board", permission=Permission.STATS_READ)
async def board_page(request: web.Request) -> web.Response:
    return await polled_page(
        request, tab="board", title="{name}: agents", template="board/page.html", build=_board
    )


@routes.get(f"/ui/campaigns/{ID}/board/panel", permission=Permission.STATS_READ)
async def board_panel(request: web.Request) -> web.Response:
    """The refreshing part of the board (htmx polls it); the full page without htmx."""
    return await polled_panel(
        request, page="/ui/campaigns/{id}/board", template="board/_panel.html", build=_board
    )


async def _report(request: web.Request) -> tuple[dict[str, Any], dict[str, Any] | None, Any]:
    """(the form's values, the report or None, the error or None)."""
    who = session(request).principal
    now = request.app[CLOCK].now()
    form = {k: request.query.get(k, "").strip() for k in ("from", "to", "campaign")}
    report, error = None, None
    try:
        until = parse_instant(form["to"], "to") or now
        since = parse_instant(form["from"], "from") or until - DEFAULT_WINDOW
        if form["campaign"] and not form["campaign"].isdigit():
            raise ValidationError("choose a campaign from the list", field="campaign")
        async with request.app[POOL].acquire() as conn:
            report = await agent_report(
                conn,
                scope=who.client_id,
                campaign_id=int(form["campaign"]) if form["campaign"] else None,
                since=since,
                until=until,
                now=now,
            )
    except ValidationError as exc:
        error = exc
    return form, report, error


@routes.get("/ui/reports/agents", permission=Permission.STATS_READ)
async def report_page(request: web.Request) -> web.Response:
    who = session(request).principal
    form, report, error = await _report(request)
    async with request.app[POOL].acquire() as conn:
        choices = await conn.fetch(_Q["visible_campaigns"], who.client_id)
    context = {
        "title": "Agent report",
        "section": "reports",
        "form": form,
        "campaigns": choices,
        "report": report,
        "error": error,
        "query_string": request.query_string,
    }
    return await render(request, "reports/agents.html", context, status=400 if error else 200)


@routes.get("/ui/reports/agents.csv", permission=Permission.STATS_READ)
async def report_download(request: web.Request) -> web.Response:
    _, report, error = await _report(request)
    if report is None:
        raise error or ValidationError("no report", field="from")
    return web.Response(
        text=report_csv(report),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="agents-report.csv"'},
    )
