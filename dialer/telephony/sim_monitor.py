"""Supervisor monitoring on the simulated gateway: who listens to which call, and who hears
the supervisor (``MONITOR_AUDIENCE``). A session ends with its call, or when stopped."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dialer.gateway import CallGone, GatewayError, MonitorEnded, MonitorMode, MonitorSink

if TYPE_CHECKING:
    from dialer.timer import Timer

# Who hears the supervisor in each mode (the supervisor always hears agent and callee).
MONITOR_AUDIENCE: dict[str, frozenset[str]] = {
    "listen": frozenset(),
    "whisper": frozenset({"agent"}),
    "barge": frozenset({"agent", "callee"}),
}


@dataclass(slots=True)
class SimMonitor:
    """One supervisor's phone in a call."""

    monitor_id: str
    call_id: str
    endpoint: str
    mode: MonitorMode
    on_end: MonitorSink
    started_t: float

    @property
    def heard_by(self) -> frozenset[str]:
        return MONITOR_AUDIENCE[self.mode]


class SimMonitoring:
    """The ``Monitoring`` capability of ``SimulatedGateway`` (a mixin: it reads the
    gateway's calls and timer). ``unreachable_endpoints``: phones that never answer."""

    timer: Timer
    _calls: dict[str, Any]

    def _init_monitoring(self) -> None:
        self.monitors: dict[str, SimMonitor] = {}  # sessions up now, by id
        self.monitor_log: list[tuple[str, str, str]] = []  # (call id, endpoint, mode) so far
        self.unreachable_endpoints: set[str] = set()
        self._monitor_ids = itertools.count(1)

    def listeners(self, call_id: str) -> list[SimMonitor]:
        """The supervisors on ``call_id`` now."""
        return [m for m in self.monitors.values() if m.call_id == call_id]

    async def monitor(
        self, call_id: str, endpoint: str, mode: MonitorMode, on_end: MonitorSink
    ) -> str:
        call = self._calls.get(call_id)
        if call is None:
            raise CallGone(f"call {call_id} has ended")
        if not call.bridged:
            raise GatewayError(f"call {call_id} is not connected to an agent")
        if not endpoint or endpoint in self.unreachable_endpoints:
            raise GatewayError(f"endpoint {endpoint!r} does not answer")
        monitor_id = f"sim-mon-{next(self._monitor_ids)}"
        self.monitors[monitor_id] = SimMonitor(
            monitor_id, call_id, endpoint, mode, on_end, self.timer.now()
        )
        self.monitor_log.append((call_id, endpoint, mode))
        return monitor_id

    async def change_mode(self, monitor_id: str, mode: MonitorMode) -> None:
        session = self.monitors.get(monitor_id)
        if session is None:
            raise CallGone(f"monitor {monitor_id} has ended")
        session.mode = mode
        self.monitor_log.append((session.call_id, session.endpoint, mode))

    async def stop_monitor(self, monitor_id: str) -> None:
        session = self.monitors.pop(monitor_id, None)
        if session is not None:
            self._end_monitor(session, "stopped")

    def _monitored_call_ended(self, call_id: str) -> None:
        """The switch drops every supervisor of a call that ends."""
        for session in self.listeners(call_id):
            self.monitors.pop(session.monitor_id, None)
            self._end_monitor(session, "call_ended")

    def _end_monitor(self, session: SimMonitor, reason: str) -> None:
        ended = MonitorEnded(session.monitor_id, session.call_id, self.timer.now(), reason)
        self.timer.call_later(0.0, lambda: session.on_end(ended))
