"""A simulated supervisor for the demo: every so often they listen to one call an agent is
on, for a while, then hang up (``dialer.engine.monitor``, as a manager on the board would).
It shows monitoring working end to end (``monitored`` in ``dialer demo --json``) and never
changes the calls it listens to."""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dialer.auth.roles import Principal
from dialer.engine.monitor import Monitors
from dialer.errors import Conflict
from dialer.gateway import Monitoring
from dialer.timer import Timer, TimerHandle

if TYPE_CHECKING:
    from dialer.engine.runner import CampaignRunner

log = logging.getLogger(__name__)
SUPERVISOR = Principal(token_id=None, name="simulated supervisor", role="manager")


@dataclass(frozen=True)
class SimSupervisorParams:
    every_s: float = 30.0  # call-world seconds between two listens (on average)
    listen_s: float = 20.0  # how long one listen lasts (unless the call ends first)
    endpoint: str = "sim/supervisor"


class SimulatedSupervisor:
    """Listens to calls of one runner (see the module docstring)."""

    def __init__(
        self, runner: CampaignRunner, timer: Timer, params: SimSupervisorParams, seed: int
    ) -> None:
        self.runner = runner
        self.timer = timer
        self.params = params
        self.rng = random.Random(seed)
        self.monitors = Monitors(
            runner.pool,
            runner.gateway,
            runner.clock,
            instance_id=runner.instance_id,
            runners={runner.campaign_id: runner},
        )
        self.listened = 0
        self._handle: TimerHandle | None = None
        self.stopped = False

    def start(self) -> None:
        self._next()

    def _next(self) -> None:
        if not self.stopped:
            delay = self.params.every_s * (0.5 + self.rng.random())
            self._handle = self.timer.call_later(delay, self._listen)

    def _listen(self) -> None:
        talking = [c for c in self.runner.flow.calls.values() if c.state == "connected"]
        if talking and not self.runner.stopping:
            self.runner.spawn(self._session(self.rng.choice(talking).attempt_id))
        self._next()

    async def _session(self, attempt_id: int) -> None:
        body = {"mode": "listen", "endpoint": self.params.endpoint}
        try:
            monitor = await self.monitors.start(attempt_id, body, who=SUPERVISOR)
        except Conflict:
            return  # the call ended meanwhile
        self.listened += 1
        await self.timer.sleep(self.params.listen_s)
        with contextlib.suppress(Conflict):  # the call (and the listen) may have ended first
            await self.monitors.stop(monitor["id"], who=SUPERVISOR)

    def stop(self) -> None:
        self.stopped = True
        if self._handle is not None:
            self._handle.cancel()


def sim_supervisor_hook(
    timer: Timer, *, params: SimSupervisorParams | None = None, seed: int = 11
) -> Callable[[CampaignRunner], Awaitable[Callable[[], Awaitable[None]]]]:
    """A runner hook: a simulated supervisor listening to the runner's calls (when its
    switch can monitor and agents take its calls)."""

    async def hook(runner: CampaignRunner) -> Callable[[], Awaitable[None]]:
        supervisor = SimulatedSupervisor(
            runner, timer, params or SimSupervisorParams(), seed + runner.campaign_id
        )
        if isinstance(runner.gateway, Monitoring) and runner.config.dial_mode != "agentless":
            supervisor.start()

        async def stop() -> None:
            supervisor.stop()

        return stop

    return hook
