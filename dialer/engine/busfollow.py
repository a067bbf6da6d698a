"""What a runner does with the agent bus's messages: a preview agent's dial or skip, a
manual dial of its campaign, an assignment change, an agent's new state; and after the bus
was deaf, a fresh read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dialer.engine import manual, transferask, upkeep
from dialer.engine.dialing import Trigger

if TYPE_CHECKING:
    from dialer.engine.runner import CampaignRunner


def on_bus(runner: CampaignRunner, message: dict[str, Any]) -> None:
    if runner.stopping:
        return
    agent_id = message.get("agent")
    event = message.get("event")
    offers = runner.dialing.offers
    if event == "dial" and agent_id in offers:
        lead = offers.pop(agent_id)
        started = Trigger(runner.clock.monotonic())
        runner.spawn(runner.dialing.dial_reserved(agent_id, lead, started))
        return
    if event == "skip" and agent_id in offers:
        runner.spawn(runner.dialing.skip(agent_id))
        return
    if event == manual.EVENT and message.get("campaign") == runner.campaign_id:
        runner.spawn(manual.place(runner, message.get("attempt")))  # its campaign's runner
        return
    if event == transferask.EVENT and message.get("campaign") == runner.campaign_id:
        runner.transfers.on_bus(message)  # the runner holding the call
        return
    if event == "assignment":
        runner.spawn(upkeep.reload_agents(runner))
        return
    change = runner.view.apply(message, runner.timer.now())
    if change is not None:
        runner.agent_changed(change)


def resync(runner: CampaignRunner) -> None:
    """The bus may have missed messages: re-read the agents and unplaced manual dials."""
    runner.spawn(upkeep.reload_agents(runner))
    runner.spawn(manual.place_pending(runner))
    runner.spawn(runner.transfers.start_pending())
