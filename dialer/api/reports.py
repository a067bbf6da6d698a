"""``/api/v1/reports/agents`` (and ``.csv``): per-agent time, calls and dispositions over a
window, the figures floor supervisors live in."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from dialer.api.params import query_instant, query_int
from dialer.api.registry import Param, Routes
from dialer.auth.roles import Permission
from dialer.http.jsonio import json_response
from dialer.http.keys import CLOCK, POOL, principal
from dialer.stats.agents import agent_report, report_csv

routes = Routes("reports", "Reports across campaigns: agent time and performance")
DEFAULT_WINDOW = timedelta(hours=24)

_SECONDS = {"type": "number"}
AGENT_LINE = {
    "type": "object",
    "properties": {
        "agent_id": {"type": "integer"},
        "name": {"type": "string"},
        "calls": {"type": "integer", "description": "calls connected to the agent"},
        "logged_in_s": {**_SECONDS, "description": "talk + dialing + wait + wrap-up + pause"},
        "talk_s": {**_SECONDS, "description": "on connected calls (as the calls' talk_s)"},
        "dialing_s": {
            **_SECONDS,
            "description": "held for a call not answered yet (preview, guaranteed call ringing)",
        },
        "wait_s": {**_SECONDS, "description": "available, waiting for a call"},
        "wrap_up_s": _SECONDS,
        "pause_s": _SECONDS,
        "pause_by_code": {"type": "object", "additionalProperties": _SECONDS},
        "dispositions": {"type": "object", "additionalProperties": {"type": "integer"}},
        "connects_per_hour": {
            "type": ["number", "null"],
            "description": "calls per logged-in hour; null when not logged in",
        },
    },
}
REPORT = {
    "type": "object",
    "properties": {
        "window": {"type": "object", "properties": {"from": {}, "to": {}}},
        "campaign_id": {"type": ["integer", "null"]},
        "agents": {"type": "array", "items": AGENT_LINE},
    },
}
PARAMS = (
    Param("from", "start of the window, ISO 8601 with offset (default: `to` - 24 h)"),
    Param("to", "end of the window, exclusive (default: now)"),
    Param("campaign", "only this campaign's agents and calls", {"type": "integer"}),
)


async def _report(request: web.Request) -> dict[str, object]:
    now = request.app[CLOCK].now()
    until = query_instant(request, "to") or now
    since = query_instant(request, "from") or until - DEFAULT_WINDOW
    campaign = query_int(request, "campaign", default=0, lo=1) or None
    async with request.app[POOL].acquire() as conn:
        return await agent_report(
            conn,
            scope=principal(request).client_id,
            campaign_id=campaign,
            since=since,
            until=until,
            now=now,
        )


def _csv(text: str) -> web.Response:
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="agents-report.csv"',
            "Cache-Control": "no-store",
        },
    )


@routes.get(
    "/api/v1/reports/agents",
    summary="Per agent: calls, talk, wait, wrap-up and pause seconds (by code), dispositions"
    " by code, connects per hour (CSV with `Accept: text/csv`)",
    permission=Permission.STATS_READ,
    query=PARAMS,
    response=REPORT,
)
async def get_agent_report(request: web.Request) -> web.Response:
    report = await _report(request)
    accept = request.headers.get("Accept", "")
    if "text/csv" in accept and "application/json" not in accept:
        return _csv(report_csv(report))
    return json_response(report)


@routes.get(
    "/api/v1/reports/agents.csv",
    summary="The agent report as CSV, one row per agent",
    permission=Permission.STATS_READ,
    query=PARAMS,
    response_content_type="text/csv",
)
async def get_agent_report_csv(request: web.Request) -> web.Response:
    return _csv(report_csv(await _report(request)))
