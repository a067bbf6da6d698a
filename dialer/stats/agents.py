"""The per-agent report behind ``GET /api/v1/reports/agents`` and the console's agent
report: for each agent, calls, seconds talking, dialing (held for a call not answered yet:
a preview, a guaranteed or manual call ringing), waiting (available), in wrap-up and paused
(by pause code), dispositions by code and connects per logged-in hour. Talk is the time the
agent's calls were connected, so an agent's talk agrees with the ``talk_s`` of the calls
they took (in real time; under ``DIALER_SIM_SPEED`` attempts count call-world seconds).

Time comes from ``agent_state_log`` (every state change, whatever made it), cut to the
window ``[from, to)`` and to ``now`` (time that has not happened yet is not counted); calls
are the attempts started in the window that reached the agent. With a campaign, only its
agents are listed and only its calls count (talk and wrap-up included); waiting and pause
time is the agent's own, whatever campaign the next call would come from.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import asyncpg

from dialer.campaigns import store as campaigns
from dialer.sql import queries
from dialer.stats.report import check_window

_Q = queries("dialer.stats", "agents.sql")
# Seconds in these states are reported as talk, wait and wrap-up; paused time by code.
# "dialing" is the part of on_call before the call connects (see agents.sql: state_seconds).
STATE_FIELDS = {
    "on_call": "talk_s",
    "dialing": "dialing_s",
    "available": "wait_s",
    "wrap_up": "wrap_up_s",
}
CSV_COLUMNS = (
    "agent_id",
    "agent_name",
    "calls",
    "logged_in_s",
    "talk_s",
    "dialing_s",
    "wait_s",
    "wrap_up_s",
    "pause_s",
    "connects_per_hour",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def agent_figures(
    agent: dict[str, Any],
    seconds: Iterable[tuple[str, str | None, float]],
    calls: Iterable[tuple[str | None, int]],
) -> dict[str, Any]:
    """One agent's line from its (state, pause code, seconds) spans and (disposition,
    calls) counts. Pure: the report's arithmetic, table-tested."""
    out: dict[str, Any] = {"agent_id": agent["id"], "name": agent["name"], "calls": 0}
    out.update(dict.fromkeys((*STATE_FIELDS.values(), "pause_s"), 0.0))
    by_code: dict[str, float] = {}
    for state, code, secs in seconds:
        if state == "paused":
            key = code or "pause"
            by_code[key] = by_code.get(key, 0.0) + secs
            out["pause_s"] += secs
        elif state in STATE_FIELDS:
            out[STATE_FIELDS[state]] += secs
    dispositions: dict[str, int] = {}
    for disposition, n in calls:
        out["calls"] += n
        if disposition is not None:
            dispositions[disposition] = dispositions.get(disposition, 0) + n
    logged_in = sum(out[f] for f in (*STATE_FIELDS.values(), "pause_s"))
    for key in (*STATE_FIELDS.values(), "pause_s"):
        out[key] = round(out[key], 3)
    out["logged_in_s"] = round(logged_in, 3)
    out["pause_by_code"] = {k: round(v, 3) for k, v in sorted(by_code.items())}
    out["dispositions"] = dict(sorted(dispositions.items()))
    out["connects_per_hour"] = round(out["calls"] * 3600 / logged_in, 3) if logged_in else None
    return out


async def agent_report(
    conn: asyncpg.Connection,
    *,
    scope: int | None,
    campaign_id: int | None,
    since: datetime,
    until: datetime,
    now: datetime,
) -> dict[str, Any]:
    """The report over ``[since, until)`` for the agents ``scope`` (the caller's client,
    None = all) may see; another client's campaign is NotFound."""
    check_window(since, until)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        if campaign_id is not None:
            await campaigns.get(conn, campaign_id, scope)
            campaign_ids = [campaign_id]
        else:
            campaign_ids = [r["id"] for r in await conn.fetch(_Q["scope_campaigns"], scope)]
        end = min(until, max(now, since))
        agents = await conn.fetch(_Q["report_agents"], scope, campaign_id, since, until)
        ids = [a["id"] for a in agents]
        spans: dict[int, list[tuple[str, str | None, float]]] = {i: [] for i in ids}
        if end > since:
            for r in await conn.fetch(_Q["state_seconds"], ids, since, end, campaign_id):
                spans[r["agent_id"]].append((r["state"], r["reason"], r["seconds"]))
        calls: dict[int, list[tuple[str | None, int]]] = {i: [] for i in ids}
        for r in await conn.fetch(_Q["agent_calls"], ids, since, until, campaign_ids):
            calls[r["agent_id"]].append((r["disposition"], r["calls"]))
    return {
        "window": {"from": since, "to": until},
        "campaign_id": campaign_id,
        "agents": [agent_figures(dict(a), spans[a["id"]], calls[a["id"]]) for a in agents],
    }


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def report_csv(report: dict[str, Any]) -> str:
    """The report as CSV, one row per agent: the fixed columns, then ``pause_s:<code>`` and
    ``disposition:<code>`` columns for every code seen. A cell (a name, a code) that a
    spreadsheet would run as a formula gets a leading ``'``."""
    rows = report["agents"]
    pauses = sorted({code for r in rows for code in r["pause_by_code"]})
    dispositions = sorted({code for r in rows for code in r["dispositions"]})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = [*CSV_COLUMNS, *(f"pause_s:{c}" for c in pauses)]
    header += [f"disposition:{c}" for c in dispositions]
    writer.writerow([_cell(h) for h in header])
    for r in rows:
        cells: list[object] = [r["agent_id"], r["name"], *(r[c] for c in CSV_COLUMNS[2:])]
        cells += [r["pause_by_code"].get(c, 0.0) for c in pauses]
        cells += [r["dispositions"].get(c, 0) for c in dispositions]
        writer.writerow([_cell(c) for c in cells])
    return out.getvalue()
