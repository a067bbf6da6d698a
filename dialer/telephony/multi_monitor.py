"""Supervisor monitoring across switches: a session goes to the switch holding the call
(monitor ids are prefixed with that switch's name, so later requests find it again)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dialer.gateway import CallGone, GatewayError, Monitoring, MonitorMode, MonitorSink

if TYPE_CHECKING:
    from dialer.telephony.multi import Switch


class MultiMonitoring:
    """The ``Monitoring`` capability of ``MultiSwitchGateway`` (a mixin)."""

    switches: list[Switch]
    _switch: Any

    async def monitor(
        self, call_id: str, endpoint: str, mode: MonitorMode, on_end: MonitorSink
    ) -> str:
        switch = self._switch(call_id)
        if not isinstance(switch.gateway, Monitoring):
            raise GatewayError(f"switch {switch.name} cannot monitor calls")
        session = await switch.gateway.monitor(call_id, endpoint, mode, on_end)
        return f"{switch.name}/{session}"

    async def change_mode(self, monitor_id: str, mode: MonitorMode) -> None:
        gateway, session = self._session(monitor_id)
        await gateway.change_mode(session, mode)

    async def stop_monitor(self, monitor_id: str) -> None:
        try:
            gateway, session = self._session(monitor_id)
        except CallGone:
            return
        await gateway.stop_monitor(session)

    def _session(self, monitor_id: str) -> tuple[Monitoring, str]:
        name, _, session = monitor_id.partition("/")
        for switch in self.switches:
            if switch.name == name and isinstance(switch.gateway, Monitoring):
                return switch.gateway, session
        raise CallGone(f"monitor {monitor_id} has ended")
