"""``AriGateway``: the ``Gateway`` protocol over Asterisk's REST Interface (ARI).

A call's life on Asterisk (see docs/asterisk.md for the dialplan it relies on):

1. ``POST /channels/{call_id}`` with ``app=<DIALER_ARI_APP>``, ``appArgs=dial``, the trunk
   endpoint, caller id, ring ``timeout`` and channel variables (``DIALER_APP``,
   ``DIALER_CALL_ID``, the engine's ids as ``DIALER_<NAME>``). The engine's call id is the
   channel id, so calls can be found again after a reconnect.
2. ``ChannelStateChange`` to ``Ringing`` → ``Ringing``. ``ChannelDestroyed`` before an
   answer → ``Busy`` / ``NoAnswer`` / ``Failed(reason)`` from its Q.850 cause.
3. On answer the channel enters our application (``StasisStart`` with args ``dial``).
   Without AMD that is ``Answered("human")``. With AMD the channel is sent to the
   ``dialer-amd`` dialplan context, which runs ``AMD()`` and returns with
   ``Stasis(${DIALER_APP},amd)``; ``AMDSTATUS`` (from ``ChannelVarset`` or read back)
   gives ``Answered(human|machine|fax)``; ``NOTSURE`` counts as human (``ari_amd``). Before
   a voicemail drop, ``wait_for_beep`` sends it to ``dialer-beep`` (``WaitForSilence``).
4. ``bridge``: the agent's phone is called per call (``{call_id}-agent``, app args
   ``agent``; it should auto-answer) and both legs join a mixing bridge
   ``{call_id}-bridge``. Whoever hangs up first ends the call; the other leg and the bridge
   are torn down.
5. ``play``: ``POST /channels/{id}/play/{playbackId}``, finished on ``PlaybackFinished``.
6. After every (re)connection the channel list is reconciled (``reconcile``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from typing import Any

from dialer.backoff import Backoff
from dialer.gateway import (
    AgentLeg,
    CallGone,
    EventSink,
    GatewayError,
    GatewayUnavailable,
    OriginateRequest,
    Recording,
)
from dialer.telephony.ari_amd import beep_passed, read_amd, start_amd, verdict, wait_for_beep
from dialer.telephony.ari_bridge import AriConferencing
from dialer.telephony.ari_inbound import AriInbound
from dialer.telephony.ari_link import AriLink, Message, seg
from dialer.telephony.ari_reconcile import reconcile
from dialer.telephony.ari_record import AriRecordings
from dialer.telephony.ari_snoop import AriMonitoring
from dialer.telephony.ari_wire import channel_variables, refusal
from dialer.telephony.ari_wire import error_text as _message
from dialer.telephony.callbook import SwitchCall
from dialer.telephony.causes import cause_label, sip_status
from dialer.telephony.dialstrings import ari_media
from dialer.telephony.dtmf import ari_dtmf
from dialer.telephony.switch import SwitchGateway
from dialer.telephony.switch_config import AriConfig
from dialer.timer import Timer

log = logging.getLogger("dialer.telephony.ari")


class AriGateway(AriMonitoring, AriInbound, AriConferencing, SwitchGateway):
    """Asterisk through ARI (see the module docstring)."""

    name = "ari"

    def __init__(self, config: AriConfig, timer: Timer, *, rng: random.Random | None = None):
        super().__init__(timer, log)
        self.config = config
        self._playbacks: dict[str, SwitchCall] = {}
        self._seq = 0
        self._warned = False
        backoff = Backoff(config.backoff_base_s, config.backoff_cap_s, rng=rng or random.Random())
        self.link = AriLink(
            url=config.url,
            user=config.user,
            password=config.password,
            app=config.app,
            on_message=self.handle,
            on_connect=self.reconcile,
            backoff=backoff,
            sleep=timer.sleep,
        )
        self._handlers = {
            "StasisStart": self._stasis_start,
            "ChannelStateChange": self._state_change,
            "ChannelVarset": self._varset,
            "ChannelDestroyed": self._destroyed,
            "PlaybackFinished": self._playback_finished,
            "ApplicationReplaced": self._replaced,
            "Dial": self._dial,
            "RecordingFinished": self._recording_finished,
            "ChannelDtmfReceived": lambda msg: ari_dtmf(self.book, msg),
        }
        self.recordings = AriRecordings(self.link)
        self.book.on_answer = self._answered
        self.replaced = False  # another process took our ARI application over
        self._init_monitoring()

    # -- protocol -------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect and reconcile (idempotent); ``GatewayError`` if Asterisk stays away."""
        await self.connect(self.config.connect_timeout_s, f"Asterisk ARI at {self.config.url}")

    async def originate(self, request: OriginateRequest, on_event: EventSink) -> None:
        if self.replaced:
            raise GatewayUnavailable(
                f"another process took over ARI application {self.config.app!r}; "
                "give every dialer process its own DIALER_ARI_APP and restart this one"
            )
        if not self.link.ready.is_set():
            if self.link.started:  # reconnecting: fail fast, the engine retries the lead
                raise GatewayUnavailable("not connected to Asterisk (reconnecting)")
            await self.start()
        call = self.book.add(request, on_event)
        params = {
            "endpoint": self.config.strings.callee(request.phone_e164),
            "app": self.config.app,
            "appArgs": "dial",
            "callerId": request.caller_id,
            "timeout": str(math.ceil(request.ring_timeout_s)),
        }
        body = {"variables": channel_variables(request, self.config.app)}
        try:
            status, data = await self.request(
                "POST", f"/channels/{seg(call.call_id)}", params, body
            )
        except GatewayError:
            self.book.discard(call)
            raise
        if status != 200:
            self.book.discard(call)
            raise refusal(status, data)

    async def bridge(self, call_id: str, agent: AgentLeg) -> None:
        call = self.book.answered(call_id)
        if call.bridged or call.agent_wait is not None:
            raise GatewayError(f"call {call_id} is already bridged or being bridged")
        leg = f"{call_id}-agent"
        call.agent_leg = leg
        self.legs[leg] = call
        wait = call.agent_wait = asyncio.get_running_loop().create_future()
        timeout = self.config.agent_answer_timeout_s
        params = {
            "endpoint": self.config.strings.agent_leg(agent),
            "app": self.config.app,
            "appArgs": "agent",
            "callerId": call.request.phone_e164,
            "timeout": str(timeout),
        }
        body = {"variables": {"DIALER_APP": self.config.app, "DIALER_CALL_ID": call_id}}
        try:
            status, data = await self.request("POST", f"/channels/{seg(leg)}", params, body)
            if status != 200:
                raise GatewayError(f"could not call agent {agent.agent_id}: {_message(data)}")
            await asyncio.wait_for(asyncio.shield(wait), timeout + 5.0)
            await self._join(call, leg, agent.record)
        except BaseException as exc:
            failure = self.bridge_failed(call, leg, agent, exc)
            if failure is exc:
                raise
            raise failure from None

    async def play(self, call_id: str, message: str) -> bool:
        call = self.book.answered(call_id)
        media = ari_media(message, self.config.strings.sound)
        self._seq += 1
        playback = f"{call_id}-play-{self._seq}"
        done = asyncio.get_running_loop().create_future()
        call.plays[playback] = done
        self._playbacks[playback] = call
        path = f"/channels/{seg(call_id)}/play/{seg(playback)}"
        status, data = await self.request("POST", path, {"media": media})
        if status not in (200, 201, 404):  # 404: gone; its ChannelDestroyed settles ``done``
            call.plays.pop(playback, None)
            self._playbacks.pop(playback, None)
            raise GatewayError(f"Asterisk could not play {media} (HTTP {status}: {_message(data)})")
        return bool(await done)

    async def wait_for_beep(self, call_id: str, timeout_s: float) -> bool:
        """Until the answering machine's beep has passed (``ari_amd``)."""
        return await wait_for_beep(self, self.book.answered(call_id), timeout_s)

    async def hangup(self, call_id: str) -> None:
        call = self.book.get(call_id)
        if call is None:
            return
        call.hangup_requested = True
        status, _ = await self.request("DELETE", f"/channels/{seg(call_id)}", {"reason": "normal"})
        if status == 404:  # already gone and its end not heard: it ends here
            self.callee_gone(call, 16)
        elif status >= 400:
            raise GatewayError(f"Asterisk did not hang up {call_id} (HTTP {status})")

    # -- events ---------------------------------------------------------------------------
    def handle(self, message: Message) -> None:
        """One message from the events WebSocket."""
        handler = self._handlers.get(str(message.get("type")))
        if handler is not None and not self.monitor_message(message):
            handler(message)

    def _stasis_start(self, msg: Message) -> None:
        channel = msg["channel"]
        cid, args = channel["id"], msg.get("args") or [""]
        if self.leg_started(cid):  # a transfer's leg (ari_bridge)
            return
        leg_call = self.legs.get(cid)
        if leg_call is not None:
            if leg_call.agent_wait is not None and not leg_call.agent_wait.done():
                leg_call.agent_wait.set_result(None)
            return
        call = self.book.get(cid)
        if call is None and self.stasis_inbound(msg):  # a callback (``ari_inbound``)
            return
        if call is None:
            log.info("hanging up a channel this process does not know", extra={"channel": cid})
            self.tasks.spawn(self.kill_channel(cid))
            return
        self.stage(call, str(args[0]))

    def stage(self, call: SwitchCall, stage: str) -> None:
        if stage == call.stage or call.ended:
            return
        call.stage, call.up = stage, True
        if stage == "dial":
            if call.request.amd:
                self.tasks.spawn(start_amd(self, call))
            else:
                self.book.answer(call, "human")
        elif stage == "amd":
            if call.amd_status is not None:
                verdict(self, call, call.amd_status)
            else:
                self.tasks.spawn(read_amd(self, call))
        elif stage == "beep":
            self.tasks.spawn(beep_passed(self, call))

    def _state_change(self, msg: Message) -> None:
        if self.leg_ringing(msg["channel"]):
            return
        call = self.book.get(msg["channel"]["id"])
        if call is None:
            return
        state = msg["channel"].get("state")
        if state == "Ringing":
            self.book.ring(call)
        elif state == "Up":
            call.up = True

    def _answered(self, call: SwitchCall) -> None:
        if call.request.record == "all":
            self.tasks.spawn(self.recordings.start("channels", call.call_id, call.call_id))

    def _recording_finished(self, msg: Message) -> None:
        self.recordings.on_finished(msg)

    async def take_recording(self, call_id: str) -> Recording | None:
        """The call's recording, from Asterisk's stored recordings (``ari_record``)."""
        return await self.recordings.take(call_id)

    def _dial(self, msg: Message) -> None:
        """``Dial`` events carry SIP 183 early media (``PROGRESS``) as well as 180
        (``RINGING``); chan_pjsip sets the channel state to Ringing only on a 180."""
        peer = msg.get("peer") or {}
        call = self.book.get(str(peer.get("id", "")))
        if call is not None and msg.get("dialstatus") in ("RINGING", "PROGRESS"):
            self.book.ring(call)

    def _varset(self, msg: Message) -> None:
        channel = msg.get("channel")
        if channel and msg.get("variable") == "AMDSTATUS":
            call = self.book.get(channel["id"])
            if call is not None:
                call.amd_status = str(msg.get("value", ""))

    def _destroyed(self, msg: Message) -> None:
        cid, code = msg["channel"]["id"], int(msg.get("cause") or 0)
        if self.leg_ended(cid, code, sip_status(msg.get("tech_cause"))):
            return
        if cid in self.legs:
            self.agent_gone(cid, code)
            return
        call = self.book.get(cid)
        if call is None:
            return
        if call.stage == "dial" and call.request.amd and call.answered is None:
            self._left_before_amd(msg["channel"])
        self.callee_gone(call, code, sip_status(msg.get("tech_cause")))

    def _left_before_amd(self, channel: Message) -> None:
        """An answered call ended on its way to AMD. A callee may just hang up; but if the
        channel never reached ``AMD()``, the dialplan is missing, and every answer is lost."""
        if (channel.get("dialplan") or {}).get("app_name") != "AMD" and not self._warned:
            self._warned = True
            log.warning(
                "an answered call ended before reaching AMD(); if answered calls keep ending "
                "this way, check the %r context in extensions.conf (docs/asterisk.md)",
                self.config.amd_context,
            )

    def _playback_finished(self, msg: Message) -> None:
        playback = msg["playback"]
        call = self._playbacks.pop(playback["id"], None)
        if call is None:
            return
        done = call.plays.pop(playback["id"], None)
        if done is None or done.done():
            return
        if playback.get("state") == "failed":  # playbacks.json: done | failed when finished
            media = playback.get("media_uri")
            log.warning("playback failed: is %s installed?", media)
            done.set_exception(GatewayError(f"Asterisk could not play {media}"))
        else:
            done.set_result(True)

    def _replaced(self, msg: Message) -> None:
        """Another connection registered our application. Asterisk keeps this WebSocket
        open but sends our calls' events to the other one (which hangs up channels it does
        not know): stop dialing, end our calls here (no final event will come) and close
        the link without reconnecting (reconnecting would take the application back)."""
        log.error(
            "another connection took over ARI application %r: this process stops dialing; "
            "give every dialer process its own DIALER_ARI_APP",
            self.config.app,
        )
        self.replaced = True
        self.link.ready.clear()
        for call in list(self.book.calls.values()):
            self.book.fail(call, "app_replaced")
        self.legs.clear()
        self._playbacks.clear()
        self.tasks.spawn(self.link.close())

    # -- endings --------------------------------------------------------------------------
    def callee_gone(self, call: SwitchCall, code: int, sip: int | None = None) -> None:
        self.book.end(call, code, sip)
        self.monitored_call_ended(call.call_id)
        self.legs_of_gone_call(call)
        for playback in [p for p, c in self._playbacks.items() if c is call]:
            del self._playbacks[playback]
        if call.agent_leg and self.legs.pop(call.agent_leg, None) is not None:
            self.tasks.spawn(self.kill_channel(call.agent_leg))
        if call.bridge_id:
            self.tasks.spawn(self.request("DELETE", f"/bridges/{seg(call.bridge_id)}"))

    def agent_gone(self, leg: str, code: int) -> None:
        call = self.legs.pop(leg)
        if call.ended:
            return
        if call.bridged:
            call.agent_left = True
            self.tasks.spawn(self.kill_channel(call.call_id))
        elif call.agent_wait is not None and not call.agent_wait.done():
            reason = cause_label(code)
            call.agent_wait.set_exception(
                GatewayError(f"the agent's phone did not answer ({reason})")
            )

    # -- steps ----------------------------------------------------------------------------
    async def _join(self, call: SwitchCall, leg: str, record: bool) -> None:
        bridge = f"{call.call_id}-bridge"
        call.bridge_id = bridge
        params = {"type": "mixing", "name": f"{self.config.app}:{call.call_id}"}
        status, data = await self.request("POST", f"/bridges/{seg(bridge)}", params)
        if status != 200:
            raise GatewayError(f"could not create a bridge: {_message(data)}")
        params = {"channel": f"{call.call_id},{leg}"}
        status, data = await self.request("POST", f"/bridges/{seg(bridge)}/addChannel", params)
        if call.ended:
            raise CallGone(f"call {call.call_id} has ended")
        if status != 204:
            raise GatewayError(f"could not bridge the agent: {_message(data)}")
        call.bridged = True
        if not record:
            if call.request.record == "all":
                self.tasks.spawn(self.recordings.cancel(call.call_id))
        elif call.request.record == "connected":
            self.tasks.spawn(self.recordings.start("bridges", bridge, call.call_id))

    async def kill_channel(self, channel_id: str) -> None:
        await self.request("DELETE", f"/channels/{seg(channel_id)}", {"reason": "normal"})

    # -- reconcile ------------------------------------------------------------------------
    async def reconcile(self) -> None:
        """Make our calls agree with the switch (``ari_reconcile.reconcile``)."""
        await reconcile(self)

    # -- plumbing -------------------------------------------------------------------------
    async def request(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> tuple[int, Any]:
        return await self.link.request(method, path, params=params, body=body)
