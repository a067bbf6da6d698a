"""Pacing benchmark: predictive vs progressive, best fixed ratio in hindsight and VICIdial.

For every scenario (agents {5, 20, 100} x p_human {0.15, 0.30} x talk {60, 180} s, the
reference scenario, and a shift whose answer rate falls from 0.35 to 0.15) each pacer runs
the same seeds (same callees: common random numbers) for a full shift. Printed per
scenario and pacer: mean and worst-seed occupancy and abandon rate. The goal checked in
the last column: predictive abandons at most the limit on *every* seed, and its mean
occupancy is at least the best hindsight ratio's and VICIdial's (in VICIdial's default
configuration, and with ``available_only_ratio_tally=Y``, its better one here).

    python bench/pacing_bench.py [--json] [--plot out.png] [--seeds 5] [--hours 8]
                                 [--only 20x0.30x90] [--jobs N]

A benchmark, not a test: the full grid takes tens of minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from multiprocessing import Pool
from typing import Any

from dialer.pacing import make_pacer
from dialer.sim import CalleeModel, PHumanSchedule, SimParams, SimResult, run_simulation
from dialer.sim.search import best_ratio

LIMIT = 0.03
# pacer name -> (dial mode, tuning); best_ratio is searched, not built here
SPECS: dict[str, tuple[str, dict[str, Any]]] = {
    "progressive": ("progressive", {}),
    "vicidial": ("vicidial", {}),  # VICIdial defaults: ADAPT_HARD_LIMIT, all agents tallied
    "vicidial_ready": ("vicidial", {"available_only": True}),  # available_only_ratio_tally=Y
    "predictive": ("predictive", {}),
}
PACERS = ("progressive", "best_ratio", "vicidial", "vicidial_ready", "predictive")
RIVALS = ("best_ratio", "vicidial", "vicidial_ready")


@dataclass(frozen=True)
class Scenario:
    name: str
    params: SimParams


def scenarios(hours: float) -> list[Scenario]:
    """The benchmark grid, the reference scenario and the drifting answer rate."""
    duration = hours * 3600.0
    out = []
    for agents in (5, 20, 100):
        for p in (0.15, 0.30):
            for talk in (60.0, 180.0):
                callee = CalleeModel(p_human=p, talk_s=talk)
                out.append(
                    Scenario(
                        f"{agents}x{p:.2f}x{talk:.0f}",
                        SimParams(agents=agents, callee=callee, duration_s=duration),
                    )
                )
    out.append(Scenario("20x0.30x90 (reference)", SimParams(duration_s=duration)))
    drift = CalleeModel(p_human=0.35, p_human_schedule=PHumanSchedule.linear(0.35, 0.15, duration))
    out.append(Scenario("20xdriftx90 (0.35→0.15)", SimParams(callee=drift, duration_s=duration)))
    return out


def _run(job: tuple[SimParams, str, int]) -> SimResult:
    params, name, seed = job
    mode, tuning = SPECS[name]
    pacer = make_pacer(mode, max_abandon_rate=LIMIT, **tuning)
    return run_simulation(replace(params, seed=seed), pacer)


def _summary(results: Sequence[SimResult], ratio: float | None = None) -> dict[str, Any]:
    occ = [r.occupancy for r in results]
    ab = [r.abandon_rate for r in results]
    out: dict[str, Any] = {
        "occupancy_mean": sum(occ) / len(occ),
        "occupancy_worst": min(occ),
        "abandon_mean": sum(ab) / len(ab),
        "abandon_worst": max(ab),
        "seeds": [r.to_dict() for r in results],
    }
    if ratio is not None:
        out["ratio"] = ratio
    return out


def run_bench(
    chosen: list[Scenario], seeds: list[int], mapper: Callable[..., list[Any]]
) -> dict[str, Any]:
    """Every pacer on every scenario; returns a JSON-ready report."""
    jobs = [
        (sc.params, mode, s)
        for sc in chosen
        for mode in PACERS
        if mode != "best_ratio"
        for s in seeds
    ]
    flat = mapper(_run, jobs)
    report: dict[str, Any] = {"limit": LIMIT, "seeds": seeds, "scenarios": {}}
    i = 0
    for sc in chosen:
        entry: dict[str, Any] = {}
        for mode in PACERS:
            if mode == "best_ratio":
                continue
            entry[mode] = _summary(flat[i : i + len(seeds)])
            i += len(seeds)
        search = best_ratio(sc.params, seeds, max_abandon_rate=LIMIT, mapper=mapper)
        if search.best is not None:
            entry["best_ratio"] = _summary(search.best.results, search.best.ratio)
        pred = entry["predictive"]
        rivals = [entry[m]["occupancy_mean"] for m in RIVALS if m in entry]
        entry["goal_met"] = pred["abandon_worst"] <= LIMIT and all(
            pred["occupancy_mean"] >= occ for occ in rivals
        )
        entry["physical_limit"] = sc.params.callee.talk_s / (
            sc.params.callee.talk_s + sc.params.wrap_s
        )
        report["scenarios"][sc.name] = entry
        print(f"  done {sc.name}", file=sys.stderr, flush=True)
    return report


def print_table(report: dict[str, Any]) -> None:
    """The human-readable table: one block per scenario, one line per pacer."""
    head = (
        f"{'scenario':<26}{'pacer':<18}{'occ mean':>9}{'occ worst':>10}"
        f"{'ab mean':>9}{'ab worst':>9}"
    )
    print(head)
    print("-" * len(head))
    for name, entry in report["scenarios"].items():
        for mode in PACERS:
            if mode not in entry:
                print(f"{name:<26}{mode:<18}{'(no ratio within the limit)':>37}")
                continue
            s = entry[mode]
            label = f"ratio {s['ratio']:.2f}" if mode == "best_ratio" else mode
            print(
                f"{name:<26}{label:<18}{s['occupancy_mean']:>9.3f}{s['occupancy_worst']:>10.3f}"
                f"{100 * s['abandon_mean']:>8.2f}%{100 * s['abandon_worst']:>8.2f}%"
            )
            name = ""
        print(f"{'':<26}{'goal met' if entry['goal_met'] else 'GOAL MISSED'}")
    met = sum(e["goal_met"] for e in report["scenarios"].values())
    print(f"\ngoal met in {met}/{len(report['scenarios'])} scenarios")


def plot(report: dict[str, Any], path: str) -> int:
    """Occupancy vs abandon rate per scenario; needs the optional matplotlib extra."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("pacing_bench: --plot needs matplotlib (pip install matplotlib)", file=sys.stderr)
        return 2
    names = list(report["scenarios"])
    cols = min(4, len(names))
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.4 * rows), squeeze=False)
    markers = {
        "progressive": "s",
        "best_ratio": "^",
        "vicidial": "D",
        "vicidial_ready": "d",
        "predictive": "o",
    }
    for ax, name in zip(axes.flat, names, strict=False):
        entry = report["scenarios"][name]
        for mode in PACERS:
            if mode not in entry:
                continue
            seeds = entry[mode]["seeds"]
            ax.scatter(
                [100 * s["abandon_rate"] for s in seeds],
                [s["occupancy"] for s in seeds],
                marker=markers[mode],
                label=mode,
                alpha=0.75,
            )
        ax.axvline(100 * LIMIT, color="red", linestyle="--", linewidth=1)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("abandon rate (%)")
        ax.set_ylabel("occupancy")
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    ap.add_argument("--plot", metavar="PNG", help="draw occupancy vs abandon per scenario")
    ap.add_argument("--seeds", type=int, default=5, help="seeds per pacer (default 5)")
    ap.add_argument("--hours", type=float, default=8.0, help="shift length (default 8)")
    ap.add_argument("--only", action="append", default=[], help="scenario name prefix")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    args = ap.parse_args(argv)
    if args.plot:  # fail fast, before the long run, when the extra is missing
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("pacing_bench: --plot needs matplotlib (pip install matplotlib)", file=sys.stderr)
            return 2
    chosen = [
        s
        for s in scenarios(args.hours)
        if not args.only or any(s.name.startswith(o) for o in args.only)
    ]
    seeds = list(range(1, args.seeds + 1))
    started = time.monotonic()
    with Pool(args.jobs) as pool:
        report = run_bench(chosen, seeds, lambda fn, items: pool.map(fn, list(items), chunksize=1))
    report["elapsed_s"] = round(time.monotonic() - started, 1)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return plot(report, args.plot) if args.plot else 0


if __name__ == "__main__":
    sys.exit(main())
