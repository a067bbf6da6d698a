"""The live engine against the simulator on the same floor: occupancy and abandon rate.

    python bench/engine_vs_sim.py [--agents 20] [--speed 10] [--minutes 20] [--json]

One predictive campaign, ``--agents`` simulated agents (wrap 10 s +-50 %) and the
simulated gateway with the reference callee model (``dialer.sim.model.CalleeModel()``),
run through the real engine on a scratch PostgreSQL at ``--speed`` x for ``--minutes``
of call-world time; then ``dialer.sim`` with the same parameters and the same pacer.
Prints occupancy (talk / logged-in time) and abandon rate of both and the gap, with the
engine's event-to-dial latency and the load average. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import engine_bench as eb

from dialer import db
from dialer.agents.bus import AgentBus
from dialer.campaigns import store as campaigns
from dialer.engine.runner import RunnerOptions
from dialer.engine.simagents import sim_agents_hook
from dialer.engine.supervisor import Engine
from dialer.pacing import make_pacer
from dialer.sim import CalleeModel, SimParams, run_simulation
from dialer.telephony import LoopTimer, SimGatewayParams, SimulatedGateway


async def engine_run(args: argparse.Namespace) -> dict[str, Any]:
    scratch = await eb.create_scratch("engine_vs_sim", fast_commit=True)
    url = scratch.url
    pool = await db.create_pool(url, min_size=5, max_size=20)
    try:
        async with pool.acquire() as conn:
            cid = await eb._campaign(conn, "vs-sim", 20000, 0, abandon_timeout_s=2)
            await campaigns.transition(conn, cid, "start", scope=None, now=eb.CLOCK.now())
        timer = LoopTimer(args.speed)
        gateway = SimulatedGateway(timer, SimGatewayParams(callee=CalleeModel()), seed=1)
        bus = AgentBus(pool)
        await bus.start()
        engine = Engine(
            pool,
            gateway,
            timer,
            eb.CLOCK,
            instance_id="vs-sim",
            bus=bus,
            options=RunnerOptions(tick_s=0.1),
            poll_s=1.0,
            hooks=(sim_agents_hook(bus, timer, args.agents, seed=1),),
        )
        await engine.start()
        while cid not in engine.runners:
            await asyncio.sleep(0.1)
        runner = engine.runners[cid]
        t0 = timer.now()
        wall0 = time.monotonic()
        while timer.now() - t0 < args.minutes * 60.0:
            await asyncio.sleep(0.5)
        runner.view.integrate(timer.now())
        occupancy = runner.view.occupancy()
        humans, abandoned = runner.budget.counts("24h")
        lat = [x * 1000 for x in runner.dialing.latencies]
        result = {
            "occupancy": round(occupancy, 3),
            "abandon_rate": round(abandoned / humans, 4) if humans else 0.0,
            "human_answers": humans,
            "abandoned": abandoned,
            "dials": runner.dialing.dials,
            "wall_s": round(time.monotonic() - wall0, 1),
            "event_to_dial_ms_p50": round(eb._pct(lat, 0.5), 1),
            "event_to_dial_ms_p99": round(eb._pct(lat, 0.99), 1),
            "event_to_dial_call_s_p99": round(eb._pct(lat, 0.99) * args.speed / 1000, 2),
        }
        await engine.stop()
        await gateway.close()
        await bus.stop()
        return result
    finally:
        await pool.close()
        await scratch.drop()


def sim_run(args: argparse.Namespace) -> dict[str, Any]:
    params = SimParams(agents=args.agents, duration_s=args.minutes * 60.0, seed=1)
    r = run_simulation(params, make_pacer("predictive", max_abandon_rate=0.03, max_wait_s=2.0))
    return {
        "occupancy": round(r.occupancy, 3),
        "abandon_rate": round(r.abandon_rate, 4),
        "human_answers": r.human_answers,
        "abandoned": r.abandoned,
        "dials": r.dials,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--agents", type=int, default=20)
    p.add_argument("--speed", type=float, default=10.0)
    p.add_argument("--minutes", type=float, default=20.0, help="call-world minutes")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    live = asyncio.run(engine_run(args))
    sim = sim_run(args)
    out = {
        "agents": args.agents,
        "speed": args.speed,
        "minutes": args.minutes,
        "engine": live,
        "simulator": sim,
        "occupancy_gap": round(live["occupancy"] - sim["occupancy"], 3),
        "abandon_gap": round(live["abandon_rate"] - sim["abandon_rate"], 4),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "cpus": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(out))
        return
    for name in ("engine", "simulator"):
        r = out[name]
        print(
            f"{name:<10} occupancy {r['occupancy']:.3f}  abandon {r['abandon_rate']:.2%}"
            f"  ({r['abandoned']}/{r['human_answers']}, {r['dials']} dials)"
        )
    print(f"gap        occupancy {out['occupancy_gap']:+.3f}  abandon {out['abandon_gap']:+.2%}")
    print(
        f"engine event-to-dial p50 {live['event_to_dial_ms_p50']} ms,"
        f" p99 {live['event_to_dial_ms_p99']} ms ({live['event_to_dial_call_s_p99']} call-s)"
    )
    print(f"loadavg {' '.join(out['loadavg'])}, {out['cpus']} cpus, wall {live['wall_s']} s")


if __name__ == "__main__":
    main()
