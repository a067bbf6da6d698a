"""A campaign's figures over a window, from the attempt records: the report behind
``GET /api/v1/campaigns/{id}/stats``, ``dialer stats`` and the console's campaign page.

The same figures as the Grafana dashboards, for people without Grafana, but computed from
the database rather than from one process's counters, so they cover every ``serve``
process, survive restarts and can be asked for any past window. The output's keys are
stable (documented in docs/observability.md); every count is present, zero included, and
a rate whose denominator is zero is ``None``.

Cost: a handful of index scans per call (attempts by campaign and start time, live answers
by answer time, the campaign's agents' state changes, its leads by status), so it is cheap
enough for a page that refreshes every few seconds on campaigns of a few hundred thousand
leads; list penetration reads every lead of the campaign once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg

from dialer.campaigns import store as campaigns
from dialer.campaigns.model import DIAL_MODES
from dialer.engine.budget import WINDOWS
from dialer.engine.calls import OUTCOMES
from dialer.errors import ValidationError
from dialer.leads.store import STATUSES
from dialer.sql import queries

_Q = queries("dialer.stats")
DIALABLE = ("new", "retry", "callback")
MAX_WINDOW = timedelta(days=400)
# The window's totals when it holds no attempt.
_EMPTY: dict[str, Any] = {
    **dict.fromkeys(("dials", "ended", "in_progress", "human_answers", "machine_answers"), 0),
    **dict.fromkeys(("connects", "abandons", "talk_total_s"), 0),
    **dict.fromkeys(("wait_avg_s", "wait_max_s", "talk_avg_s"), None),
    **dict.fromkeys(("first_dial_at", "last_dial_at"), None),
}


def check_window(since: datetime, until: datetime) -> None:
    """A usable window: both ends aware, ``since`` before ``until``, at most 400 days."""
    if since.tzinfo is None or until.tzinfo is None:
        raise ValidationError("from and to need a UTC offset", field="from")
    if since >= until:
        raise ValidationError("from must be before to", field="from")
    if until - since > MAX_WINDOW:
        raise ValidationError("the window may span at most 400 days", field="from")


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 6) if whole else None


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


async def penetration(conn: asyncpg.Connection, campaign_id: int) -> dict[str, Any]:
    """List penetration: leads by status and by attempts made (the whole list, no window).

    ``attempted`` leads were dialed at least once; ``penetration`` is their share of the
    list; ``remaining`` leads may still be dialed (new, retry, callback).
    """
    by_status = dict.fromkeys(STATUSES, 0)
    by_attempts: dict[int, int] = {}
    for row in await conn.fetch(_Q["leads"], campaign_id):
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["n"]
        by_attempts[row["attempts_count"]] = by_attempts.get(row["attempts_count"], 0) + row["n"]
    total = sum(by_status.values())
    attempted = total - by_attempts.get(0, 0)
    return {
        "total": total,
        "by_status": by_status,
        "by_attempts": {str(k): by_attempts[k] for k in sorted(by_attempts)},
        "attempted": attempted,
        "remaining": sum(by_status[s] for s in DIALABLE),
        "penetration": _ratio(attempted, total),
    }


async def _legal_windows(
    conn: asyncpg.Connection, campaign_id: int, until: datetime
) -> dict[str, dict[str, Any]]:
    starts = {name: until - timedelta(seconds=seconds) for name, seconds in WINDOWS.items()}
    names = list(starts)
    found = {
        names[row["i"] - 1]: row
        for row in await conn.fetch(
            _Q["legal_windows"], campaign_id, until, list(starts.values()), min(starts.values())
        )
    }
    out = {}
    for name, since in starts.items():
        humans = found[name]["human_answers"] if name in found else 0
        abandons = found[name]["abandons"] if name in found else 0
        out[name] = {
            "from": since,
            "to": until,
            "human_answers": humans,
            "abandons": abandons,
            "abandon_rate": _ratio(abandons, humans),
        }
    return out


async def _blocked(
    conn: asyncpg.Connection, campaign_id: int, since: datetime, until: datetime
) -> dict[str, Any]:
    deferrals, by_rule = 0, {}
    for row in await conn.fetch(_Q["blocked"], campaign_id, since, until):
        if row["total"]:
            deferrals = row["n"]
        else:
            by_rule[row["rule_id"]] = row["n"]
    ordered = dict(sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0])))
    return {"deferrals": deferrals, "by_rule": ordered}


async def campaign_stats(
    conn: asyncpg.Connection,
    campaign_id: int,
    *,
    scope: int | None,
    since: datetime,
    until: datetime,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The campaign's figures for attempts started in ``[since, until)``.

    ``scope`` is the caller's client (None = all); another client's campaign is NotFound.
    The legal abandon windows (24h, 30d) end at ``until``. Agent time is counted up to
    ``now`` when the window reaches into the future (pass the clock's now). All figures
    come from one snapshot (a read-only transaction of their own, unless the caller's
    connection is already in one).
    """
    check_window(since, until)
    if conn.is_in_transaction():
        return await _figures(conn, campaign_id, scope, since, until, now)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        # Windows differ by orders of magnitude (an hour, a month): plan each query for its
        # own parameters, never with a generic plan cached from another window.
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        return await _figures(conn, campaign_id, scope, since, until, now)


async def _figures(
    conn: asyncpg.Connection,
    campaign_id: int,
    scope: int | None,
    since: datetime,
    until: datetime,
    now: datetime | None,
) -> dict[str, Any]:
    campaign = await campaigns.get(conn, campaign_id, scope)
    totals = _EMPTY
    outcomes = dict.fromkeys(OUTCOMES, 0)
    by_mode = dict.fromkeys(DIAL_MODES, 0)
    for row in await conn.fetch(_Q["window"], campaign_id, since, until):
        if row["kind"] == "all":
            totals = dict(row)
        elif row["kind"] == "outcome" and row["outcome"] is not None:
            outcomes[row["outcome"]] = row["dials"]
        elif row["kind"] == "mode" and row["mode"] is not None:
            by_mode[row["mode"]] = row["dials"]
    agent_end = min(until, now) if now is not None else until
    agent_time = {"logged_in_s": 0.0, "talk_s": 0.0}
    if agent_end > since:
        for row in await conn.fetch(_Q["agent_time"], [campaign_id], since, agent_end):
            agent_time = {"logged_in_s": row["logged_in_s"], "talk_s": row["talk_s"]}
    humans = totals["human_answers"]
    return {
        "campaign": {
            "id": campaign["id"],
            "name": campaign["name"],
            "client_id": campaign["client_id"],
            "state": campaign["state"],
            "dial_mode": campaign["dial_mode"],
        },
        "window": {"from": since, "to": until},
        "dials": totals["dials"],
        "dials_by_mode": by_mode,
        "in_progress": totals["in_progress"],
        "outcomes": outcomes,
        "human_answers": humans,
        "machine_answers": totals["machine_answers"],
        "answer_rate": _ratio(humans, totals["ended"]),
        "connects": totals["connects"],
        "abandons": totals["abandons"],
        "abandon_rate": _ratio(totals["abandons"], humans),
        "max_abandon_rate": campaign["max_abandon_rate"],
        "abandon_rate_legal": await _legal_windows(conn, campaign_id, until),
        "agent_occupancy": _ratio(agent_time["talk_s"], agent_time["logged_in_s"]),
        "agent_seconds": {
            "logged_in": round(agent_time["logged_in_s"], 3),
            "talking": round(agent_time["talk_s"], 3),
        },
        "wait_to_connect_s": {
            "avg": _seconds(totals["wait_avg_s"]),
            "max": _seconds(totals["wait_max_s"]),
        },
        "talk_s": {
            "avg": _seconds(totals["talk_avg_s"]),
            "total": _seconds(totals["talk_total_s"]),
        },
        "first_dial_at": totals["first_dial_at"],
        "last_dial_at": totals["last_dial_at"],
        "blocked_by_rules": await _blocked(conn, campaign_id, since, until),
        "inbound": dict(await conn.fetchrow(_Q["inbound"], campaign_id, since, until)),
        "leads": await penetration(conn, campaign_id),
    }
