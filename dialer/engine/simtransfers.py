"""Simulated agents hand some calls on (``dialer demo``'s fronters to its closers): a share
``transfer_p`` of their connected calls is transferred, warm or blind, to the campaign
``transfer_to`` through the same ``engine.transferask`` the desk and the API use; a warm one
is completed once the closer is on the line (or cancelled if none comes in time)."""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING, Any

from dialer.auth.roles import Principal
from dialer.engine import transferask
from dialer.errors import Conflict, DialerError

if TYPE_CHECKING:
    from dialer.engine.simagents import SimulatedAgents

log = logging.getLogger(__name__)
TALK_FIRST_S = 4.0  # call-world seconds the agent talks before handing on
COMPLETE_TRIES = 8
RETRY_S = 3.0


class SimTransfers:
    def __init__(self, agents: SimulatedAgents) -> None:
        self.agents = agents
        seed = agents.rng.random()
        self.rng = random.Random(seed)
        self.asked = 0  # transfers the agents asked for (accepted)

    def on_call(self, agent_id: int, attempt_id: int) -> None:
        params = self.agents.params
        target = params.transfer_to
        if target is None or target == self.agents.campaign_id:
            return
        if self.rng.random() >= params.transfer_p:
            return
        self.agents._later(agent_id, TALK_FIRST_S, self._transfer, attempt_id)

    def _who(self, agent_id: int) -> Principal:
        a = self.agents
        return Principal(None, f"sim-agent:{agent_id}", "agent", a.client_id, agent_id)

    async def _transfer(self, agent_id: int, attempt_id: int) -> None:
        a = self.agents
        mode = "warm" if self.rng.random() < 0.5 else "blind"
        body: dict[str, Any] = {
            "to": {"campaign_id": a.params.transfer_to},
            "mode": mode,
            "notes": "qualified: wants to hear the offer",
        }
        try:
            async with a.pool.acquire() as conn:
                await transferask.request(
                    conn, attempt_id, body, who=self._who(agent_id), now=a.clock.now()
                )
        except DialerError as exc:  # the call ended first, or is not connected yet
            log.debug("simulated transfer not asked: %s", exc)
            return
        self.asked += 1
        if mode == "warm":
            a._later(agent_id, RETRY_S, self._complete, attempt_id, 1)

    async def _complete(self, agent_id: int, attempt_id: int, tries: int) -> None:
        a = self.agents
        op = "complete" if tries < COMPLETE_TRIES else "cancel"
        try:
            async with a.pool.acquire() as conn:
                await transferask.control(
                    conn, attempt_id, op, who=self._who(agent_id), now=a.clock.now()
                )
        except Conflict as exc:  # the closer is not on the line yet (or the leg ended)
            if "is not live" in str(exc) or (
                "no warm transfer" in str(exc) and "(" not in str(exc)
            ):
                return
            a._later(agent_id, RETRY_S, self._complete, attempt_id, tries + 1)
        except DialerError as exc:
            log.debug("simulated transfer %s skipped: %s", op, exc)
