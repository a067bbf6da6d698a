"""The outlook's horizons as the deciding maths sees them: for each answer-time horizon
``τ_k``, the humans beyond free agents and agents due (the *deficit*) with its variance.

Two questions are asked of them, both in a normal approximation that adds the
uncertainty of P(human) itself (``rel2``, which moves every call's chance together):

* ``marginal_risk``: the chance that one more call, if a human, adds an abandon (the price
  the threshold ``θ`` is compared with);
* ``deficit_tail``: the chance that a batch makes a burst of humans the window cannot
  absorb (the burst cap).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from dialer.pacing.budget import largest_below


class Horizon(NamedTuple):
    """One horizon ``τ``: ``p_new`` the chance a call dialled now is a human answering by
    ``τ``; ``humans`` those expected by ``τ`` from calls in flight; ``deficit`` the humans
    beyond the free agents and the agents free by ``τ`` (plus the wait); ``var`` its
    variance."""

    p_new: float
    humans: float
    deficit: float
    var: float


class BurstSettings(NamedTuple):
    """The burst cap's settings (defaults: ``PredictivePacer``): the chance allowed
    (``eps``, 0 = off), the factor on the normal variance for the skew of small counts,
    and the floor size it applies from."""

    eps: float
    spread: float
    min_agents: int


def _over(row: Horizon, new: float, limit: float, rel2: float, spread: float = 1.0) -> float:
    """P(deficit > ``limit``) at one horizon once ``new`` more calls are dialled
    (``spread`` widens the variance)."""
    pg, hk, mu0, v0 = row
    extra = new * pg
    humans = hk + extra
    var = v0 + extra * (1.0 - pg) + rel2 * humans * humans
    return 0.5 * math.erfc((limit - mu0 - extra) / math.sqrt(2.0 * spread * var))


def marginal_risk(rows: Sequence[Horizon], others: float, rel2: float = 0.0) -> float:
    """P(a new call, if a human, adds an abandon) with ``others`` calls dialled with it.

    ``rows`` run from the last horizon ("every call answered") back to the first. A call
    answering at ``τ_k`` adds an abandon when humans catch up with agents at any horizon
    from ``τ_k`` on (a running maximum); averaged over the answer-time horizons (all but
    the last row).
    """
    total = worst = 0.0
    for i, row in enumerate(rows):
        worst = max(worst, _over(row, others, -0.5, rel2))
        if i:
            total += worst
    return total / max(1, len(rows) - 1)


def expected_overflow(mu: float, var: float) -> float:
    """``E[X+]`` for a normal ``X`` (mean ``mu``, variance ``var``): the abandons expected
    from a deficit (0 when far more agents are due than humans)."""
    if mu < -6.0:
        return 0.0
    sd = math.sqrt(var)
    z = mu / sd
    return sd * math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi) + mu * 0.5 * math.erfc(
        -z / math.sqrt(2.0)
    )


def deficit_tail(
    rows: Sequence[Horizon], new: float, limit: float, rel2: float = 0.0, spread: float = 1.0
) -> float:
    """The largest, over the horizons, chance that the deficit passes ``limit`` (a count
    plus 0.5) once ``new`` more calls are dialled: a burst the window cannot absorb.
    Monotone in ``new`` while below 1/2 (where the search looks)."""
    return max((_over(row, new, limit, rel2, spread) for row in rows), default=0.0)


def burst_cap(
    rows: Sequence[Horizon],
    shared: float,
    absorbable: float,
    n_prog: int,
    n: int,
    eps: float,
    rel2: float = 0.0,
    spread: float = 1.0,
) -> int:
    """The most new calls, from ``n_prog`` (always allowed) up to ``n``, that keep the
    chance of more abandons than the window ``absorbable`` within ``eps`` at every horizon
    (``shared``: another campaign's calls, counted as new ones)."""
    limit = math.floor(absorbable + 1e-9) + 0.5

    def burst(k: int) -> float:
        return deficit_tail(rows, k + shared, limit, rel2, spread)

    if burst(n) <= eps:
        return n
    if burst(n_prog) > eps:
        return n_prog
    return largest_below(burst, eps, n_prog, n)
