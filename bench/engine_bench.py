"""Dialing-engine benchmark: concurrent calls, dials/s, event-to-dial latency, double dials.

    python bench/engine_bench.py [--agents 500] [--speed 10] [--seconds 60] [--json]
    python bench/engine_bench.py --two-process [--attempts 100000] [--json]

Runs against ``DIALER_DATABASE_URL`` (a scratch database is created and dropped) or an
embedded PostgreSQL in a temporary folder.

One process (default): one predictive campaign, ``--agents`` simulated agents and the
simulated gateway at ``--speed`` in this process. The callees are a cold list (few people
answer, long rings), which is what keeps thousands of calls in the air. After
``--warmup`` seconds it measures for ``--seconds``: calls on the gateway (peak and median),
dials per wall second, and the wall time from an event (a call ended, an agent freed up)
to the originate it caused (p50/p99). Calling rules are checked before every dial as in
production (the campaign waives US calling hours so the run does not depend on the time
of day).

Two processes (``--two-process``): four campaigns, two ``dialer serve`` processes with
simulated agents on one database, short retry delays so leads are dialed again and again;
one process is killed (SIGKILL) half way and restarted. When ``--attempts`` attempts are
recorded both stop and the run reports double dials: two attempts of one lead whose calls
overlap, or a redial sooner than the retry policy allows. It must be 0.

Not a test: it prints figures (one JSON object with ``--json``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
from figures import print_figures
from scratch import create_scratch

from dialer import db
from dialer.agents.bus import AgentBus
from dialer.auth.roles import SYSTEM
from dialer.campaigns import store as campaigns
from dialer.clock import SystemClock
from dialer.compliance import geodata
from dialer.engine.runner import RunnerOptions
from dialer.engine.simagents import sim_agents_hook
from dialer.engine.supervisor import Engine
from dialer.sim.model import CalleeModel
from dialer.telephony import LoopTimer, SimGatewayParams, SimulatedGateway

CLOCK = SystemClock()
COLD_LIST = CalleeModel(
    p_human=0.10,
    p_machine=0.10,
    p_busy=0.04,
    p_failed=0.01,
    ring_min_s=5.0,
    ring_max_s=30.0,
    no_answer_s=30.0,
    talk_s=90.0,
    amd_s=3.0,
    patience_s=30.0,
)
RETRY_FAST = {k: 60 for k in ("no_answer", "busy", "machine", "failed", "abandoned", "unknown")}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _numbers(count: int, offset: int) -> list[tuple[str, str | None, list[str]]]:
    """Distinct US numbers ``+1 NPA 555 XXXX`` with their state and zones."""
    areas = [a for a in geodata.nanp_table().values() if a.region == "US" and a.zones]
    out = []
    for n in range(offset, offset + count):
        area = areas[n % len(areas)]
        line = n // len(areas)
        sub = area.subdivisions[0] if len(area.subdivisions) == 1 else None
        out.append((f"+1{area.npa}555{line:04d}", sub, list(area.zones)))
    return out


async def _campaign(
    conn: asyncpg.Connection, name: str, leads: int, offset: int, **fields: Any
) -> int:
    now = CLOCK.now()
    row = await campaigns.create(
        conn,
        {
            "name": name,
            "caller_id": "+14155550100",
            "dial_mode": "predictive",
            "waived_rules": ["us.hours"],
            "waiver_reason": "benchmark runs around the clock",
            **fields,
        },
        SYSTEM,
        now=now,
    )
    records = [
        (row["id"], phone, "US", sub, zones, now, now, now)
        for phone, sub, zones in _numbers(leads, offset)
    ]
    await conn.copy_records_to_table(
        "leads",
        records=records,
        columns=[
            "campaign_id",
            "phone_e164",
            "region",
            "subdivision",
            "time_zones",
            "next_attempt_at",
            "created_at",
            "updated_at",
        ],
    )
    return int(row["id"])


async def _double_dials(pool: asyncpg.Pool, min_gap_s: float) -> dict[str, int]:
    overlapping = await pool.fetchval(
        """
        SELECT count(*) FROM attempts a JOIN attempts b
          ON a.lead_id = b.lead_id AND a.id < b.id
         AND b.started_at < coalesce(a.ended_at, 'infinity')
         AND a.started_at < coalesce(b.ended_at, 'infinity')
        """
    )
    too_soon = await pool.fetchval(
        """
        SELECT count(*) FROM (
            SELECT started_at, lag(ended_at) OVER (PARTITION BY lead_id ORDER BY started_at)
                   AS previous_end
            FROM attempts) x
        WHERE previous_end IS NOT NULL AND started_at < previous_end + make_interval(secs => $1)
        """,
        min_gap_s,
    )
    unrecorded = await pool.fetchval(  # dials the gateway refused are not counted
        "SELECT count(*) FROM leads l WHERE attempts_count <>"
        " (SELECT count(*) FROM attempts a WHERE a.lead_id = l.id"
        "  AND coalesce(a.hangup_cause NOT LIKE 'gateway\\_unavailable:%', true))"
    )
    return {
        "overlapping": int(overlapping),
        "redialed_too_soon": int(too_soon),
        "lead_count_mismatch": int(unrecorded),
    }


# -- one process --------------------------------------------------------------------------
async def one_process(args: argparse.Namespace) -> dict[str, Any]:
    scratch = await create_scratch("engine_bench", fast_commit=True)
    url = scratch.url
    pool = await db.create_pool(url, min_size=10, max_size=args.pool)
    try:
        async with pool.acquire() as conn:
            _say(f"loading {args.leads} leads ...")
            mode = "progressive" if args.mode == "mixed" else args.mode
            cid = await _campaign(conn, "bench", args.leads, 0, ring_timeout_s=30, dial_mode=mode)
            ids = [cid]
            if args.mode == "mixed":  # plus an agentless campaign on its own lines
                ids.append(
                    await _campaign(
                        conn,
                        "bench-agentless",
                        args.leads,
                        args.leads,
                        ring_timeout_s=30,
                        dial_mode="agentless",
                        max_lines=args.agentless_lines,
                        safe_harbor_message="This is a reminder of your appointment tomorrow.",
                    )
                )
            for campaign_id in ids:
                await campaigns.transition(conn, campaign_id, "start", scope=None, now=CLOCK.now())
        timer = LoopTimer(args.speed)
        gateway = SimulatedGateway(timer, SimGatewayParams(callee=COLD_LIST), seed=1)
        bus = AgentBus(pool)
        await bus.start()
        engine = Engine(
            pool,
            gateway,
            timer,
            CLOCK,
            instance_id="bench",
            bus=bus,
            options=RunnerOptions(tick_s=0.1),
            poll_s=1.0,
            hooks=(sim_agents_hook(bus, timer, args.agents, seed=1),),
        )
        started = time.monotonic()
        await engine.start()
        result = await _measure(engine, gateway, ids, args, started)
        await engine.stop()
        await gateway.close()
        await bus.stop()
        result.update(await _double_dials(pool, 0.0))
        result["open_attempts_after_stop"] = int(
            await pool.fetchval("SELECT count(*) FROM attempts WHERE ended_at IS NULL")
        )
        return result
    finally:
        await pool.close()
        await scratch.drop()


async def _measure(
    engine: Engine,
    gateway: SimulatedGateway,
    ids: list[int],
    args: argparse.Namespace,
    t0: float,
) -> dict[str, Any]:
    while not all(cid in engine.runners for cid in ids):
        await asyncio.sleep(0.1)
    runners = [engine.runners[cid] for cid in ids]
    runner = runners[0]  # the campaign with agents

    def dials() -> int:
        return sum(r.dialing.dials for r in runners)

    end_warmup = t0 + args.warmup
    samples: list[int] = []
    dials_at_start = 0
    measuring = False
    while True:
        await asyncio.sleep(0.2)
        now = time.monotonic()
        if not measuring and now >= end_warmup:
            measuring, window_start = True, now
            dials_at_start = dials()
            for r in runners:
                r.dialing.latencies.clear()
            gateway.peak_calls = gateway.calls_up
        if measuring:
            samples.append(gateway.calls_up)
            if now - window_start >= args.seconds:
                break
        if int(now - t0) % 5 == 0:
            _say(
                f"[{now - t0:4.0f}s] calls {gateway.calls_up:5d}  dials {dials()}"
                f"  agents {runner.view.counts()}  mode {runner.mode}"
            )
    window = time.monotonic() - window_start
    latencies = [x * 1000 for r in runners for x in r.dialing.latencies]
    humans, abandoned = runner.budget.counts("24h")
    return {
        "agents": args.agents,
        "mode": args.mode,
        "speed": args.speed,
        "window_s": round(window, 1),
        "concurrent_calls_peak": gateway.peak_calls,
        "concurrent_calls_median": int(statistics.median(samples)) if samples else 0,
        "dials_per_s": round((dials() - dials_at_start) / window, 1),
        "event_to_dial_ms": {
            "p50": round(_pct(latencies, 0.50), 2),
            "p99": round(_pct(latencies, 0.99), 2),
            "max": round(max(latencies, default=0.0), 2),
            "samples": len(latencies),
        },
        "attempts": dials(),
        "human_answers": humans,
        "abandoned": abandoned,
        "agent_occupancy": round(runner.view.occupancy(), 3),
        "mode_at_end": runner.mode,
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }


# -- two processes ------------------------------------------------------------------------
async def _serve(url: str, name: str, args: argparse.Namespace, logs: Path) -> Any:
    env = {
        **os.environ,
        "DIALER_DATABASE_URL": url,
        "DIALER_PORT": "0",
        "DIALER_INSTANCE_ID": name,
        "DIALER_SIM_AGENTS": str(args.agents_per_campaign),
        "DIALER_SIM_SPEED": str(args.speed),
        "DIALER_LOG_LEVEL": "WARNING",
        "DIALER_POOL_MAX_SIZE": "40",
    }
    out = (logs / f"{name}.log").open("ab")
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dialer", "serve", env=env, stdout=out, stderr=out
    )


async def two_processes(args: argparse.Namespace) -> dict[str, Any]:
    scratch = await create_scratch("engine_bench", fast_commit=True)
    url = scratch.url
    logs = Path(tempfile.mkdtemp(prefix="dialer-engine-bench-logs-"))
    pool = await db.create_pool(url, min_size=1, max_size=4)
    procs: dict[str, Any] = {}
    try:
        ids = []
        async with pool.acquire() as conn:
            for n in range(args.campaigns):
                ids.append(
                    await _campaign(
                        conn,
                        f"bench-{n}",
                        args.leads_per_campaign,
                        n * args.leads_per_campaign,
                        retry_policy=RETRY_FAST,
                        max_attempts=100,
                    )
                )
        for name in ("p1", "p2"):
            procs[name] = await _serve(url, name, args, logs)
        while (
            await pool.fetchval(
                "SELECT count(*) FROM leases WHERE name LIKE 'engine:%' AND expires_at > now()"
            )
            < 2
        ):
            await asyncio.sleep(0.2)
        async with pool.acquire() as conn:
            for cid in ids:
                await campaigns.transition(conn, cid, "start", scope=None, now=CLOCK.now())
        started = time.monotonic()
        killed = False
        while True:
            await asyncio.sleep(2)
            count = int(await pool.fetchval("SELECT count(*) FROM attempts"))
            owners = await pool.fetch(
                "SELECT owner, count(*) FROM leases WHERE name LIKE 'campaign:%'"
                " AND expires_at > now() GROUP BY owner"
            )
            _say(
                f"[{time.monotonic() - started:5.0f}s] attempts {count}  runners "
                + ", ".join(f"{r['owner']}: {r['count']}" for r in owners)
            )
            if not killed and count >= args.attempts // 2:
                _say("kill -9 p1, then start it again")
                procs["p1"].send_signal(signal.SIGKILL)
                await procs["p1"].wait()
                procs["p1"] = await _serve(url, "p1", args, logs)
                killed = True
            if count >= args.attempts:
                break
        elapsed = time.monotonic() - started
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        codes = [await asyncio.wait_for(p.wait(), 120) for p in procs.values()]
        result: dict[str, Any] = {
            "processes": 2,
            "campaigns": args.campaigns,
            "agents_per_campaign": args.agents_per_campaign,
            "speed": args.speed,
            "attempts": int(await pool.fetchval("SELECT count(*) FROM attempts")),
            "seconds": round(elapsed, 1),
            "killed_and_restarted": killed,
            "exit_codes": codes,
            "open_attempts_after_stop": int(
                await pool.fetchval("SELECT count(*) FROM attempts WHERE ended_at IS NULL")
            ),
            "unknown_outcomes": int(
                await pool.fetchval("SELECT count(*) FROM attempts WHERE outcome = 'unknown'")
            ),
        }
        checks = await _double_dials(pool, min(RETRY_FAST.values()))
        result.update(checks)
        result["double_dials"] = checks["overlapping"] + checks["redialed_too_soon"]
        return result
    finally:
        for proc in procs.values():
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await pool.close()
        await scratch.drop()
        shutil.rmtree(logs, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=30.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--leads", type=int, default=400_000)
    parser.add_argument("--pool", type=int, default=40, help="asyncpg pool size")
    parser.add_argument(
        "--mode",
        default="predictive",
        choices=("progressive", "predictive", "mixed"),
        help="mixed: a progressive campaign with the agents plus an agentless one",
    )
    parser.add_argument("--agentless-lines", type=int, default=1600)
    parser.add_argument("--two-process", action="store_true")
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--campaigns", type=int, default=4)
    parser.add_argument("--agents-per-campaign", type=int, default=40)
    parser.add_argument("--leads-per-campaign", type=int, default=20_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.two_process and "--speed" not in sys.argv:
        args.speed = 100.0
    result = asyncio.run(two_processes(args) if args.two_process else one_process(args))
    print_figures(result, as_json=args.json)


if __name__ == "__main__":
    main()
