"""``dialer demo``: the whole product on the embedded defaults, in one command.

Creates a predictive demo campaign with leads from nine countries, simulated agents and the
simulated gateway (sped up), serves the API, the console and ``/metrics`` as ``dialer
serve`` does, shows live progress on stderr, and prints a summary on stdout when it ends
(Ctrl-C or ``--duration``). With ``--json`` the summary is one JSON object.

The demo touches nothing of the user's: its engine dials only the demo's campaign and it
runs no scheduler, so campaigns left running in the data directory stay as they are. Its
admin token is revoked when it ends (and a token or campaign left by a demo that was
killed is revoked or stopped when the next demo starts).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from dialer import db
from dialer.cli.common import print_json, settings_from
from dialer.config import Settings
from dialer.engine.demo import begin_demo, end_demo, summary
from dialer.engine.runner import CampaignRunner
from dialer.errors import UsageError
from dialer.http.keys import ENGINE
from dialer.logs import configure_logging
from dialer.runtime import bind, build_app, demo_parts, prepare_database, run_app, stop_on_signals


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run a demo campaign with simulated agents and telephony",
        description="Run a demo campaign (simulated agents and gateway) on the embedded "
        "defaults, serving the API and /metrics, until Ctrl-C or --duration.",
    )
    p.add_argument("--agents", type=int, default=10, help="simulated agents (default 10)")
    p.add_argument("--leads", type=int, default=2000, help="generated leads (default 2000)")
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    p.add_argument("--speed", type=float, default=10.0, help="simulated time speed-up (10)")
    p.add_argument(
        "--mode",
        default="predictive",
        choices=("preview", "progressive", "power", "predictive", "agentless"),
        help="dial mode of the demo campaign (default predictive)",
    )
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=cmd_demo)


def _check(args: argparse.Namespace) -> None:
    if not 1 <= args.agents <= 2000:
        raise UsageError("--agents must be between 1 and 2000")
    if not 1 <= args.leads <= 1_000_000:
        raise UsageError("--leads must be between 1 and 1000000")
    if args.duration is not None and args.duration <= 0:
        raise UsageError("--duration must be a positive number of seconds")
    if not 0.1 <= args.speed <= 1000:
        raise UsageError("--speed must be between 0.1 and 1000")


# Two simulated switches, two thirds of the calls on the first (docs/switches.md).
DEMO_SWITCHES = (
    {"name": "sim-a", "gateway": "sim", "weight": 2.0, "agents": ()},
    {"name": "sim-b", "gateway": "sim", "weight": 1.0, "agents": ()},
)


def cmd_demo(args: argparse.Namespace) -> int:
    _check(args)
    settings = settings_from(args)
    settings = settings.with_overrides(
        gateway="sim",
        switches=DEMO_SWITCHES,
        sim_agents=args.agents,
        sim_speed=args.speed,
        shutdown_timeout_s=min(settings.shutdown_timeout_s, 3.0),
    )
    level = settings.log_level if "DIALER_LOG_LEVEL" in os.environ else "WARNING"
    configure_logging(level, "text")
    result = asyncio.run(_demo(settings, args))
    if args.json:
        print_json(result)
    else:
        _print_summary(result)
    return 0


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def _demo(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Take a port first (the one asked for, else any free one: the demo starts anyway),
    then run the demo on it."""
    try:
        sockets = bind(settings.host, settings.port)
    except UsageError:
        sockets = bind(settings.host, 0)
    try:
        port = int(sockets[0].getsockname()[1])
        return await _run(settings.with_overrides(port=port), args, sockets)
    finally:
        for sock in sockets:
            sock.close()


async def _run(
    settings: Settings, args: argparse.Namespace, sockets: Sequence[socket.socket]
) -> dict[str, Any]:
    url = await prepare_database(settings, quiet=True)
    conn = await db.connect(url)
    try:
        campaign, token, token_id = await begin_demo(
            conn, leads=args.leads, now=datetime.now(UTC), mode=args.mode
        )
    finally:
        await conn.close()
    try:
        _say(_banner(settings, args, campaign["id"], token))
        # The demo's engine dials only the demo's campaign; there is no scheduler, so the
        # user's own campaigns stay exactly as they are.
        app = build_app(settings, url, parts=demo_parts(campaign["id"], campaign.get("closers_id")))
        stop = asyncio.Event()
        stop_on_signals(stop)
        serving = asyncio.create_task(run_app(app, settings, stop, sockets))
        started = time.monotonic()
        runner = await _watch(app, campaign["id"], stop, args.duration, started)
        duration = time.monotonic() - started
        stop.set()
        await serving
    finally:
        conn = await db.connect(url)
        try:
            await end_demo(conn, campaign["id"], token_id, now=datetime.now(UTC))
        finally:
            await conn.close()
    conn = await db.connect(url)
    try:
        return await summary(
            conn,
            campaign["id"],
            duration_s=duration,
            occupancy=runner.view.occupancy() if runner else 0.0,
            blocked_by_rules=runner.dialing.blocked if runner else 0,
        )
    finally:
        await conn.close()


def _banner(settings: Settings, args: argparse.Namespace, campaign_id: int, token: str) -> str:
    base = f"http://{settings.host}:{settings.port}"
    return (
        f"dialer demo: campaign {campaign_id} ({args.mode}), {args.leads} leads in 9 "
        f"countries, {args.agents} simulated agents, simulated time x{args.speed:g}\n"
        f"  console  {base}/ui/   (sign in with the token below; the demo revokes it at its end)\n"
        f"  API      {base}/api/v1/   (token, admin: {token})\n"
        f"  try      curl -H 'Authorization: Bearer {token}' "
        f"{base}/api/v1/agents?campaign={campaign_id}\n"
        f"  metrics  {base}/metrics\n"
        + ("  stop     Ctrl-C" if args.duration is None else f"  runs     {args.duration:g} s")
    )


async def _watch(
    app: web.Application,
    campaign_id: int,
    stop: asyncio.Event,
    duration: float | None,
    started: float,
) -> CampaignRunner | None:
    """Print progress every second until ``stop`` or the duration; returns the runner."""
    runner: CampaignRunner | None = None
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
        elapsed = time.monotonic() - started
        engine = app.get(ENGINE)
        if engine is not None:
            runner = engine.runners.get(campaign_id, runner)
        if runner is not None:
            _say(_progress(runner, elapsed))
        if duration is not None and elapsed >= duration:
            break
    return runner


def _progress(runner: CampaignRunner, elapsed: float) -> str:
    counts = runner.view.counts()
    flow = runner.flow
    return (
        f"[{elapsed:5.0f}s] dials {runner.dialing.dials:5d}  calls {len(flow.calls):4d} "
        f"(ringing {flow.in_flight()}, waiting {flow.humans_waiting()})  "
        f"agents {counts['available']} free / {counts['on_call']} talking / "
        f"{counts['wrap_up']} wrap-up  abandon {runner.budget.rate('24h'):.1%}  "
        f"deferred by rules {runner.dialing.blocked}  mode {runner.mode}"
    )


def _print_summary(result: dict[str, Any]) -> None:
    outcomes = ", ".join(f"{k} {v}" for k, v in result["outcomes"].items()) or "none"
    print(
        f"demo campaign {result['campaign_id']}: {result['attempts']} attempts in "
        f"{result['duration_s']:.0f} s ({outcomes})\n"
        f"connected {result['connected']}, abandoned {result['abandoned']} "
        f"(abandon rate {result['abandon_rate']:.1%}), agent occupancy "
        f"{result['agent_occupancy']:.0%}, deferred by calling rules "
        f"{result['blocked_by_rules']}, transferred to the closers {result['transfers']}"
    )
