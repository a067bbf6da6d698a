"""Which pacer a campaign dials with, and the legal fallback to progressive.

The pacers themselves live in ``dialer.pacing`` (pure). This module picks one per dial
mode (``progressive``, ``power`` = fixed lines per free agent, ``predictive``), feeds it
every event, and applies the rules the law imposes on top of any pacer: while the
campaign's abandon rate is at its limit, nothing dials ahead of free agents; and a call
ahead of free agents is placed only while the binding legal window can absorb one more
abandon (``guard_launch``; the predictive pacer applies that guard itself, with its own
estimate of the abandons already on their way).

Agents may work several campaigns (``agent_campaigns``); each campaign's runner then sees
the same free agents. ``shared_calls`` counts the other campaigns' calls that may take
them (``PacingState.shared_calls_in_flight``), so two pacers do not both dial for one agent.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from dialer.agents.states import LOGGED_IN
from dialer.campaigns.timetable import seconds_left
from dialer.engine.inbound import held_agents
from dialer.engine.model import CampaignConfig
from dialer.pacing import guard_launch, make_pacer
from dialer.pacing.base import Pacer, PacingEvent, PacingState
from dialer.pacing.fixed import ProgressivePacer

if TYPE_CHECKING:
    from dialer.engine.runner import CampaignRunner

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


def shared_calls(mine: Set[int], others: Iterable[tuple[Set[int], int]]) -> int:
    """Calls of other campaigns that compete for this campaign's agents.

    ``mine``: the agent ids this campaign's pacer counts; ``others``: for every other
    campaign, its agent ids and its calls in flight plus humans waiting for an agent.
    A campaign counts only if it shares at least one agent with this one.
    """
    return sum(calls for agents, calls in others if calls > 0 and not mine.isdisjoint(agents))


def pacing_state(runner: CampaignRunner) -> PacingState:
    """What a runner shows its pacer now (counts from its agent view, calls and budget)."""
    t = runner.timer.now()
    view, flow = runner.view, runner.flow
    counts = view.counts()
    held = held_agents(runner)
    holding, pausing = view.pausing()
    humans, abandoned = runner.budget.window_counts()
    peers = ((p.view.agents.keys(), p.busy()) for p in runner.peers.values() if p is not runner)
    return PacingState(
        t=t,
        agents_logged_in=sum(counts[s] for s in LOGGED_IN),
        agents_available=counts["available"] - held - holding,
        agents_on_call=counts["on_call"],
        agents_wrap_up=counts["wrap_up"],
        calls_in_flight=flow.in_flight() + runner.launcher.pending + runner.inherited,
        calls_waiting=flow.humans_waiting(),
        max_lines=runner.config.lines,
        window_human_answers=humans,
        window_abandoned=abandoned,
        busy_agent_elapsed_s=view.elapsed("on_call", t),
        wrap_agent_elapsed_s=view.elapsed("wrap_up", t),
        shared_calls_in_flight=shared_calls(view.agents.keys(), peers) + runner.shared_elsewhere,
        agents_held_inbound=held,
        agents_pausing=pausing,
        shift_left_s=shift_left(runner.config, runner.clock.now()),
    )


def shift_left(campaign: CampaignConfig, now: datetime) -> float | None:
    """Seconds until this campaign stops dialling (its ``ends_at`` or its shift's close,
    whichever is nearer); ``None`` when unknown. A shift that cannot be read counts as
    unknown: the pacer then keeps its whole-day cushion. The shift is read once, when the
    campaign's settings are loaded (``CampaignConfig.shift_hours``)."""
    return seconds_left(campaign.ends_at, campaign.shift_hours, now)
