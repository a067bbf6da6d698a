"""Which pacer a campaign dials with, and the legal fallback to progressive.

The pacers themselves live in ``dialer.pacing`` (pure). This module picks one per dial
mode (``progressive``, ``power`` = fixed lines per free agent, ``predictive``), feeds it
every event, and applies the rules the law imposes on top of any pacer: while the
campaign's abandon rate is at its limit, nothing dials ahead of free agents; and a call
ahead of free agents is placed only while the binding legal window can absorb one more
abandon (``guard_launch``; the predictive pacer applies that guard itself, with its own
estimate of the abandons already on their way).
"""

from __future__ import annotations

from dataclasses import dataclass

from dialer.engine.model import CampaignConfig
from dialer.pacing import guard_launch, make_pacer
from dialer.pacing.base import Pacer, PacingEvent, PacingState
from dialer.pacing.fixed import ProgressivePacer

PACED_MODES = ("progressive", "power", "predictive")
AHEAD_MODES = frozenset({"power", "predictive"})  # modes that dial ahead of free agents


def build_pacer(campaign: CampaignConfig) -> Pacer:
    """The pacer for a paced dial mode (``ValueError`` for preview and agentless)."""
    mode, lines = campaign.dial_mode, campaign.max_lines
    if mode == "progressive":
        return make_pacer("progressive", max_lines=lines)
    if mode == "power":
        return make_pacer("power", ratio=campaign.dial_level, max_lines=lines)
    if mode == "predictive":
        return make_pacer(
            "predictive",
            max_abandon_rate=campaign.max_abandon_rate,
            max_lines=lines,
            max_wait_s=campaign.abandon_timeout_s,
        )
    raise ValueError(f"{mode} campaigns are not paced")


def _key(campaign: CampaignConfig) -> tuple[object, ...]:
    return (
        campaign.dial_mode,
        campaign.dial_level,
        campaign.max_lines,
        campaign.max_abandon_rate,
        campaign.abandon_timeout_s,
    )


@dataclass(frozen=True, slots=True)
class PaceDecision:
    calls: int
    mode: str  # the mode that decided (progressive during a fallback)


class PaceControl:
    """One campaign's pacer plus its progressive fallback."""

    def __init__(self, campaign: CampaignConfig) -> None:
        self._key: tuple[object, ...] = ()
        self.main: Pacer = ProgressivePacer()
        self.fallback = ProgressivePacer()
        self.update(campaign)

    def update(self, campaign: CampaignConfig) -> None:
        """Rebuild the pacers when a setting they depend on changed (keeps them otherwise,
        so a predictive pacer keeps what it learned)."""
        key = _key(campaign)
        if key == self._key:
            return
        self._key = key
        self.mode = campaign.dial_mode
        self.limit = campaign.max_abandon_rate
        paced = campaign.dial_mode in PACED_MODES
        self.main = build_pacer(campaign) if paced else ProgressivePacer()
        self.fallback = ProgressivePacer(max_lines=campaign.max_lines)

    def observe(self, event: PacingEvent) -> None:
        self.main.observe(event)

    def decide(self, state: PacingState, *, at_limit: bool) -> PaceDecision:
        """Calls to launch now, and the mode that said so."""
        if at_limit and self.mode in AHEAD_MODES:
            return PaceDecision(self.fallback.calls_to_launch(state), "progressive")
        wanted = self.main.calls_to_launch(state)
        if self.mode == "predictive":  # guards itself
            return PaceDecision(wanted, self.mode)
        calls = guard_launch(wanted, state, self.limit)
        return PaceDecision(calls, self.mode if calls == wanted else "progressive")
