"""Supervisor monitoring on Asterisk through ARI snoop channels.

A session ``{call_id}-mon{n}`` rings the supervisor's phone (``{id}-sup``, app args
``monitor``; it should auto-answer) into our application, then:

* ``listen``: ``POST /channels/{agent leg}/snoop?spy=both&whisper=none`` makes a snoop
  channel (``{id}-snoop{k}``) that hears both directions of the agent's channel; it and
  the supervisor join a mixing bridge ``{id}-bridge`` of their own;
* ``whisper``: the same with ``whisper=out``: what the supervisor says is written to the
  agent's channel only (``out`` = towards the agent's phone; res_stasis_snoop.c);
* ``barge``: the supervisor joins the call's own bridge; everybody hears everybody.

A mode change swaps the snoop channel or moves the supervisor between the bridges. Asterisk
hangs a snoop channel up when the channel it spies on goes away; when the call ends (or the
snoop channel does) the supervisor is hung up and the session ends with ``call_ended``; the
supervisor hanging up ends it with ``supervisor``. Bridges are named ``<app>:<call id>``
so the reconnect sweep keeps them while the call lives.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dialer.gateway import (
    AgentLeg,
    CallGone,
    GatewayError,
    MonitorEnded,
    MonitorMode,
    MonitorSink,
)
from dialer.telephony.ari_link import Message, seg
from dialer.telephony.ari_wire import error_text

if TYPE_CHECKING:
    from dialer.telephony.callbook import SwitchCall
    from dialer.telephony.switch_config import AriConfig
    from dialer.telephony.tasks import Spawner
    from dialer.timer import Timer

WHISPER = {"listen": "none", "whisper": "out"}


@dataclass(eq=False)
class AriMonitor:
    id: str
    call_id: str
    mode: MonitorMode
    on_end: MonitorSink
    supervisor: str
    bridge: str
    snoop: str | None = None
    in_bridge: str | None = None  # the bridge the supervisor is in now
    bridge_made: bool = False
    waits: dict[str, asyncio.Future[None]] = field(default_factory=dict)
    seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


class AriMonitoring:
    """The ``Monitoring`` capability of ``AriGateway`` (a mixin; see the module docstring)."""

    config: AriConfig
    timer: Timer
    tasks: Spawner
    book: Any
    request: Any

    def _init_monitoring(self) -> None:
        self.monitors: dict[str, AriMonitor] = {}
        self._monitor_channels: dict[str, AriMonitor] = {}  # supervisor/snoop id → session
        self._monitor_seq = itertools.count(1)

    def monitor_channels(self) -> set[str]:
        """Channels of monitor sessions (not strays for the reconnect sweep)."""
        return set(self._monitor_channels)

    async def monitor(
        self, call_id: str, endpoint: str, mode: MonitorMode, on_end: MonitorSink
    ) -> str:
        call = self.book.answered(call_id)
        if not call.bridged or not call.agent_leg or not call.bridge_id:
            raise GatewayError(f"call {call_id} is not connected to an agent")
        mid = f"{call_id}-mon{next(self._monitor_seq)}"
        session = AriMonitor(mid, call_id, mode, on_end, f"{mid}-sup", f"{mid}-bridge")
        self.monitors[mid] = session
        try:
            await self._ring_supervisor(session, call, endpoint)
            await self._place(session, call, mode)
        except BaseException:
            self._forget(session)
            await self._tear_down(session)
            raise
        return mid

    async def change_mode(self, monitor_id: str, mode: MonitorMode) -> None:
        session = self.monitors.get(monitor_id)
        if session is None:
            raise CallGone(f"monitor {monitor_id} has ended")
        call = self.book.live(session.call_id)
        if mode == session.mode:
            return
        if session.in_bridge is not None:
            await self._bridge_op(session.in_bridge, "removeChannel", session.supervisor)
            session.in_bridge = None
        await self._drop_snoop(session)
        session.mode = mode
        await self._place(session, call, mode)

    async def stop_monitor(self, monitor_id: str) -> None:
        session = self.monitors.get(monitor_id)
        if session is None:
            return
        self._forget(session)
        await self._tear_down(session)
        self._ended(session, "stopped")

    # -- steps ----------------------------------------------------------------------------
    async def _ring_supervisor(self, session: AriMonitor, call: SwitchCall, endpoint: str) -> None:
        timeout = self.config.agent_answer_timeout_s
        params = {
            "endpoint": self.config.strings.agent_leg(AgentLeg(0, endpoint)),
            "app": self.config.app,
            "appArgs": "monitor",
            "callerId": call.request.caller_id,
            "timeout": str(timeout),
        }
        body = {"variables": {"DIALER_APP": self.config.app, "DIALER_CALL_ID": call.call_id}}
        answered = self._expect(session, session.supervisor)
        status, data = await self.request(
            "POST", f"/channels/{seg(session.supervisor)}", params, body
        )
        if status != 200:
            raise GatewayError(f"could not call {endpoint}: {error_text(data)}")
        await asyncio.wait_for(asyncio.shield(answered), timeout + 5.0)

    async def _place(self, session: AriMonitor, call: SwitchCall, mode: MonitorMode) -> None:
        if call.ended or not call.bridge_id or not call.agent_leg:
            raise CallGone(f"call {call.call_id} has ended")
        if mode == "barge":
            await self._bridge_op(call.bridge_id, "addChannel", session.supervisor)
            session.in_bridge = call.bridge_id
            return
        snoop = f"{session.id}-snoop{next(session.seq)}"
        started = self._expect(session, snoop)
        session.snoop = snoop
        params = {
            "spy": "both",
            "whisper": WHISPER[mode],
            "app": self.config.app,
            "appArgs": "snoop",
            "snoopId": snoop,
        }
        path = f"/channels/{seg(call.agent_leg)}/snoop"
        status, data = await self.request("POST", path, params)
        if status == 404:
            raise CallGone(f"call {call.call_id} has ended")
        if status != 200:
            raise GatewayError(f"Asterisk could not snoop on the agent: {error_text(data)}")
        await asyncio.wait_for(asyncio.shield(started), 5.0)
        if not session.bridge_made:
            await self._own_bridge(session)
            session.bridge_made = True
        await self._bridge_op(session.bridge, "addChannel", f"{snoop},{session.supervisor}")
        session.in_bridge = session.bridge

    async def _own_bridge(self, session: AriMonitor) -> None:
        params = {"type": "mixing", "name": f"{self.config.app}:{session.call_id}"}
        status, data = await self.request("POST", f"/bridges/{seg(session.bridge)}", params)
        if status != 200:
            raise GatewayError(f"could not create a monitor bridge: {error_text(data)}")

    async def _bridge_op(self, bridge: str, op: str, channels: str) -> None:
        status, data = await self.request(
            "POST", f"/bridges/{seg(bridge)}/{op}", {"channel": channels}
        )
        if status == 404:
            raise CallGone(f"the call's bridge {bridge} is gone")
        if status != 204:
            raise GatewayError(f"Asterisk could not {op} {channels}: {error_text(data)}")

    async def _drop_snoop(self, session: AriMonitor) -> None:
        snoop, session.snoop = session.snoop, None
        if snoop is not None:
            self._monitor_channels.pop(snoop, None)
            await self.request("DELETE", f"/channels/{seg(snoop)}", {"reason": "normal"})

    async def _tear_down(self, session: AriMonitor) -> None:
        for channel in (session.supervisor, session.snoop):
            if channel is not None:
                await self.request("DELETE", f"/channels/{seg(channel)}", {"reason": "normal"})
        await self.request("DELETE", f"/bridges/{seg(session.bridge)}")

    # -- events ---------------------------------------------------------------------------
    def _expect(self, session: AriMonitor, channel: str) -> asyncio.Future[None]:
        wait = session.waits[channel] = asyncio.get_running_loop().create_future()
        self._monitor_channels[channel] = session
        return wait

    def monitor_message(self, message: Message) -> bool:
        """Take the events of monitor channels (True when the message was one of them)."""
        kind = message.get("type")
        if kind not in ("StasisStart", "ChannelDestroyed"):
            return False
        cid = str((message.get("channel") or {}).get("id", ""))
        session = self._monitor_channels.get(cid)
        if session is None:
            return False
        wait = session.waits.get(cid)
        if kind == "StasisStart":
            if wait is not None and not wait.done():
                wait.set_result(None)
            return True
        self._monitor_channels.pop(cid, None)
        if wait is not None and not wait.done():
            wait.set_exception(GatewayError("the supervisor's phone did not answer"))
            return True
        reason = "supervisor" if cid == session.supervisor else "call_ended"
        if self.monitors.get(session.id) is session:
            self._forget(session)
            self.tasks.spawn(self._tear_down(session))
            self._ended(session, reason)
        return True

    def monitored_call_ended(self, call_id: str) -> None:
        """The call ended: its supervisors are hung up."""
        for session in [s for s in self.monitors.values() if s.call_id == call_id]:
            self._forget(session)
            self.tasks.spawn(self._tear_down(session))
            self._ended(session, "call_ended")

    def _forget(self, session: AriMonitor) -> None:
        self.monitors.pop(session.id, None)
        for channel in [c for c, s in self._monitor_channels.items() if s is session]:
            del self._monitor_channels[channel]

    def _ended(self, session: AriMonitor, reason: str) -> None:
        session.on_end(MonitorEnded(session.id, session.call_id, self.timer.now(), reason))
