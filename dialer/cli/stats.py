"""``dialer stats CAMPAIGN [--from ISO] [--to ISO] [--json]``: a campaign's figures in the
terminal, the same report as ``GET /api/v1/campaigns/{id}/stats``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

from dialer.campaigns import store
from dialer.cli.common import connection, print_json, run, settings_from
from dialer.errors import UsageError
from dialer.instants import parse_instant
from dialer.stats import campaign_stats


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "stats",
        help="a campaign's figures over a window (default: the last 24 hours)",
        description="Dials, outcomes, answer and abandon rates (window and legal 24h/30d), "
        "agent occupancy, deferrals by calling rule and list penetration of one campaign, "
        "from the attempt records.",
    )
    p.add_argument("campaign", metavar="CAMPAIGN", help="campaign id or name")
    p.add_argument("--from", dest="since", metavar="ISO", help="window start (default: to-24h)")
    p.add_argument("--to", dest="until", metavar="ISO", help="window end, exclusive (now)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_stats)


def cmd_stats(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    until = parse_instant(args.until, "--to") or now
    since = parse_instant(args.since, "--from") or until - timedelta(hours=24)
    if since >= until:
        raise UsageError("--from must be before --to")

    async def go() -> dict[str, Any]:
        async with connection(settings_from(args)) as conn:
            found = await store.find(conn, args.campaign, None)
            return await campaign_stats(
                conn, found["id"], scope=None, since=since, until=until, now=now
            )

    figures = run(go())
    if args.json:
        print_json(figures)
    else:
        print(render(figures))
    return 0


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _pairs(counts: dict[str, int]) -> str:
    shown = [f"{k} {v}" for k, v in counts.items() if v]
    return ", ".join(shown) or "none"


def render(f: dict[str, Any]) -> str:
    """The report as a few aligned lines for a terminal."""
    c, w, leads = f["campaign"], f["window"], f["leads"]
    legal = "  ".join(
        f"{name} {_pct(v['abandon_rate'])} ({v['abandons']}/{v['human_answers']})"
        for name, v in f["abandon_rate_legal"].items()
    )
    blocked = f["blocked_by_rules"]
    lines = [
        f"campaign {c['id']} '{c['name']}' ({c['dial_mode']}, {c['state']})",
        f"window      {w['from']:%Y-%m-%d %H:%M:%S%z} .. {w['to']:%Y-%m-%d %H:%M:%S%z}",
        f"dials       {f['dials']} ({f['in_progress']} in progress)",
        f"outcomes    {_pairs(f['outcomes'])}",
        f"answers     {f['human_answers']} human ({_pct(f['answer_rate'])} of calls ended), "
        f"{f['machine_answers']} machine",
        f"connects    {f['connects']}   wait to connect avg {_secs(f['wait_to_connect_s']['avg'])}"
        f", talk avg {_secs(f['talk_s']['avg'])}",
        f"abandons    {f['abandons']} ({_pct(f['abandon_rate'])} of human answers; "
        f"limit {f['max_abandon_rate']:.1%})",
        f"legal       {legal}",
        f"occupancy   {_pct(f['agent_occupancy'])}",
        f"blocked     {blocked['deferrals']} deferrals by calling rules"
        + (f" ({_pairs(blocked['by_rule'])})" if blocked["by_rule"] else ""),
        f"leads       {leads['total']} total, {leads['remaining']} remaining, "
        f"{_pct(leads['penetration'])} attempted; {_pairs(leads['by_status'])}",
    ]
    return "\n".join(lines)
