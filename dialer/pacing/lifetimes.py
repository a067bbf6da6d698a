"""Remaining-time estimates for talk and wrap-up, honest about calls still running.

Early in a shift the only talk times seen are the short ones; a histogram of finished
calls alone would say "talks last 20 s" and the pacer would dial for agents who are
nowhere near free. The Kaplan-Meier estimator (Kaplan & Meier, 1958) fixes this by
counting calls still running as *censored* observations: they were at risk of ending at
every age they have lived through. Beyond the ages with enough calls at risk, the tail is
exponential with the maximum-likelihood hazard ``deaths / exposure`` of that tail.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from dialer.pacing.estimators import Histogram


class KaplanMeier:
    """Survival curve from finished durations (a ``Histogram``) and running ones."""

    def __init__(
        self, finished: Histogram, running_ages: Iterable[float], min_at_risk: float = 20.0
    ) -> None:
        self.bin_s = bin_s = finished.bin_s
        self.min_at_risk = min_at_risk
        ages = [min(max(a, 0.0), (finished.n_bins - 1) * bin_s) for a in running_ages]
        # only the bins in use: everything above them is empty
        top = max([finished.top, *(int(a / bin_s) for a in ages)])
        n = min(top + 2, finished.n_bins)
        censored = [0.0] * n
        censored_sum = [0.0] * n
        for age in ages:
            i = min(int(age / bin_s), n - 1)
            censored[i] += 1.0
            censored_sum[i] += age
        deaths = finished.counts
        # suffix sums from the top bin down: at risk, deaths, and summed durations
        self.at_risk = [0.0] * (n + 1)
        self.tail_deaths = [0.0] * (n + 1)
        self.tail_sum = [0.0] * (n + 1)
        for i in range(n - 1, -1, -1):
            self.at_risk[i] = self.at_risk[i + 1] + deaths[i] + censored[i]
            self.tail_deaths[i] = self.tail_deaths[i + 1] + deaths[i]
            self.tail_sum[i] = self.tail_sum[i + 1] + finished.sums[i] + censored_sum[i]
        # S at bin edges; censored calls leave after the deaths of their bin
        self.surv = [1.0] * (n + 1)
        s = 1.0
        for i in range(n):
            if self.at_risk[i] > 0:
                s *= 1.0 - deaths[i] / self.at_risk[i]
            self.surv[i + 1] = s
        total_deaths = self.tail_deaths[0]
        self._mean_hazard = total_deaths / self.tail_sum[0] if self.tail_sum[0] > 0 else 0.0
        self.n = n

    def _s(self, x: float) -> float:
        pos = x / self.bin_s
        i = int(pos)
        if i >= self.n:
            return self.surv[-1]
        return self.surv[i] + (self.surv[i + 1] - self.surv[i]) * (pos - i)

    def p_end_within(self, age: float, x: float) -> float:
        """P(duration <= age + x | duration > age)."""
        if x <= 0.0:
            return 0.0
        i = min(max(int(age / self.bin_s), 0), self.n - 1)
        s_age = self._s(age)
        if self.at_risk[i] >= self.min_at_risk and s_age > 1e-9:
            return max(0.0, min(1.0, 1.0 - self._s(age + x) / s_age))
        # exponential tail: hazard = deaths / time at risk beyond this age
        d = self.tail_deaths[i]
        exposure = self.tail_sum[i] - age * self.at_risk[i]
        hazard = d / exposure if d >= 3.0 and exposure > 0 else self._mean_hazard
        return 1.0 - math.exp(-hazard * x)
