"""Pacing sweep: predictive vs the best fixed ratio in hindsight on random, unseen floors.

A grid of 14 cannot show where a pacer is weak; a user's floor is wherever it is. This
draws ``N`` scenarios at random from a fixed seed over wide ranges — agents 2-200
(log-uniform), p_human 0.04-0.50, p_machine 0-0.30, talk 20-600 s (log-uniform;
exponential or lognormal), wrap-up 0-90 s, shift 1-10 h — with a share whose answer rate
drifts up or down during the shift, and shares of imperfect floors: breaks and early
log-outs, AMD errors, callers hanging up within 2 s, and two campaigns with different
answer rates sharing the pool (each with its own budget). Every scenario runs
progressive, the best fixed ratio in hindsight (0.05 grid, mean abandon <= 3 % over the
seeds; on a shared floor one ratio for both, each campaign's mean <= 3 %) twice — as the
engine's power mode dials it (with the legal slack guard, ``GuardedPacer``) and
unguarded — and predictive on the same ``K`` seeds (same callees for every pacer).

Printed per scenario: both ratios (a ``!`` when the ratio's worst seed is over 3 %), the
margin (predictive - guarded best ratio, mean occupancy; pool occupancy on a shared
floor; the goal's figure) and the margin against the unguarded ratio, predictive's
worst-seed abandon (worst campaign) and its worst minute of the window; then the
distribution of both margins.

    python bench/pacing_sweep.py [--scenarios 40] [--seeds 5] [--json] [--quick]
                                 [--only I] [--jobs N] [--tune KEY=VALUE] [--rows FILE]
                                 [--rivals FILE] [--holdout K]

``--quick`` is 20 scenarios x 3 seeds with shifts cut to at most 3 h (same draws).
``--rivals FILE`` reuses the ratio searches of a saved ``--rows`` file (only progressive
and predictive run): a pacer change is measured in minutes, not hours. The rivals stay
valid while the simulator and the seeds are unchanged. ``--holdout K`` also runs the
guarded ratio chosen on the seeds and predictive on ``K`` fresh seeds (after the last one):
the margin there carries no selection bias in the rival's favour.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from multiprocessing import Pool
from typing import Any

from dialer.pacing import GuardedPacer, make_pacer
from dialer.pacing.fixed import RatioPacer
from dialer.sim import (
    Breaks,
    CalleeModel,
    PHumanSchedule,
    SimParams,
    SimResult,
    TalkDistribution,
    run_floor,
)
from dialer.sim.search import best_ratio

LIMIT = 0.03
SWEEP_SEED = 16


@dataclass(frozen=True)
class Scenario:
    index: int
    name: str
    params: SimParams
    callees: tuple[CalleeModel, ...]  # one per campaign sharing the floor

    def run(self, seed: int, make: Any) -> SimResult:
        """Run every campaign with a pacer from ``make()``; one result for the floor."""
        results = run_floor(replace(self.params, seed=seed), [(c, make()) for c in self.callees])
        if len(results) == 1:
            return results[0]
        return replace(
            results[0],
            occupancy=sum(r.occupancy for r in results),
            abandon_rate=max(r.abandon_rate for r in results),
            max_window_rate=max(r.max_window_rate for r in results),
            window_rates=(),
        )


def draw_scenarios(n: int, max_hours: float | None = None) -> list[Scenario]:
    """``n`` scenarios from the fixed sweep seed (the same list whatever ``n`` is)."""
    rng = random.Random(SWEEP_SEED)
    return [_draw(rng, i, max_hours) for i in range(n)]


def _draw(rng: random.Random, i: int, max_hours: float | None) -> Scenario:
    agents = round(math.exp(rng.uniform(math.log(2), math.log(200))))
    p = rng.uniform(0.04, 0.50)
    pm = rng.uniform(0.0, 0.30)
    talk = math.exp(rng.uniform(math.log(20), math.log(600)))
    dist = rng.choice([TalkDistribution.EXPONENTIAL, TalkDistribution.LOGNORMAL])
    wrap = rng.uniform(0.0, 90.0)
    hours = rng.uniform(1.0, 10.0)
    drift, breaks, amd, quick, shared = (rng.random() for _ in range(5))
    p_end = min(0.5, max(0.04, p * rng.uniform(0.4, 2.5)))
    drops, passes, quick_share = rng.uniform(0, 0.1), rng.uniform(0, 0.1), rng.uniform(0, 0.2)
    p_other = rng.uniform(0.04, 0.50)
    if max_hours is not None:
        hours = min(hours, max_hours)
    duration = hours * 3600.0
    tags = []
    kw: dict[str, Any] = {"p_human": p, "p_machine": pm, "talk_s": talk, "talk_dist": dist}
    if drift < 0.25:
        kw["p_human_schedule"] = PHumanSchedule.linear(p, p_end, duration)
        tags.append(f"drift→{p_end:.2f}")
    if amd < 0.25:
        kw.update(p_amd_drops_human=drops, p_amd_passes_machine=passes)
        tags.append(f"amd {drops:.2f}/{passes:.2f}")
    if quick < 0.2:
        kw["p_quick_hangup"] = quick_share
        tags.append(f"quick {quick_share:.2f}")
    callee = CalleeModel(**kw)
    callees = [callee]
    if shared < 0.15 and agents >= 4:
        kw2 = {**kw, "p_human": p_other, "p_human_schedule": None}
        callees.append(CalleeModel(**kw2))
        tags.append(f"shared w/ {p_other:.2f}")
    floor_breaks = None
    if breaks < 0.3:
        floor_breaks = Breaks(p_leave_early=0.2)
        tags.append("breaks")
    params = SimParams(agents=agents, callee=callee, wrap_s=wrap, duration_s=duration)
    params = replace(params, breaks=floor_breaks)
    name = (
        f"{agents}x{p:.2f}x{talk:.0f}{'ln' if dist is TalkDistribution.LOGNORMAL else ''}"
        f" m{pm:.2f} w{wrap:.0f} {hours:.1f}h" + (" " + ", ".join(tags) if tags else "")
    )
    return Scenario(i, name, params, tuple(callees))


class _RatioRun:
    """A fixed ratio over a seed; ``guarded``: with the engine's legal guard on top, which
    is what a power-mode campaign dials (``dialer.engine.pacers``)."""

    def __init__(self, sc: Scenario, guarded: bool) -> None:
        self.sc = sc
        self.guarded = guarded

    def __call__(self, item: tuple[float, int]) -> SimResult:
        ratio, seed = item
        if self.guarded:
            return self.sc.run(seed, lambda: GuardedPacer(RatioPacer(ratio), LIMIT))
        return self.sc.run(seed, lambda: RatioPacer(ratio))


def _stats(results: Sequence[SimResult]) -> dict[str, float]:
    occ = [r.occupancy for r in results]
    ab = [r.abandon_rate for r in results]
    return {
        "occupancy_mean": sum(occ) / len(occ),
        "occupancy_worst": min(occ),
        "abandon_mean": sum(ab) / len(ab),
        "abandon_worst": max(ab),
        "window_worst": max(r.max_window_rate for r in results),
    }


Job = tuple[Scenario, list[int], dict[str, float], str | None, dict[str, Any] | None, int]


def run_scenario(job: Job) -> dict[str, Any]:
    """Every pacer on one scenario over the seeds (runs in a worker process); with a
    stored row (``--rivals``), its two ratio searches are reused instead of rerun."""
    sc, seeds, tuning, rows, stored, holdout = job
    started = time.monotonic()
    prog = [sc.run(s, lambda: make_pacer("progressive")) for s in seeds]
    pred = [
        sc.run(s, lambda: make_pacer("predictive", max_abandon_rate=LIMIT, **tuning)) for s in seeds
    ]
    out: dict[str, Any] = {
        "index": sc.index,
        "name": sc.name,
        "progressive": _stats(prog),
        "predictive": _stats(pred),
    }
    for key, guarded in (("best_ratio", False), ("best_power", True)):
        if stored is not None:
            if key in stored:
                out[key] = stored[key]
        else:
            search = best_ratio(
                sc.params, seeds, max_abandon_rate=LIMIT, evaluate=_RatioRun(sc, guarded)
            )
            if search.best is not None:
                out[key] = {"ratio": search.best.ratio, **_stats(search.best.results)}
        # none: even ratio 1.0 breaks the limit (breaks, AMD errors): progressive is the rival
        rival = out.get(key, out["progressive"])["occupancy_mean"]
        margin = out["predictive"]["occupancy_mean"] - rival
        out["margin_raw" if key == "best_ratio" else "margin"] = margin
    if holdout and "best_power" in out:
        out["holdout"] = _holdout(sc, out["best_power"]["ratio"], max(seeds) + 1, holdout, tuning)
    out["elapsed_s"] = round(time.monotonic() - started, 1)
    print(
        f"  done {sc.index:>2} {sc.name} ({out['elapsed_s']} s): margin {out['margin']:+.3f}, "
        f"vs unguarded {out['margin_raw']:+.3f}",
        file=sys.stderr,
        flush=True,
    )
    if rows:  # keep each row as it comes (a long run may be cut short)
        with open(rows, "a") as f:
            f.write(json.dumps(out) + "\n")
    return out


def _holdout(
    sc: Scenario, ratio: float, first: int, n: int, tuning: dict[str, float]
) -> dict[str, Any]:
    """The guarded ratio chosen on the sweep's seeds and predictive, on ``n`` fresh seeds.

    The rival is the best of many ratios scored on the seeds it was chosen on, which biases
    it upward where one abandon moves a seed's occupancy (tiny floors); fresh seeds do not.
    """
    fresh = list(range(first, first + n))
    pred = [
        sc.run(s, lambda: make_pacer("predictive", max_abandon_rate=LIMIT, **tuning)) for s in fresh
    ]
    rival = [sc.run(s, lambda: GuardedPacer(RatioPacer(ratio), LIMIT)) for s in fresh]
    diffs = [p.occupancy - r.occupancy for p, r in zip(pred, rival, strict=True)]
    mean = sum(diffs) / n
    var = sum((d - mean) ** 2 for d in diffs) / (n - 1) if n > 1 else 0.0
    return {
        "seeds": [fresh[0], fresh[-1]],
        "predictive": _stats(pred),
        "best_power": _stats(rival),
        "margin": mean,
        "margin_se": math.sqrt(var / n),
    }


def _margins(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    margins = sorted(r[key] for r in rows)
    n = len(margins)
    return {
        "min": margins[0],
        "p10": margins[int(0.1 * (n - 1))],
        "median": margins[n // 2],
        "mean": sum(margins) / n,
        "max": margins[-1],
        "negative": sum(m < 0 for m in margins),
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The goal is judged against the best *guarded* ratio (what power mode dials in the
    engine); the margin against the unguarded hindsight ratio is reported beside it."""
    m, raw = _margins(rows, "margin"), _margins(rows, "margin_raw")
    worst_ab = max(r["predictive"]["abandon_worst"] for r in rows)
    ok_ab = worst_ab <= LIMIT
    return {
        "scenarios": len(rows),
        **{f"margin_{k}": v for k, v in m.items()},
        **{f"margin_raw_{k}": v for k, v in raw.items()},
        "abandon_worst": worst_ab,
        "abandon_over_limit": sum(r["predictive"]["abandon_worst"] > LIMIT for r in rows),
        "window_over_limit": sum(r["predictive"]["window_worst"] > LIMIT for r in rows),
        "ratio_worst_over_limit": sum(
            r["best_ratio"]["abandon_worst"] > LIMIT for r in rows if "best_ratio" in r
        ),
        "goal_met": m["min"] >= 0 and ok_ab and m["mean"] >= 0.02,
        "goal_met_vs_unguarded": raw["min"] >= 0 and ok_ab and raw["mean"] >= 0.02,
    }


def _rival(b: dict[str, Any] | None) -> str:
    if b is None:
        return f"{'(none <= 3 %)':>22}"
    flag = "!" if b["abandon_worst"] > LIMIT else " "
    return f"{b['ratio']:>6.2f}{b['occupancy_mean']:>6.3f}{100 * b['abandon_worst']:>5.2f}%{flag}"


def print_table(rows: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    print(
        f"{'#':>2} {'scenario':<58}{'prog':>6}{'ratio':>6}{'occ':>6}{'ab wst':>7}"
        f"{'power':>6}{'occ':>6}{'ab wst':>7}{'pred':>6}{'ab wst':>7}{'win wst':>8}"
        f"{'m ratio':>8}{'margin':>8}"
    )
    for r in rows:
        pr = r["predictive"]
        print(
            f"{r['index']:>2} {r['name']:<58}{r['progressive']['occupancy_mean']:>6.3f}"
            + _rival(r.get("best_ratio"))
            + _rival(r.get("best_power"))
            + f"{pr['occupancy_mean']:>6.3f}{100 * pr['abandon_worst']:>6.2f}%"
            f"{100 * pr['window_worst']:>7.2f}%{r['margin_raw']:>+8.3f}{r['margin']:>+8.3f}"
        )
    held = [r for r in rows if "holdout" in r]
    if held:
        h0 = held[0]["holdout"]["seeds"]
        print(f"\nfresh seeds {h0[0]}-{h0[1]}, the guarded ratio chosen above vs predictive:")
        for r in held:
            h = r["holdout"]
            print(
                f"{r['index']:>2} R {r['best_power']['ratio']:.2f} margin {h['margin']:+.4f} "
                f"(se {h['margin_se']:.4f}); worst seed: predictive "
                f"{100 * h['predictive']['abandon_worst']:.2f} %, ratio "
                f"{100 * h['best_power']['abandon_worst']:.2f} %"
            )
    s = summary
    for label, k in (("vs guarded ratio (goal)", "margin_"), ("vs unguarded ratio", "margin_raw_")):
        print(
            f"\nmargin {label}: min {s[k + 'min']:+.3f}, p10 {s[k + 'p10']:+.3f}, median "
            f"{s[k + 'median']:+.3f}, mean {s[k + 'mean']:+.3f}, max {s[k + 'max']:+.3f}; "
            f"{s[k + 'negative']} of {s['scenarios']} below 0",
            end="",
        )
    print(
        f"\npredictive worst-seed abandon: {100 * s['abandon_worst']:.2f} % "
        f"({s['abandon_over_limit']} scenarios over {100 * LIMIT:.0f} %; "
        f"{s['window_over_limit']} with a window minute over it); unguarded hindsight ratio's "
        f"worst seed over {100 * LIMIT:.0f} % in {s['ratio_worst_over_limit']} ('!')"
    )
    print(
        ("goal met" if s["goal_met"] else "GOAL MISSED")
        + (", also vs the unguarded ratio" if s["goal_met_vs_unguarded"] else "")
    )


def _load_rivals(path: str, seeds: list[int]) -> dict[int, dict[str, Any]]:
    """Rows saved with ``--rows`` (the last row of each scenario wins), by index. Rows
    carry no seeds, so the caller must run the same ``--seeds`` as the saved run."""
    out: dict[int, dict[str, Any]] = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    row = json.loads(line)
                    out[int(row["index"])] = row
                except (ValueError, KeyError, TypeError) as exc:
                    raise ValueError(f"line {n} is not a sweep row ({exc})") from None
    return out


def _cost(sc: Scenario) -> float:
    return sc.params.agents * sc.params.duration_s * len(sc.callees)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenarios", type=int, default=40, help="random scenarios (default 40)")
    ap.add_argument("--seeds", type=int, default=5, help="seeds per pacer (default 5)")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    ap.add_argument("--quick", action="store_true", help="20 scenarios, 3 seeds, shifts <= 3 h")
    ap.add_argument("--only", type=int, action="append", default=[], help="scenario index")
    ap.add_argument(
        "--tune", action="append", default=[], metavar="KEY=VALUE", help="predictive tuning"
    )
    ap.add_argument(
        "--smallest-first", action="store_true", help="cheap scenarios first (with --rows)"
    )
    ap.add_argument("--rows", metavar="FILE", help="append each scenario's row (JSON lines)")
    ap.add_argument(
        "--holdout",
        type=int,
        default=0,
        metavar="K",
        help="also run the chosen guarded ratio and predictive on K fresh seeds",
    )
    ap.add_argument(
        "--rivals",
        metavar="FILE",
        help="reuse the ratio searches of rows saved with --rows (same draws and seeds): "
        "reruns only progressive and predictive, for pacer changes",
    )
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    args = ap.parse_args(argv)
    if args.scenarios < 1 or args.seeds < 1 or args.jobs < 1 or args.holdout < 0:
        print(
            "pacing_sweep: --scenarios, --seeds, --jobs must be at least 1, --holdout at least 0",
            file=sys.stderr,
        )
        return 2
    n, k, max_hours = args.scenarios, args.seeds, None
    if args.quick:
        n, k, max_hours = min(n, 20), min(k, 3), 3.0
    chosen = [s for s in draw_scenarios(n, max_hours) if not args.only or s.index in args.only]
    seeds = list(range(1, k + 1))
    started = time.monotonic()
    try:
        tuning = {k: float(v) for k, v in (item.split("=", 1) for item in args.tune)}
    except ValueError:
        print("pacing_sweep: --tune takes KEY=NUMBER, e.g. --tune buffer=2", file=sys.stderr)
        return 2
    try:
        stored = _load_rivals(args.rivals, seeds) if args.rivals else {}
    except (OSError, ValueError) as exc:
        print(f"pacing_sweep: --rivals {args.rivals}: {exc}", file=sys.stderr)
        return 2
    if args.rivals:
        chosen = [sc for sc in chosen if stored.get(sc.index, {}).get("name") == sc.name]
        if not chosen:
            print(
                f"pacing_sweep: --rivals {args.rivals} has none of these scenarios", file=sys.stderr
            )
            return 2
    order = sorted(chosen, key=_cost, reverse=not args.smallest_first)
    jobs: list[Job] = [
        (sc, seeds, tuning, args.rows, stored.get(sc.index) if args.rivals else None, args.holdout)
        for sc in order
    ]
    with Pool(args.jobs) as pool:
        rows = sorted(pool.imap_unordered(run_scenario, jobs), key=lambda r: r["index"])
    summary = summarise(rows)
    report = {
        "limit": LIMIT,
        "seeds": seeds,
        "sweep_seed": SWEEP_SEED,
        "quick": args.quick,
        "summary": summary,
        "scenarios": rows,
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(rows, summary)
        print(f"elapsed {report['elapsed_s']} s on {args.jobs} processes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
