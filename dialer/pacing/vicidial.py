"""A model of VICIdial's adaptive predictive dialing (``ADAPT_*`` dial methods).

Reproduces ``bin/AST_VDadapt.pl`` (dial-level adjustment) and the goal-calls rule of
``bin/AST_VDauto_dial.pl`` (VICIdial 2.4, AGPLv2; read, not copied), so our predictive
pacer is compared with what many call centres run today:

* once a second, sample ready agents, live (waiting) calls and logged-in agents, and
  keep the last 15 samples;
* every 60 s, recount drops: last minute (drops / dials) and today (drops / human answers);
* every 15 s: ``level *= 1 + change`` where ``change`` is
  ``(avg ready - avg waiting + dl_diff_target) / avg agents``, scaled by the intensity
  setting (``x (1 + i)`` when rising, ``x |i - 1|`` when falling, ``i = intensity/100``);
  capped at ``max_level`` (3.0) and floored at 1.0. Then the drop rules: more than 20
  dials in the last minute with over 50 % dropped halves the level; more than 50 dials
  today with drops above ``dropped_percentage`` of human answers sets the level to 1.0
  (``hard_limit``), halves it (``average``) or tapers it towards the end of the shift
  (``tapered``); the level is floored at 1.0 again;
* the dialler keeps ``round(level x (ready + in-call agents))`` calls alive, counting
  ringing, waiting and connected calls, so at level 1 it is progressive and above 1 it
  dials ahead of agents who are still talking.

``tapered`` uses VICIdial's ``(latest time - now) / 1000`` on HHMM clock values; we map it
to ``(taper_end_s - t) / 36000`` on elapsed seconds (1000 HHMM units ≈ 10 hours).
"""

from __future__ import annotations

from collections import deque
from typing import Literal

from dialer.pacing.base import Dialed, PacingEvent, PacingState, clamp_launch

AdaptMethod = Literal["hard_limit", "average", "tapered"]
_SAMPLES = 15
_LEVEL_EVERY_S = 15.0
_DROPS_EVERY_S = 60.0


class VicidialPacer:
    """VICIdial's ADAPT_* dial level driving its goal-calls rule."""

    def __init__(
        self,
        *,
        method: AdaptMethod = "hard_limit",
        dropped_percentage: float = 3.0,
        max_level: float = 3.0,
        initial_level: float = 1.0,
        intensity: float = 0.0,
        dl_diff_target: float = 0.0,
        available_only: bool = False,
        taper_end_s: float | None = None,
        max_lines: int | None = None,
    ) -> None:
        if method not in ("hard_limit", "average", "tapered"):
            raise ValueError(f"unknown VICIdial adapt method {method!r}")
        if max_level < 1.0 or initial_level < 1.0:
            raise ValueError("VICIdial dial levels are at least 1.0")
        self.method: AdaptMethod = method
        self.dropped_percentage = dropped_percentage
        self.max_level = max_level
        self.level = min(initial_level, max_level)
        self.intensity = intensity
        self.dl_diff_target = dl_diff_target
        self.available_only = available_only
        self.taper_end_s = taper_end_s
        self.max_lines = max_lines
        self._samples: deque[tuple[int, int, int]] = deque(maxlen=_SAMPLES)
        self._last_sample_s: int | None = None
        self._start_t: float | None = None
        self._next_level_t: float | None = None
        self._next_drops_t: float | None = None
        self._dials_minute: deque[float] = deque()
        self._drops_minute: deque[float] = deque()
        self._dials_today = 0
        self._drop_stats = (0, 0.0, 0, 0.0)  # calls_one, drop_one_pct, calls_today, pct_today

    def observe(self, event: PacingEvent) -> None:
        """Count dials and drops for the drop-rate rules."""
        if isinstance(event, Dialed):
            self._dials_today += 1
            self._dials_minute.append(event.t)
        elif event.kind == "abandoned":
            self._drops_minute.append(event.t)

    def calls_to_launch(self, state: PacingState) -> int:
        """Run the adapt timers due by ``state.t``, then apply the goal-calls rule."""
        self._tick(state)
        counted = state.agents_available
        if not self.available_only:
            counted += state.agents_on_call
        goal = round(self.level * counted)
        existing = state.calls_in_flight + state.calls_waiting
        if not self.available_only:
            existing += state.agents_on_call
        return clamp_launch(goal - existing, state, self.max_lines)

    def diagnostics(self) -> dict[str, float]:
        """Numbers worth exporting as metrics."""
        return {"dial_level": self.level}

    def _tick(self, state: PacingState) -> None:
        t = state.t
        if self._start_t is None:
            self._start_t = t
            self._next_level_t = t + _LEVEL_EVERY_S
            self._next_drops_t = t  # VICIdial pulls a baseline drop count at start
        second = int(t)
        if second != self._last_sample_s:
            self._last_sample_s = second
            self._samples.append(
                (state.agents_available, state.calls_waiting, state.agents_logged_in)
            )
        assert self._next_drops_t is not None and self._next_level_t is not None
        if t >= self._next_drops_t:
            self._next_drops_t = t + _DROPS_EVERY_S
            self._count_drops(state)
        if t >= self._next_level_t:
            self._next_level_t = t + _LEVEL_EVERY_S
            self._adapt(t)

    def _count_drops(self, state: PacingState) -> None:
        horizon = state.t - 60.0
        for log in (self._dials_minute, self._drops_minute):
            while log and log[0] <= horizon:
                log.popleft()
        calls_one = len(self._dials_minute)
        drop_one_pct = 100.0 * len(self._drops_minute) / calls_one if calls_one else 0.0
        answers = max(1, state.window_human_answers)
        pct_today = 100.0 * state.window_abandoned / answers if state.window_abandoned else 0.0
        self._drop_stats = (calls_one, drop_one_pct, self._dials_today, pct_today)

    def _adapt(self, t: float) -> None:
        n = len(self._samples)
        if n == 0:
            return
        avg_ready = sum(s[0] for s in self._samples) / n
        avg_waiting = sum(s[1] for s in self._samples) / n
        avg_agents = sum(s[2] for s in self._samples) / n
        if avg_agents <= 0:
            return  # VICIdial only adjusts campaigns with agents
        target = avg_ready - avg_waiting + self.dl_diff_target
        mul = target / avg_agents if target != 0 else 0.0
        i = self.intensity / 100.0
        change = mul * abs(i - 1.0) if mul < 0 else mul * (i + 1.0)
        level = min(self.level * (1.0 + change), self.max_level)
        level = max(level, 1.0)
        calls_one, drop_one_pct, calls_today, pct_today = self._drop_stats
        if calls_one > 20 and drop_one_pct > 50.0:
            level /= 2.0
        if calls_today > 50 and pct_today > self.dropped_percentage:
            level = self._over_limit(level, t)
        self.level = round(max(level, 1.0), 3)

    def _over_limit(self, level: float, t: float) -> float:
        if self.method == "hard_limit":
            return 1.0
        if self.method == "average":
            return level / 2.0
        if self.taper_end_s is None or self._start_t is None:
            return 1.0
        left = self.taper_end_s - (t - self._start_t)
        if left < 0:
            return 1.0
        return level * min(1.0, left / 36000.0)
