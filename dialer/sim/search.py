"""Best fixed ratio in hindsight: the strongest baseline a human could have picked.

For one scenario, find the dial ratio ``R`` (on a 0.05 grid) with the highest mean
occupancy whose abandon rate, averaged over the same seeds, is within the limit. No live
system can do this — it needs the day's results before the day — which is what makes it
a demanding comparison.

Search: unit steps up from 1.0 until the mean abandon rate breaks the limit, bisection on
the 0.05 grid inside the last step, then every grid point within ±0.25 of the boundary is
evaluated too, because abandon rate is only nearly monotone in ``R`` (floors of
``R x free agents`` make it step). The best feasible point seen wins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from dialer.pacing.fixed import RatioPacer
from dialer.sim.simulator import SimParams, SimResult, run_simulation

GRID = 0.05
Mapper = Callable[
    [Callable[[tuple[float, int]], SimResult], Iterable[tuple[float, int]]], list[SimResult]
]


@dataclass(frozen=True, slots=True)
class RatioPoint:
    """One ratio evaluated over the seeds."""

    ratio: float
    occupancy: float
    abandon_rate: float
    results: tuple[SimResult, ...]


@dataclass(frozen=True, slots=True)
class RatioSearch:
    """The best feasible ratio (``None`` if even 1.0 breaks the limit) and all points seen."""

    best: RatioPoint | None
    points: tuple[RatioPoint, ...]


def _serial_map(
    fn: Callable[[tuple[float, int]], SimResult], items: Iterable[tuple[float, int]]
) -> list[SimResult]:
    return [fn(item) for item in items]


class _Evaluator:
    """Runs a scenario at a ratio over every seed (picklable for process pools)."""

    def __init__(self, params: SimParams) -> None:
        self.params = params

    def __call__(self, item: tuple[float, int]) -> SimResult:
        ratio, seed = item
        return run_simulation(replace(self.params, seed=seed), RatioPacer(ratio))


def best_ratio(
    params: SimParams,
    seeds: Sequence[int],
    *,
    max_abandon_rate: float = 0.03,
    max_ratio: float = 30.0,
    mapper: Mapper | None = None,
    evaluate: Callable[[tuple[float, int]], SimResult] | None = None,
) -> RatioSearch:
    """Search the best fixed ratio in hindsight for ``params`` over ``seeds``.

    ``mapper`` runs a batch of simulations (``map``-like); pass a process pool's ``map``
    to use several cores. Defaults to running them one after another. ``evaluate`` runs
    one ``(ratio, seed)`` (default: ``params`` with a ``RatioPacer``); a floor of several
    campaigns passes its own, returning one result that sums them.
    """
    if not seeds:
        raise ValueError("best_ratio needs at least one seed")
    run_batch = mapper or _serial_map
    evaluate = evaluate or _Evaluator(params)
    seen: dict[int, RatioPoint] = {}

    def points(ticks: Iterable[int]) -> list[RatioPoint]:
        todo = sorted({t for t in ticks if t not in seen and 20 <= t <= max_ratio / GRID})
        if todo:
            items = [(t * GRID, s) for t in todo for s in seeds]
            results = run_batch(evaluate, items)
            for i, t in enumerate(todo):
                batch = tuple(results[i * len(seeds) : (i + 1) * len(seeds)])
                seen[t] = RatioPoint(
                    ratio=round(t * GRID, 2),
                    occupancy=sum(r.occupancy for r in batch) / len(batch),
                    abandon_rate=sum(r.abandon_rate for r in batch) / len(batch),
                    results=batch,
                )
        return [seen[t] for t in ticks if t in seen]

    def ok(t: int) -> bool:
        return seen[t].abandon_rate <= max_abandon_rate

    # unit steps (20 grid ticks) up from 1.0, two at a time to keep a pool busy
    lo, hi, top = 20, None, round(max_ratio / GRID)
    while hi is None and lo < top:
        nxt = [t for t in (lo + 20, lo + 40) if t <= top]
        points(nxt)
        for t in nxt:
            if ok(t):
                lo = t
            else:
                hi = t
                break
        if not nxt:
            break
    points([20])
    if hi is not None:
        while hi - lo > 1:
            mid = (lo + hi) // 2
            points([mid])
            if ok(mid):
                lo = mid
            else:
                hi = mid
        points(range(lo - 5, lo + 6))
    feasible = [p for t, p in seen.items() if ok(t)]
    best = max(feasible, key=lambda p: (p.occupancy, -p.ratio)) if feasible else None
    return RatioSearch(best=best, points=tuple(seen[t] for t in sorted(seen)))
