"""``/api/v1/campaigns/{id}/stats``, ``/penetration`` and ``/attempts.csv``: a campaign's
figures and its call detail records, for people without Grafana and for auditors."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime, timedelta

from aiohttp import web

from dialer.api.params import query_instant
from dialer.api.registry import Param, Routes
from dialer.auth.roles import Permission
from dialer.campaigns import store as campaigns
from dialer.errors import ValidationError
from dialer.http.jsonio import json_response
from dialer.http.keys import CLOCK, POOL, principal
from dialer.stats import campaign_stats, penetration
from dialer.stats.export import attempt_chunks

log = logging.getLogger(__name__)
routes = Routes("stats", "Campaign figures, list penetration and call detail export")

ID = r"{id:\d+}"
DEFAULT_WINDOW = timedelta(hours=24)
# The export's default window: every attempt ever made.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)

_COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}
_RATE = {"type": ["number", "null"], "description": "null when the denominator is 0"}
LEADS = {
    "type": "object",
    "description": "list penetration over the whole list (no window)",
    "properties": {
        "total": {"type": "integer"},
        "by_status": _COUNTS,
        "by_attempts": {**_COUNTS, "description": "leads by attempts made ('0', '1', ...)"},
        "attempted": {"type": "integer", "description": "leads dialed at least once"},
        "remaining": {"type": "integer", "description": "leads new, retry or callback"},
        "penetration": {**_RATE, "description": "attempted / total"},
    },
}
STATS = {
    "type": "object",
    "description": "figures of the attempts started in [from, to); see docs/observability.md",
    "properties": {
        "campaign": {"type": "object"},
        "window": {"type": "object", "properties": {"from": {}, "to": {}}},
        "dials": {"type": "integer"},
        "dials_by_mode": _COUNTS,
        "in_progress": {"type": "integer"},
        "outcomes": _COUNTS,
        "human_answers": {"type": "integer"},
        "machine_answers": {"type": "integer"},
        "answer_rate": {**_RATE, "description": "human answers / calls ended"},
        "connects": {"type": "integer"},
        "abandons": {"type": "integer"},
        "abandon_rate": {**_RATE, "description": "abandons / human answers"},
        "max_abandon_rate": {"type": "number"},
        "abandon_rate_legal": {
            "type": "object",
            "description": "the 24h and 30d windows ending at `to` (the engine's budget)",
        },
        "agent_occupancy": {**_RATE, "description": "talking / logged-in agent seconds"},
        "agent_seconds": {"type": "object"},
        "wait_to_connect_s": {"type": "object"},
        "talk_s": {"type": "object"},
        "blocked_by_rules": {
            "type": "object",
            "properties": {"deferrals": {"type": "integer"}, "by_rule": _COUNTS},
        },
        "leads": LEADS,
        "inbound": {
            "type": "object",
            "description": "callbacks from callees in the window (not counted as dials)",
            "properties": {
                "calls": {"type": "integer"},
                "to_agent": {"type": "integer", "description": "given to a blended agent"},
                "message": {"type": "integer", "description": "heard the callback message"},
                "matched": {"type": "integer", "description": "from a lead's number"},
            },
        },
    },
}
WINDOW_PARAMS = (
    Param("from", "start of the window, ISO 8601 with offset (default: `to` - 24 h)"),
    Param("to", "end of the window, exclusive (default: now)"),
)


def _id(request: web.Request) -> int:
    return int(request.match_info["id"])


@routes.get(
    f"/api/v1/campaigns/{ID}/stats",
    summary="A campaign's figures over a window (default: the last 24 hours)",
    permission=Permission.STATS_READ,
    query=WINDOW_PARAMS,
    response=STATS,
)
async def get_stats(request: web.Request) -> web.Response:
    now = request.app[CLOCK].now()
    until = query_instant(request, "to") or now
    since = query_instant(request, "from") or until - DEFAULT_WINDOW
    async with request.app[POOL].acquire() as conn:
        figures = await campaign_stats(
            conn,
            _id(request),
            scope=principal(request).client_id,
            since=since,
            until=until,
            now=now,
        )
    return json_response(figures)


@routes.get(
    f"/api/v1/campaigns/{ID}/penetration",
    summary="List penetration: leads by status and by attempts made",
    permission=Permission.STATS_READ,
    response=LEADS,
)
async def get_penetration(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        await campaigns.get(conn, _id(request), principal(request).client_id)
        figures = await penetration(conn, _id(request))
    return json_response(figures)


def _export_window(request: web.Request) -> tuple[datetime, datetime]:
    since = query_instant(request, "from") or EPOCH
    until = query_instant(request, "to") or FAR_FUTURE
    if since >= until:
        raise ValidationError("from must be before to", field="from")
    return since, until


@routes.get(
    f"/api/v1/campaigns/{ID}/attempts.csv",
    summary="Every attempt of a campaign as CSV, streamed (call detail records)",
    permission=Permission.STATS_READ,
    query=(
        Param("from", "only attempts started at or after this instant (default: all)"),
        Param("to", "only attempts started before this instant (default: all)"),
    ),
    response_content_type="text/csv",
)
async def export_attempts(request: web.Request) -> web.StreamResponse:
    campaign_id = _id(request)
    since, until = _export_window(request)
    async with request.app[POOL].acquire() as conn:
        await campaigns.get(conn, campaign_id, principal(request).client_id)
        response = web.StreamResponse(
            headers={
                "Content-Disposition": f'attachment; filename="campaign-{campaign_id}-'
                f'attempts.csv"',
                "Cache-Control": "no-store",
            }
        )
        response.content_type = "text/csv"
        response.charset = "utf-8"
        await response.prepare(request)
        chunks = attempt_chunks(conn, campaign_id, since=since, until=until)
        try:
            async with contextlib.aclosing(chunks):
                async for chunk in chunks:
                    await response.write(chunk)
        except ConnectionError:
            log.info("attempt export abandoned by the client", extra={"campaign_id": campaign_id})
            return response
        except Exception:
            # The status line is sent: the only honest signal left is a cut connection,
            # so the client sees an incomplete body rather than a short but "complete" file.
            log.exception("attempt export failed", extra={"campaign_id": campaign_id})
            if request.transport is not None:
                request.transport.close()
            return response
    await response.write_eof()
    return response
