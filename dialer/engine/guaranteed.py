"""Guaranteed calls: previews and callbacks owned by an agent.

These calls reserve their agent first (a compare-and-set on the agent row) and are bridged
to that agent as soon as they are answered, so they never abandon. In preview mode the
agent is shown the lead and decides (``dial``/``skip`` on the agent bus); an owned callback
is dialed at once. While the gateway is down nothing is offered, and an owned callback may
serve as the one probe call (see ``engine.health``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from dialer.engine.agentview import AgentView
from dialer.engine.callflow import CallFlow
from dialer.engine.dialing import Dialing, Trigger
from dialer.engine.health import GatewayHealth
from dialer.engine.hopper import Hopper
from dialer.engine.model import Lead
from dialer.timer import Timer


class GuaranteedCalls:
    """Reserve-then-dial for one runner."""

    def __init__(
        self,
        *,
        campaign_id: int,
        view: AgentView,
        hopper: Hopper,
        dialing: Dialing,
        flow: CallFlow,
        health: GatewayHealth,
        timer: Timer,
        spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]],
    ) -> None:
        self.campaign_id = campaign_id
        self.view, self.hopper, self.dialing, self.flow = view, hopper, dialing, flow
        self.health, self.timer, self.spawn = health, timer, spawn

    def owned_callbacks(self, started: Trigger | None) -> None:
        """Dial the due callbacks of the agents who are free now."""
        for slot in self.view.available():
            allowance = self.health.allowance()
            if allowance == 0:
                return  # the gateway is down: the callbacks wait in the hopper
            lead = self.hopper.take_owned(slot.id)
            if lead is not None:
                slot.reserving = True
                self.spawn(self._reserve_and_dial(slot.id, lead, "callback", started))

    async def offer_previews(self) -> None:
        """Show every free agent of a preview campaign a lead."""
        if self.health.allowance() == 0:
            return  # the gateway is down: show no lead an agent could not dial
        for slot in self.view.available():
            if slot.id in self.dialing.offers:
                continue
            leads = await self.hopper.take(1)
            if not leads:
                return
            slot.reserving = True
            await self._reserve_and_dial(slot.id, leads[0], "preview", None)

    async def _reserve_and_dial(
        self, agent_id: int, lead: Lead, reason: str, started: Trigger | None
    ) -> None:
        if not await self.dialing.reserve_for(agent_id, lead, reason):
            await self.flow.refresh_agent(agent_id)
            return
        self.view.mark(
            agent_id,
            "on_call",
            self.timer.now(),
            reason=reason,
            lead=lead.id,
            campaign=self.campaign_id,
        )
        if reason == "preview":
            self.dialing.offers[agent_id] = lead
        else:
            await self.dialing.dial_reserved(agent_id, lead, started)
