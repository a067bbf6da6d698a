"""A campaign's live view: today's figures, agents by state, dials/connects/abandons per
minute over the last hour, and the latest attempts with their calling-rule decision.

The figures are ``dialer.stats.campaign_stats`` (the report behind the stats API), the
chart ``dialer.stats.timeline``; the page polls one fragment every few seconds (htmx).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from aiohttp import web

from dialer.agents import store as agents
from dialer.agents.states import STATES as AGENT_STATES
from dialer.auth.roles import Permission, Principal
from dialer.campaigns import store
from dialer.http.keys import CLOCK, POOL
from dialer.sql import queries
from dialer.stats import campaign_stats
from dialer.stats.summary import day_start
from dialer.stats.timeline import recent_attempts, timeline
from dialer.ui import chart
from dialer.ui.context import session
from dialer.ui.pages.campaigns import actions_for, operating_zone
from dialer.ui.render import is_htmx, render, render_partial, see_other
from dialer.ui.routing import UiRoutes

routes = UiRoutes()
ID = r"{id:\d+}"
REFRESH_S = 3
HOUR = timedelta(hours=1)
BUCKET_S = 60
AGENTS_SHOWN = 40
ATTEMPTS_SHOWN = 15
_Q = queries("dialer.ui")


def campaign_tabs(who: Principal, campaign_id: int) -> list[tuple[str, str, str]]:
    """(key, label, path) of the campaign's pages this principal may open."""
    tabs = []
    if who.can(Permission.STATS_READ):
        tabs.append(("live", "Live view", f"/ui/campaigns/{campaign_id}"))
        tabs.append(("board", "Agents", f"/ui/campaigns/{campaign_id}/board"))
    if who.can(Permission.LEADS_READ):
        tabs.append(("lists", "Lead lists", f"/ui/campaigns/{campaign_id}/lists"))
    if who.can(Permission.CAMPAIGNS_READ):
        tabs.append(("caller-ids", "Caller IDs", f"/ui/campaigns/{campaign_id}/caller-ids"))
    if who.can(Permission.CAMPAIGNS_WRITE):
        tabs.append(("edit", "Settings", f"/ui/campaigns/{campaign_id}/edit"))
        tabs.append(("floor", "Dispositions & pauses", f"/ui/campaigns/{campaign_id}/floor"))
    return tabs


def head_context(who: Principal, campaign: dict[str, Any], tab: str) -> dict[str, Any]:
    """What the campaign header (``campaigns/_head.html``) needs."""
    return {
        "campaign": campaign,
        "tabs": campaign_tabs(who, campaign["id"]),
        "tab": tab,
        "may_write": who.can(Permission.CAMPAIGNS_WRITE),
        "actions": actions_for(campaign["state"]),
    }


async def _panel(
    conn: asyncpg.Connection, who: Principal, campaign: dict[str, Any], now: datetime
) -> dict[str, Any]:
    zone = operating_zone(campaign)
    tz = ZoneInfo(zone or "UTC")
    since = day_start(now, zone)
    figures = await campaign_stats(
        conn, campaign["id"], scope=who.client_id, since=since, until=now, now=now
    )
    start = (now - HOUR).replace(second=0, microsecond=0) + timedelta(minutes=1)
    buckets = await timeline(conn, campaign["id"], since=start, until=now, bucket_s=BUCKET_S)
    team = sorted(
        await agents.campaign_agents(conn, campaign["id"]),
        key=lambda a: (
            AGENT_STATES.index(a["state"]) if a["state"] != "offline" else 99,
            a["name"],
        ),
    )
    by_state = Counter(a["state"] for a in team)
    return {
        "campaign": campaign,
        "figures": figures,
        "legal_24h": figures["abandon_rate_legal"].get("24h"),
        "chart": chart.draw(buckets, label_time=lambda m: m.astimezone(tz).strftime("%H:%M")),
        "agents": team[:AGENTS_SHOWN],
        "agents_more": max(len(team) - AGENTS_SHOWN, 0),
        "by_state": [(s, by_state.get(s, 0)) for s in AGENT_STATES],
        "attempts": await recent_attempts(conn, campaign["id"], limit=ATTEMPTS_SHOWN),
        "held_until": await conn.fetchval(_Q["held_until"], campaign["id"], since, now),
        "zone": tz,
        "zone_name": zone or "UTC",
        "now": now,
        "refresh_s": REFRESH_S,
        "may_open_desk": who.can(Permission.AGENTS_WRITE) and who.can(Permission.AGENT_SELF),
    }


PanelBuilder = Callable[
    [asyncpg.Connection, Principal, dict[str, Any], datetime], Awaitable[dict[str, Any]]
]


async def polled_page(
    request: web.Request, *, tab: str, title: str, template: str, build: PanelBuilder
) -> web.Response:
    """A campaign tab whose body is a panel htmx refreshes: the campaign header plus the
    panel ``build`` makes. ``title`` may name ``{name}``, the campaign's."""
    who = session(request).principal
    now = request.app[CLOCK].now()
    async with request.app[POOL].acquire() as conn:
        campaign = await store.get(conn, int(request.match_info["id"]), who.client_id)
        panel = await build(conn, who, campaign, now)
    context = {
        "title": title.format(name=campaign["name"]),
        "section": "campaigns",
        **head_context(who, campaign, tab),
        **panel,
    }
    return await render(request, template, context)


async def polled_panel(
    request: web.Request, *, page: str, template: str, build: PanelBuilder, **extra: Any
) -> web.Response:
    """The refreshing part of a :func:`polled_page` (htmx polls it); without htmx, a
    redirect to the full page (``page`` may name ``{id}``)."""
    if not is_htmx(request):
        return see_other(page.format(id=request.match_info["id"]))
    who = session(request).principal
    async with request.app[POOL].acquire() as conn:
        campaign = await store.get(conn, int(request.match_info["id"]), who.client_id)
        panel = await build(conn, who, campaign, request.app[CLOCK].now())
    return render_partial(request, template, {**panel, **extra})


@routes.get(f"/ui/campaigns/{ID}", permission=Permission.STATS_READ)
async def live_view(request: web.Request) -> web.Response:
    return await polled_page(
        request, tab="live", title="{name}", template="live/page.html", build=_panel
    )


@routes.get(f"/ui/campaigns/{ID}/live", permission=Permission.STATS_READ)
async def live_panel(request: web.Request) -> web.Response:
    """The refreshing part of the live view (htmx polls it); a full page without htmx."""
    return await polled_panel(
        request,
        page="/ui/campaigns/{id}",
        template="live/_panel.html",
        build=_panel,
        oob_state=True,
    )
