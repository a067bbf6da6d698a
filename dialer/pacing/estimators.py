"""Online estimators used by the predictive pacer: a drifting proportion and histograms.

Both forget: the proportion with a time half-life (answer rates drift during the day),
the histograms by halving their counts once they hold enough samples (durations drift
slowly). Pure arithmetic, O(1) per sample; histogram queries are O(1) after a lazy
O(bins) rebuild that happens at most once per batch of new samples.
"""

from __future__ import annotations

import math


class DecayingProportion:
    """A success probability with exponential forgetting and a weak Beta prior.

    ``mean`` is ``(hits + prior_mean·prior_weight) / (trials + prior_weight)`` where hits and
    trials decay by half every ``half_life_s`` seconds of event time.
    """

    def __init__(self, half_life_s: float, prior_mean: float, prior_weight: float) -> None:
        self.half_life_s = half_life_s
        self.prior_mean = prior_mean
        self.prior_weight = prior_weight
        self.hits = 0.0
        self.trials = 0.0
        self.count = 0
        self._t: float | None = None

    def add(self, t: float, hit: bool) -> None:
        """Record one trial at time ``t``."""
        if self._t is not None and t > self._t:
            decay = 0.5 ** ((t - self._t) / self.half_life_s)
            self.hits *= decay
            self.trials *= decay
        if self._t is None or t > self._t:
            self._t = t
        self.trials += 1.0
        self.count += 1
        if hit:
            self.hits += 1.0

    @property
    def n_eff(self) -> float:
        """Effective number of trials behind the estimate (prior included)."""
        return self.trials + self.prior_weight

    @property
    def mean(self) -> float:
        """Current estimate of the probability."""
        return (self.hits + self.prior_mean * self.prior_weight) / self.n_eff

    @property
    def stderr(self) -> float:
        """Standard error of ``mean`` (binomial, on the effective sample size)."""
        p = self.mean
        return math.sqrt(max(p * (1.0 - p), 1e-6) / self.n_eff)


class DecayingRate:
    """Events per second over an exponentially fading window (half-life ``half_life_s``).

    Early readings are corrected for the window not being full yet (as Adam corrects its
    moment estimates), so the rate is unbiased from the first minutes.
    """

    def __init__(self, half_life_s: float) -> None:
        self.half_life_s = half_life_s
        self.weight = 0.0
        self._t: float | None = None
        self._start: float | None = None

    def _decay_to(self, t: float) -> None:
        if self._t is not None and t > self._t:
            self.weight *= 0.5 ** ((t - self._t) / self.half_life_s)
        if self._t is None or t > self._t:
            self._t = t

    def start(self, t: float) -> None:
        """Begin counting at ``t`` (the first ``add`` does it otherwise)."""
        if self._start is None:
            self._start = t
            self._t = t

    def add(self, t: float, n: float = 1.0) -> None:
        """Record ``n`` events at time ``t``."""
        self.start(t)
        self._decay_to(t)
        self.weight += n

    def rate(self, t: float) -> float:
        """Events per second as of ``t``."""
        if self._start is None:
            return 0.0
        self._decay_to(t)
        filled = 1.0 - 0.5 ** ((t - self._start) / self.half_life_s)
        if filled <= 0.0:
            return 0.0
        return self.weight * math.log(2.0) / self.half_life_s / max(filled, 0.05)


class Histogram:
    """Durations in fixed-width bins: CDF, quantiles and means, with forgetting.

    Values beyond the last bin are clamped into it (their exact sum is kept, so the mean
    stays right). When the total weight exceeds ``max_weight`` all counts are halved.
    """

    def __init__(self, bin_s: float, max_s: float, max_weight: float = 4000.0) -> None:
        self.bin_s = bin_s
        self.n_bins = max(1, math.ceil(max_s / bin_s))
        self.max_weight = max_weight
        self.counts = [0.0] * self.n_bins
        self.sums = [0.0] * self.n_bins
        self.total = 0.0
        self.samples = 0
        self.top = 0  # highest bin ever used: queries above it need no scanning
        self._cum: list[float] | None = None  # _cum[i] = weight in bins < i
        self._cum_sum: list[float] | None = None

    def add(self, x: float) -> None:
        """Record one duration."""
        x = max(0.0, x)
        i = min(int(x / self.bin_s), self.n_bins - 1)
        self.top = max(self.top, i)
        self.counts[i] += 1.0
        self.sums[i] += x
        self.total += 1.0
        self.samples += 1
        self._cum = None
        if self.total > self.max_weight:
            self.counts = [c * 0.5 for c in self.counts]
            self.sums = [s * 0.5 for s in self.sums]
            self.total *= 0.5

    def _build(self) -> tuple[list[float], list[float]]:
        # cumulative arrays only up to the highest bin in use; above it nothing changes
        if self._cum is None or self._cum_sum is None:
            n = self.top + 1
            cum = [0.0] * (n + 1)
            cum_sum = [0.0] * (n + 1)
            acc = acc_sum = 0.0
            for i in range(n):
                acc += self.counts[i]
                acc_sum += self.sums[i]
                cum[i + 1] = acc
                cum_sum[i + 1] = acc_sum
            self._cum, self._cum_sum = cum, cum_sum
        return self._cum, self._cum_sum

    def weight_below(self, x: float) -> float:
        """Weight of samples ``<= x``, interpolating linearly inside a bin."""
        if x <= 0.0:
            return 0.0
        cum = self._cum if self._cum is not None else self._build()[0]
        pos = x / self.bin_s
        i = int(pos)
        if i + 1 >= len(cum):
            return cum[-1]
        return cum[i] + (cum[i + 1] - cum[i]) * (pos - i)

    def cdf(self, x: float) -> float:
        """Fraction of samples ``<= x`` (0 with no samples)."""
        return self.weight_below(x) / self.total if self.total > 0 else 0.0

    def quantile(self, q: float) -> float:
        """Smallest ``x`` with ``cdf(x) >= q`` (interpolated)."""
        cum, _ = self._build()
        target = q * self.total
        n = len(cum) - 1
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) // 2
            if cum[mid + 1] < target:
                lo = mid + 1
            else:
                hi = mid
        i = min(lo, n - 1)
        width = cum[i + 1] - cum[i]
        frac = (target - cum[i]) / width if width > 0 else 0.0
        return (i + min(max(frac, 0.0), 1.0)) * self.bin_s

    def mean(self) -> float:
        """Mean of the samples (0 with none)."""
        _, cum_sum = self._build()
        return cum_sum[-1] / self.total if self.total > 0 else 0.0
