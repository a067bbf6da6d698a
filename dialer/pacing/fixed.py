"""Fixed-rule pacers: progressive and fixed ratio (the engine's "power" mode).

* ``progressive``: at most one call in flight per free agent. With talk times far longer
  than ring times every answered human finds the agent reserved for it, so it never
  abandons; agents wait through every ring, so occupancy is low.
* ``ratio:R``: at most ``R`` calls in flight per free agent. Needs a human to pick ``R``;
  nothing dials for agents about to free up, and a ratio that is safe at noon can break
  the abandon limit when the answer rate rises.
"""

from __future__ import annotations

import math

from dialer.pacing.base import PacingEvent, PacingState, clamp_launch


class RatioPacer:
    """Keep ``calls_in_flight <= ratio x agents_available``."""

    def __init__(self, ratio: float, *, max_lines: int | None = None) -> None:
        if not math.isfinite(ratio) or ratio < 1.0:
            raise ValueError(f"ratio must be a finite number >= 1.0, got {ratio!r}")
        self.ratio = float(ratio)
        self.max_lines = max_lines

    def observe(self, event: PacingEvent) -> None:
        """Fixed rules learn nothing."""

    def calls_to_launch(self, state: PacingState) -> int:
        """Top the in-flight count up to ``floor(ratio x free agents)``."""
        goal = math.floor(self.ratio * state.agents_available + 1e-9)
        return clamp_launch(goal - state.calls_in_flight, state, self.max_lines)

    def diagnostics(self) -> dict[str, float]:
        """Numbers worth exporting as metrics."""
        return {"dial_level": self.ratio}


class ProgressivePacer(RatioPacer):
    """One call in flight per free agent: never abandons while talk ≫ ring."""

    def __init__(self, *, max_lines: int | None = None) -> None:
        super().__init__(1.0, max_lines=max_lines)
