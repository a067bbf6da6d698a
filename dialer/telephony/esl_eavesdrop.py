"""Supervisor monitoring on FreeSWITCH with the ``eavesdrop`` application.

A session rings the supervisor's phone with ``bgapi originate {origination_uuid=<id>,
eavesdrop_enable_dtmf=true,eavesdrop_whisper_aleg=...,eavesdrop_whisper_bleg=...}<phone>
&eavesdrop(<call uuid>)``: the supervisor hears the callee's channel both ways. What the
supervisor says is mixed (mod_dptools ``eavesdrop_function``, switch_ivr_async.c):

* ``whisper_aleg`` (``ED_MUX_READ``) into what the callee's channel reads: the agent,
  bridged to it, hears the supervisor (``whisper``);
* ``whisper_bleg`` (``ED_MUX_WRITE``) into what is written to it: the callee hears too
  (both: ``barge``); neither: ``listen``.

A mode change is the eavesdrop's own DTMF control, queued on the supervisor's channel with
``uuid_recv_dtmf`` as if the supervisor pressed it: ``0`` listen, ``1`` whisper (read only),
``3`` both. ``eavesdrop`` returns when the callee's channel goes away, and the supervisor's
channel then hangs up: the session ends with ``call_ended`` (or ``supervisor`` when the
supervisor hung up first; ``stopped`` after ``stop_monitor``, a ``uuid_kill``).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dialer.gateway import AgentLeg, CallGone, GatewayError, MonitorEnded, MonitorMode, MonitorSink
from dialer.telephony.esl_commands import originate_command

if TYPE_CHECKING:
    from dialer.telephony.esl_link import Headers
    from dialer.telephony.switch_config import EslConfig
    from dialer.telephony.tasks import Spawner
    from dialer.timer import Timer

WHISPER = {"listen": ("false", "false"), "whisper": ("true", "false"), "barge": ("true", "true")}
DTMF = {"listen": "0", "whisper": "1", "barge": "3"}


@dataclass(eq=False)
class EslMonitor:
    id: str
    call_id: str
    mode: MonitorMode
    on_end: MonitorSink
    answered: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class EslMonitoring:
    """The ``Monitoring`` capability of ``EslGateway`` (a mixin; see the module docstring)."""

    config: EslConfig
    timer: Timer
    tasks: Spawner
    book: Any
    link: Any
    _jobs: dict[str, str]
    _start_job: Any

    def _init_monitoring(self) -> None:
        self.monitors: dict[str, EslMonitor] = {}

    def monitor_channels(self) -> set[str]:
        return set(self.monitors)

    async def monitor(
        self, call_id: str, endpoint: str, mode: MonitorMode, on_end: MonitorSink
    ) -> str:
        call = self.book.answered(call_id)
        if not call.bridged:
            raise GatewayError(f"call {call_id} is not connected to an agent")
        mid = str(uuid.uuid4())  # the supervisor channel's UUID
        session = self.monitors[mid] = EslMonitor(mid, call_id, mode, on_end)
        timeout = self.config.agent_answer_timeout_s
        aleg, bleg = WHISPER[mode]
        variables = {
            "origination_uuid": mid,
            "origination_caller_id_number": call.request.caller_id,
            "originate_timeout": str(timeout),
            "ignore_early_media": "true",
            "dialer_app": self.config.app,
            "dialer_call_id": call_id,
            "eavesdrop_enable_dtmf": "true",
            "eavesdrop_whisper_aleg": aleg,
            "eavesdrop_whisper_bleg": bleg,
        }
        dial = self.config.strings.agent_leg(AgentLeg(0, endpoint))
        command = originate_command(variables, dial, f"&eavesdrop({call_id})")
        try:
            await self._start_job(None, mid, command)
            await asyncio.wait_for(asyncio.shield(session.answered), timeout + 5.0)
        except BaseException:
            self.monitors.pop(mid, None)
            await self.link.api(f"uuid_kill {mid} NORMAL_CLEARING")
            raise
        return mid

    async def change_mode(self, monitor_id: str, mode: MonitorMode) -> None:
        session = self.monitors.get(monitor_id)
        if session is None:
            raise CallGone(f"monitor {monitor_id} has ended")
        reply = await self.link.api(f"uuid_recv_dtmf {monitor_id} {DTMF[mode]}")
        if not reply.startswith("+OK"):
            raise CallGone(f"monitor {monitor_id} has ended: {reply.strip()}")
        session.mode = mode

    async def stop_monitor(self, monitor_id: str) -> None:
        session = self.monitors.pop(monitor_id, None)
        if session is None:
            return
        await self.link.api(f"uuid_kill {monitor_id} NORMAL_CLEARING")
        self._ended(session, "stopped")

    # -- events ---------------------------------------------------------------------------
    def monitor_event(self, name: str, headers: Headers, body: str) -> bool:
        """Take the events of supervisor channels (True when it was one of them)."""
        if name == "BACKGROUND_JOB":
            channel = self._jobs.get(headers.get("Job-UUID", ""))
            if channel not in self.monitors:
                return False
            self._jobs.pop(headers.get("Job-UUID", ""), None)
            if not body.startswith("+OK"):
                self._refused(self.monitors[channel], body.strip())
            return True
        session = self.monitors.get(headers.get("Unique-ID", ""))
        if session is None:
            return False
        if name == "CHANNEL_ANSWER" and not session.answered.done():
            session.answered.set_result(None)
        elif name == "CHANNEL_HANGUP_COMPLETE":
            if not session.answered.done():
                self._refused(session, headers.get("Hangup-Cause", ""))
                return True
            self.monitors.pop(session.id, None)
            call = self.book.get(session.call_id)
            gone = call is None or call.ended
            self._ended(session, "call_ended" if gone else "supervisor")
        return True

    def _refused(self, session: EslMonitor, why: str) -> None:
        if not session.answered.done():
            session.answered.set_exception(
                GatewayError(f"the supervisor's phone did not answer ({why})")
            )

    def monitored_call_ended(self, call_id: str) -> None:
        """The call ended: ``eavesdrop`` returns and its supervisors are hung up."""
        for session in [s for s in self.monitors.values() if s.call_id == call_id]:
            self.monitors.pop(session.id, None)
            self.tasks.spawn(self.link.api(f"uuid_kill {session.id} NORMAL_CLEARING"))
            self._ended(session, "call_ended")

    def _ended(self, session: EslMonitor, reason: str) -> None:
        session.on_end(MonitorEnded(session.id, session.call_id, self.timer.now(), reason))
