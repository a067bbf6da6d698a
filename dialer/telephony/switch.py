"""What the adapters of real switches (Asterisk ARI, FreeSWITCH ESL) share: the call book,
the agent legs, background tasks, connecting, the clean-up of a failed agent leg, and a
graceful ``close`` that hangs up every call still up."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from dialer.gateway import AgentLeg, CallGone, GatewayError, GatewayUnavailable
from dialer.telephony.callbook import CallBook, SwitchCall
from dialer.telephony.tasks import Spawner
from dialer.timer import Timer


class SwitchGateway:
    """Base of the real-switch adapters; a subclass sets ``link`` and ``kill_channel``."""

    name = "switch"
    link: Any  # AriLink or EslLink: start(), ready, started, close()

    def __init__(self, timer: Timer, log: logging.Logger) -> None:
        self.timer = timer
        self.book = CallBook(timer)
        self.legs: dict[str, SwitchCall] = {}  # agent channel id → its call
        self.tasks = Spawner(log)

    @property
    def calls_up(self) -> int:
        return len(self.book)

    async def kill_channel(self, channel_id: str) -> None:
        """Hang up one channel on the switch (a callee's or an agent's leg)."""
        raise NotImplementedError

    async def connect(self, timeout_s: float, where: str) -> None:
        """Start the link and wait until it is ready (connected and reconciled)."""
        self.link.start()
        try:
            await asyncio.wait_for(self.link.ready.wait(), timeout_s)
        except TimeoutError:
            raise GatewayUnavailable(f"{where} is not reachable") from None

    def bridge_failed(
        self, call: SwitchCall, leg: str, agent: AgentLeg, exc: BaseException
    ) -> BaseException:
        """Undo a failed agent leg (its wait, its entry, the channel); the error to raise."""
        if call.agent_wait is not None and not call.agent_wait.done():
            call.agent_wait.cancel()
        call.agent_wait = None
        self.legs.pop(leg, None)
        self.tasks.spawn(self.kill_channel(leg))
        if call.ended:
            return CallGone(f"call {call.call_id} has ended")
        if isinstance(exc, TimeoutError):
            return GatewayError(f"agent {agent.agent_id} did not answer")
        return exc

    async def close(self) -> None:
        """Hang up every call still up (and its agent leg), then stop tasks and the link."""
        calls = list(self.book.calls.values())
        if self.link.ready.is_set() and calls:
            ids = [c.call_id for c in calls] + [c.agent_leg for c in calls if c.agent_leg]
            await asyncio.gather(*(self.kill_channel(i) for i in ids), return_exceptions=True)
        for call in calls:
            call.hangup_requested = True
            self.book.shut(call)
        await self.tasks.close()
        await self.link.close()
