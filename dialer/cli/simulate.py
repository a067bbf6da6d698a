"""``dialer simulate``: run one simulated shift with a pacer (and the best hindsight ratio).

Uses the discrete-event simulator (``dialer.sim``) in virtual time, so 8 hours of 20
agents take a couple of seconds. ``--best-ratio`` also searches the best fixed ratio in
hindsight over ``--seeds`` seeds, the yardstick the predictive pacer is measured against.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from typing import Any

from dialer.errors import UsageError
from dialer.pacing import make_pacer
from dialer.sim import CalleeModel, PHumanSchedule, SimParams, SimResult, TalkDistribution
from dialer.sim import run_simulation as run_sim
from dialer.sim.search import best_ratio

_MODES = ("progressive", "ratio", "power", "vicidial", "predictive")


def register(subparsers: Any) -> None:
    """Add ``simulate`` to the ``dialer`` command line."""
    p = subparsers.add_parser(
        "simulate",
        help="simulate a campaign shift with a pacer (virtual time)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    p.add_argument("--agents", type=int, default=20, help="agents logged in (default 20)")
    p.add_argument("--mode", choices=_MODES, default="predictive", help="dial mode")
    p.add_argument("--ratio", type=float, help="lines per free agent for --mode ratio/power")
    p.add_argument("--p-human", type=float, default=0.30, help="P(human answers), default 0.30")
    p.add_argument(
        "--p-human-end",
        type=float,
        help="answer rate at the end of the shift (linear drift from --p-human)",
    )
    p.add_argument("--p-machine", type=float, default=0.10, help="P(machine answers), 0.10")
    p.add_argument("--talk", type=float, default=90.0, help="mean talk time, s (default 90)")
    p.add_argument("--wrap", type=float, default=10.0, help="wrap-up time, s (default 10)")
    p.add_argument("--talk-dist", choices=("exp", "lognormal"), default="exp")
    p.add_argument("--hours", type=float, default=8.0, help="shift length (default 8)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--max-abandon", type=float, default=0.03, help="abandon limit, 0.03")
    p.add_argument("--max-lines", type=int, help="cap on calls in flight")
    p.add_argument(
        "--best-ratio",
        action="store_true",
        help="also search the best fixed ratio in hindsight over --seeds seeds",
    )
    p.add_argument("--seeds", type=int, default=5, help="seeds for --best-ratio (default 5)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _params(args: argparse.Namespace) -> SimParams:
    if args.agents < 1:
        raise UsageError("--agents must be at least 1", field="agents")
    if args.hours <= 0:
        raise UsageError("--hours must be positive", field="hours")
    if args.seeds < 1:
        raise UsageError("--seeds must be at least 1", field="seeds")
    duration = args.hours * 3600.0
    schedule = None
    if args.p_human_end is not None:
        try:
            schedule = PHumanSchedule.linear(args.p_human, args.p_human_end, duration)
        except ValueError as exc:
            raise UsageError(f"--p-human-end: {exc}", field="p_human_end") from None
    try:
        callee = CalleeModel(
            p_human=args.p_human,
            p_machine=args.p_machine,
            talk_s=args.talk,
            talk_dist=TalkDistribution(args.talk_dist),
            p_human_schedule=schedule,
        )
        return SimParams(
            agents=args.agents,
            callee=callee,
            wrap_s=args.wrap,
            duration_s=duration,
            seed=args.seed,
            max_lines=args.max_lines,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    """Handler of ``dialer simulate``."""
    params = _params(args)
    try:
        pacer = make_pacer(
            args.mode,
            ratio=args.ratio if args.mode in ("ratio", "power") else None,
            max_abandon_rate=args.max_abandon,
            max_lines=args.max_lines,
        )
    except ValueError as exc:
        raise UsageError(str(exc), field="mode") from None
    result = run_sim(params, pacer)
    out: dict[str, Any] = {"mode": args.mode, **result.to_dict()}
    if args.mode in ("ratio", "power"):
        out["ratio"] = args.ratio
    out["within_limit"] = result.abandon_rate <= args.max_abandon
    out["physical_limit"] = args.talk / (args.talk + args.wrap)
    if args.best_ratio:
        out["best_ratio"] = _best_ratio(params, args)
    if args.json:
        print(json.dumps(out, indent=2, sort_keys=True))
    else:
        _print_human(out, result)
    return 0


def _best_ratio(params: SimParams, args: argparse.Namespace) -> dict[str, Any]:
    seeds = list(range(args.seed, args.seed + args.seeds))
    search = best_ratio(replace(params, seed=args.seed), seeds, max_abandon_rate=args.max_abandon)
    if search.best is None:
        return {"ratio": None, "seeds": seeds}
    best = search.best
    return {
        "ratio": best.ratio,
        "occupancy": best.occupancy,
        "abandon_rate": best.abandon_rate,
        "abandon_rate_worst": max(r.abandon_rate for r in best.results),
        "seeds": seeds,
    }


def _print_human(out: dict[str, Any], result: SimResult) -> None:
    hours = result.duration_s / 3600.0
    print(f"mode {out['mode']}: {result.agents} agents, {hours:g} h, seed {result.seed}")
    print(
        f"  occupancy {result.occupancy:.3f} (physical limit {out['physical_limit']:.3f}), "
        f"abandon rate {100 * result.abandon_rate:.2f}% "
        f"({result.abandoned}/{result.human_answers} human answers)"
    )
    print(
        f"  dials {result.dials}, connected {result.connected}, "
        f"mean wait {result.mean_wait_s:.2f} s, max in flight {result.max_in_flight}"
    )
    best = out.get("best_ratio")
    if best is not None:
        if best["ratio"] is None:
            print("  best fixed ratio: none keeps the abandon rate within the limit")
        else:
            print(
                f"  best fixed ratio in hindsight over {len(best['seeds'])} seeds: "
                f"{best['ratio']:.2f} → occupancy {best['occupancy']:.3f}, "
                f"abandon {100 * best['abandon_rate']:.2f}% "
                f"(worst seed {100 * best['abandon_rate_worst']:.2f}%)"
            )
