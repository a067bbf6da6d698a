"""The abandon budget: abandoned calls over live answers, per campaign, over legal windows.

The US (FCC) measures a campaign's abandon rate over 30 days, the UK (Ofcom) over 24
hours; a campaign is held to both. Counts come from the database (so the budget survives
restarts and takeovers), plus this runner's calls that happened but are not written yet
(*live*), so the budget never lags behind the calls.

``max_rate * live answers - abandoned`` is what a window may still abandon. When a window
is at its limit (``abandoned >= max_rate * answers``, with at least one abandon), the
runner stops dialing ahead of its agents (predictive, power) and dials progressively until
the window is back under. The pacer also receives the binding window's counts, so it
spends the budget carefully before that point.

A reload from the database races with calls being written; those committed while the
reload ran are added back on top, so a race can only over-count abandons (the safe side).
"""

from __future__ import annotations

from dataclasses import dataclass, field

WINDOWS: dict[str, float] = {"24h": 24 * 3600.0, "30d": 30 * 24 * 3600.0}


@dataclass(slots=True)
class WindowCount:
    humans: int = 0
    abandoned: int = 0


@dataclass
class AbandonTally:
    """Committed counts per window, plus live (not yet written) answers and abandons."""

    max_rate: float
    committed: dict[str, WindowCount] = field(
        default_factory=lambda: {w: WindowCount() for w in WINDOWS}
    )
    live_humans: int = 0
    live_abandoned: int = 0
    _during_reload: WindowCount | None = None

    # -- calls ------------------------------------------------------------------------
    def human_answered(self) -> None:
        self.live_humans += 1

    def abandoned(self) -> None:
        self.live_abandoned += 1

    def written(self, *, human: bool, abandoned: bool) -> None:
        """A call's record committed: move it from live to committed."""
        if not human:
            return
        self.live_humans = max(0, self.live_humans - 1)
        if abandoned:
            self.live_abandoned = max(0, self.live_abandoned - 1)
        for count in self.committed.values():
            count.humans += 1
            count.abandoned += abandoned
        if self._during_reload is not None:
            self._during_reload.humans += 1
            self._during_reload.abandoned += abandoned

    # -- reloads ------------------------------------------------------------------------
    def begin_reload(self) -> None:
        self._during_reload = WindowCount()

    def finish_reload(self, counts: dict[str, tuple[int, int]]) -> None:
        """Replace committed counts with ``{window: (humans, abandoned)}`` from the DB."""
        extra = self._during_reload or WindowCount()
        self._during_reload = None
        for window in WINDOWS:
            humans, abandoned = counts.get(window, (0, 0))
            self.committed[window] = WindowCount(humans + extra.humans, abandoned + extra.abandoned)

    # -- reading ------------------------------------------------------------------------
    def counts(self, window: str) -> tuple[int, int]:
        """(live answers, abandoned) in ``window``, live calls included."""
        c = self.committed[window]
        return c.humans + self.live_humans, c.abandoned + self.live_abandoned

    def rate(self, window: str) -> float:
        humans, abandoned = self.counts(window)
        return abandoned / humans if humans else 0.0

    def left(self, window: str) -> float:
        """Abandons still allowed in ``window`` (negative when over the limit)."""
        humans, abandoned = self.counts(window)
        return self.max_rate * humans - abandoned

    def binding_window(self) -> str:
        """The window with the least budget left."""
        return min(WINDOWS, key=self.left)

    def at_limit(self) -> bool:
        """True while some window's abandon rate is at or over the limit."""
        for window in WINDOWS:
            humans, abandoned = self.counts(window)
            if abandoned > 0 and abandoned >= self.max_rate * humans:
                return True
        return False

    def window_counts(self) -> tuple[int, int]:
        """(answers, abandoned) of the binding window, for the pacer."""
        return self.counts(self.binding_window())
