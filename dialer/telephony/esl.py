"""``EslGateway``: the ``Gateway`` protocol over FreeSWITCH's event socket (inbound mode).

A call's life on FreeSWITCH (see docs/freeswitch.md for the dialplan it relies on):

1. ``bgapi originate {origination_uuid=<call_id>,origination_caller_id_number=...,
   originate_timeout=<ring>,ignore_early_media=true,dialer_app=...,dialer_call_id=...}
   <trunk>/<number> dialer_amd XML dialer`` (or ``&park()`` without AMD), with our own
   ``Job-UUID``. The engine's call id is the channel's UUID (at most 36 characters).
2. ``CHANNEL_PROGRESS``/``CHANNEL_PROGRESS_MEDIA`` → ``Ringing``. ``CHANNEL_HANGUP_COMPLETE``
   before an answer (or a ``BACKGROUND_JOB`` whose output is ``-ERR <CAUSE>``) → ``Busy`` /
   ``NoAnswer`` / ``Failed(reason)`` from the hangup cause.
3. ``CHANNEL_ANSWER``: without AMD that is ``Answered("human")``. With AMD the dialplan
   runs ``mod_amd``, whose ``CUSTOM mod_amd::info`` event carries ``variable_amd_result``
   (``HUMAN``, ``MACHINE``, ``NOT_SURE`` = human); any detector can report through a
   ``CUSTOM dialer::amd`` event instead, and ``avmd::beep`` counts as a machine. Before a
   voicemail drop, ``wait_for_beep`` runs mod_avmd (``avmd <uuid> start``) until its
   ``avmd::beep`` (mod_avmd.c: ``Unique-ID``, ``Beep-Status``, ``frequency``) or a timeout.
4. ``bridge``: the agent's phone is originated per call (a UUID derived from the call id,
   ``&park()``); once it answers, ``uuid_bridge`` joins the two legs.
5. ``play``: ``uuid_broadcast <uuid> <file> aleg``, finished on the ``playback``
   application's ``CHANNEL_EXECUTE_COMPLETE``.
6. After every (re)connection, ``show channels as json`` is reconciled.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import uuid

from dialer.backoff import Backoff
from dialer.gateway import AgentLeg, EventSink, GatewayError, GatewayUnavailable, Recording
from dialer.gateway import OriginateRequest as Request
from dialer.telephony.callbook import SwitchCall
from dialer.telephony.causes import cause_code, sip_status
from dialer.telephony.dialstrings import esl_media
from dialer.telephony.dtmf import ESL_EVENT, esl_dtmf
from dialer.telephony.esl_commands import channel_vars, originate_command
from dialer.telephony.esl_eavesdrop import EslMonitoring
from dialer.telephony.esl_inbound import EslInbound
from dialer.telephony.esl_link import EslLink, Headers
from dialer.telephony.esl_reconcile import AMD_KINDS, reconcile
from dialer.telephony.esl_record import EslRecordings
from dialer.telephony.esl_transfer import EslConferencing
from dialer.telephony.switch import SwitchGateway
from dialer.telephony.switch_config import EslConfig
from dialer.timer import Timer

log = logging.getLogger("dialer.telephony.esl")

EVENTS = (
    "CHANNEL_CREATE CHANNEL_PARK CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_ANSWER "
    "CHANNEL_HANGUP_COMPLETE "
    "CHANNEL_EXECUTE_COMPLETE BACKGROUND_JOB DTMF CUSTOM mod_amd::info dialer::amd avmd::beep"
)
AMD_MISSING_CAUSE = 27  # DESTINATION_OUT_OF_ORDER: what a missing dialplan application gives
MAX_UUID = 36  # FreeSWITCH keeps at most this many characters of a channel UUID


def agent_uuid(call_id: str) -> str:
    """The agent leg's channel UUID: derived from the call id, so it can be found again."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"dialer-agent:{call_id}"))


class EslGateway(EslMonitoring, EslInbound, EslConferencing, SwitchGateway):
    """FreeSWITCH through its event socket (see the module docstring)."""

    name = "esl"

    def __init__(self, config: EslConfig, timer: Timer, *, rng: random.Random | None = None):
        super().__init__(timer, log)
        self.config = config
        self._jobs: dict[str, str] = {}  # Job-UUID → channel UUID
        self._warned_amd = False
        self.book.on_answer = self._answered
        backoff = Backoff(config.backoff_base_s, config.backoff_cap_s, rng=rng or random.Random())
        self.link = EslLink(
            host=config.host,
            port=config.port,
            password=config.password,
            events=EVENTS,
            on_event=self.handle,
            on_connect=self.reconcile,
            backoff=backoff,
            sleep=timer.sleep,
        )
        self.recordings = EslRecordings(self.link, config.recording_dir)
        self._handlers = {
            "CHANNEL_CREATE": self._created,
            "CHANNEL_PARK": self.park_inbound,  # a callback (``esl_inbound``)
            "CHANNEL_PROGRESS": self._progress,
            "CHANNEL_PROGRESS_MEDIA": self._progress,
            "CHANNEL_ANSWER": self._answer,
            "CHANNEL_HANGUP_COMPLETE": self._hangup_complete,
            "CHANNEL_EXECUTE_COMPLETE": self._execute_complete,
            "BACKGROUND_JOB": self._job_done,
            "mod_amd::info": self._amd,
            "dialer::amd": self._amd,
            "avmd::beep": self._beep,
            ESL_EVENT: lambda headers, _body: esl_dtmf(self.book, headers),
        }
        self._init_monitoring()

    # -- protocol -------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect and reconcile (idempotent); ``GatewayError`` if FreeSWITCH stays away."""
        where = f"FreeSWITCH event socket at {self.config.host}:{self.config.port}"
        await self.connect(self.config.connect_timeout_s, where)

    async def originate(self, request: Request, on_event: EventSink) -> None:
        if len(request.call_id) > MAX_UUID:
            raise GatewayError(f"FreeSWITCH call ids are at most {MAX_UUID} characters")
        if not self.link.ready.is_set():
            if self.link.started:
                raise GatewayUnavailable("not connected to FreeSWITCH (reconnecting)")
            await self.start()
        call = self.book.add(request, on_event)
        variables = {
            "origination_uuid": request.call_id,
            "origination_caller_id_number": request.caller_id,
            "originate_timeout": str(math.ceil(request.ring_timeout_s)),
            **channel_vars(request, self.config.app),
        }
        target = self.config.amd_target if request.amd else "&park()"
        dial = self.config.strings.callee(request.phone_e164)
        await self._start_job(call, request.call_id, originate_command(variables, dial, target))

    async def bridge(self, call_id: str, agent: AgentLeg) -> None:
        call = self.book.answered(call_id)
        if call.bridged or call.agent_wait is not None:
            raise GatewayError(f"call {call_id} is already bridged or being bridged")
        leg = call.agent_leg = agent_uuid(call_id)
        self.legs[leg] = call
        wait = call.agent_wait = asyncio.get_running_loop().create_future()
        timeout = self.config.agent_answer_timeout_s
        variables = {
            "origination_uuid": leg,
            "origination_caller_id_number": call.request.phone_e164,
            "originate_timeout": str(timeout),
            "ignore_early_media": "true",
            "dialer_app": self.config.app,
            "dialer_call_id": call_id,
        }
        command = originate_command(variables, self.config.strings.agent_leg(agent), "&park()")
        try:
            await self._start_job(None, leg, command)
            await asyncio.wait_for(asyncio.shield(wait), timeout + 5.0)
            reply = await self.link.api(f"uuid_bridge {call_id} {leg}")
            if not reply.startswith("+OK"):
                raise GatewayError(f"could not bridge the agent: {reply.strip()}")
            call.bridged = True
            if not agent.record:
                if call.request.record == "all":
                    self.tasks.spawn(self.recordings.cancel(call_id))
            elif call.request.record == "connected":
                self.tasks.spawn(self.recordings.start(call_id))
        except BaseException as exc:
            failure = self.bridge_failed(call, leg, agent, exc)
            if failure is exc:
                raise
            raise failure from None

    async def play(self, call_id: str, message: str) -> bool:
        call = self.book.answered(call_id)
        media = esl_media(message, self.config.strings.sound)
        key = f"{call_id}:{len(call.plays)}:{self.timer.now()}"
        done = call.plays[key] = asyncio.get_running_loop().create_future()
        reply = await self.link.api(f"uuid_broadcast {call_id} {media} aleg")
        if not reply.startswith("+OK"):
            call.plays.pop(key, None)
            if call.ended:
                return False
            raise GatewayError(f"FreeSWITCH could not play {media}: {reply.strip()}")
        return bool(await done)

    async def wait_for_beep(self, call_id: str, timeout_s: float) -> bool:
        """Until mod_avmd hears the machine's beep (``avmd <uuid> start``, then ``CUSTOM
        avmd::beep``), or False after ``timeout_s`` (``avmd <uuid> stop``)."""
        call = self.book.answered(call_id)
        if call.beeped:
            return True
        heard = call.beep = asyncio.get_running_loop().create_future()
        try:
            reply = await self.link.api(f"avmd {call_id} start")
            if reply.strip() and not reply.startswith("+OK"):  # empty: already listening
                if call.ended:
                    return False
                raise GatewayError(f"no beep detection (is mod_avmd loaded?): {reply.strip()}")
            try:
                return await asyncio.wait_for(asyncio.shield(heard), timeout_s)
            except TimeoutError:
                self.tasks.spawn(self.link.api(f"avmd {call_id} stop"))
                return False
        finally:
            call.beep = None

    async def hangup(self, call_id: str) -> None:
        call = self.book.get(call_id)
        if call is None:
            return
        call.hangup_requested = True
        reply = await self.link.api(f"uuid_kill {call_id} NORMAL_CLEARING")
        if not reply.startswith("+OK") and call.stage:  # gone, and its end not heard
            self._callee_gone(call, 16)
        # no channel yet (the originate job is starting): its first event kills it

    def _answered(self, call: SwitchCall) -> None:
        if call.request.record == "all":
            self.tasks.spawn(self.recordings.start(call.call_id))

    async def take_recording(self, call_id: str) -> Recording | None:
        """The call's recording from the shared directory (``esl_record``)."""
        return await self.recordings.take(call_id)

    # -- events ---------------------------------------------------------------------------
    def handle(self, headers: Headers, body: str) -> None:
        """One event from the socket."""
        name = headers.get("Event-Name", "")
        if name == "CUSTOM":
            name = headers.get("Event-Subclass", "")
        handler = self._handlers.get(name)
        if handler is not None and not self.monitor_event(name, headers, body):
            handler(headers, body)

    def _call(self, headers: Headers) -> SwitchCall | None:
        call = self.book.get(headers.get("Unique-ID", ""))
        if call is not None:
            call.stage = call.stage or "channel"
            if call.hangup_requested and not call.ended:
                self.tasks.spawn(self.kill_channel(call.call_id))
        return call

    def _created(self, headers: Headers, body: str) -> None:
        self._call(headers)  # the channel exists: a hangup asked for before it can act now

    def _progress(self, headers: Headers, body: str) -> None:
        if self.leg_progress(headers.get("Unique-ID", "")):  # a transfer's leg (esl_transfer)
            return
        call = self._call(headers)
        if call is not None:
            self.book.ring(call)

    def _answer(self, headers: Headers, body: str) -> None:
        if self.leg_answered(headers.get("Unique-ID", "")):
            return
        leg_call = self.legs.get(headers.get("Unique-ID", ""))
        if leg_call is not None:
            if leg_call.agent_wait is not None and not leg_call.agent_wait.done():
                leg_call.agent_wait.set_result(None)
            return
        call = self._call(headers)
        if call is None:
            return
        call.up = True
        if call.request.amd:
            self.book.await_verdict(call, self.config.amd_timeout_s)
        else:
            self.book.answer(call, "human")

    def _amd(self, headers: Headers, body: str) -> None:
        call = self._call(headers)
        if call is None:
            return
        result = headers.get("variable_amd_result") or headers.get("AMD-Result") or ""
        kind = AMD_KINDS.get(result.strip().upper())
        if kind is None:
            if result.strip().upper() in ("CANCEL", "HANGUP"):
                return  # the callee left during AMD: the hangup ends the call
            log.warning("amd_result %r not understood: is mod_amd in the dialplan?", result)
            kind = "human"
        self.book.answer(call, kind)

    def _beep(self, headers: Headers, body: str) -> None:
        call = self._call(headers)
        if call is None:
            return
        call.beeped = True
        if call.beep is not None and not call.beep.done():
            call.beep.set_result(True)
        elif call.up and call.answered is None:
            self.book.answer(call, "machine")

    def _execute_complete(self, headers: Headers, body: str) -> None:
        if headers.get("Application") != "playback":
            return
        call = self._call(headers)
        if call is None or not call.plays:
            return
        response = headers.get("Application-Response", "")
        key = next(iter(call.plays))
        done = call.plays.pop(key)
        if done.done():
            return
        # mod_dptools playback_function: FILE PLAYED, else FILE NOT FOUND / PLAYBACK ERROR
        if response and response != "FILE PLAYED":
            media = headers.get("Application-Data")
            log.warning("playback of %s: %s", media, response)
            done.set_exception(GatewayError(f"FreeSWITCH could not play {media}: {response}"))
        else:
            done.set_result(True)

    def _hangup_complete(self, headers: Headers, body: str) -> None:
        uid = headers.get("Unique-ID", "")
        code = cause_code(headers.get("Hangup-Cause")) or cause_code(
            headers.get("variable_hangup_cause_q850")
        )
        if self.leg_ended(uid, code, sip_status(headers.get("variable_sip_term_status"))):
            return
        if uid in self.legs:
            self._agent_gone(uid, code)
            return
        call = self.book.get(uid)
        if call is None:
            return
        if code == AMD_MISSING_CAUSE and call.up and call.request.amd and call.answered is None:
            self._amd_missing(call)
            return
        self._callee_gone(call, code, sip_status(headers.get("variable_sip_term_status")))

    def _amd_missing(self, call: SwitchCall) -> None:
        """FreeSWITCH hangs up with DESTINATION_OUT_OF_ORDER when a dialplan application
        does not exist ("Invalid Application mod_amd"): without the module every AMD call
        would end unanswered, so say so, and end the call as the switch's failure."""
        if not self._warned_amd:
            self._warned_amd = True
            log.warning(
                "an answered call was hung up by FreeSWITCH (DESTINATION_OUT_OF_ORDER) before "
                "AMD decided: is mod_amd loaded (load mod_amd; docs/freeswitch.md)?"
            )
        self.book.fail(call, "amd_missing")
        if call.agent_leg and self.legs.pop(call.agent_leg, None) is not None:
            self.tasks.spawn(self.kill_channel(call.agent_leg))

    def _job_done(self, headers: Headers, body: str) -> None:
        """A background originate finished: ``+OK <uuid>``, ``-ERR <CAUSE>`` or anything
        else (``-USAGE: ...`` for a command FreeSWITCH could not parse) is a failure."""
        channel = self._jobs.pop(headers.get("Job-UUID", ""), None)
        if channel is None or body.startswith("+OK"):
            return
        if not body.startswith("-ERR"):
            log.error("FreeSWITCH did not run an originate: %s", body.strip()[:200])
            if channel in self.legs:
                self._agent_gone(channel, 0)
            elif (call := self.book.get(channel)) is not None:
                self.book.fail(call, "switch_refused")
            return
        code = cause_code(body[4:].strip().split()[0] if body[4:].strip() else "")
        if self.leg_ended(channel, code):
            return
        if channel in self.legs:
            self._agent_gone(channel, code)
        elif (call := self.book.get(channel)) is not None:
            self._callee_gone(call, code)

    # -- endings --------------------------------------------------------------------------
    def _callee_gone(self, call: SwitchCall, code: int, sip: int | None = None) -> None:
        self.book.end(call, code, sip)
        self.monitored_call_ended(call.call_id)
        self.legs_of_gone_call(call)
        if call.agent_leg and self.legs.pop(call.agent_leg, None) is not None:
            self.tasks.spawn(self.kill_channel(call.agent_leg))

    def _agent_gone(self, leg: str, code: int) -> None:
        call = self.legs.pop(leg)
        if call.ended:
            return
        if call.bridged:
            call.agent_left = True
            self.tasks.spawn(self.kill_channel(call.call_id))
        elif call.agent_wait is not None and not call.agent_wait.done():
            call.agent_wait.set_exception(GatewayError("the agent's phone did not answer"))

    # -- reconcile ------------------------------------------------------------------------
    async def reconcile(self) -> None:
        """Make our calls agree with the switch (``esl_reconcile.reconcile``)."""
        await reconcile(self)

    # -- plumbing -------------------------------------------------------------------------
    async def _start_job(self, call: SwitchCall | None, channel: str, command: str) -> None:
        job = str(uuid.uuid4())
        self._jobs[job] = channel  # before sending: its result may come before the reply
        try:
            reply = await self.link.bgapi(command, job)
        except GatewayError:
            self._jobs.pop(job, None)
            if call is not None:
                self.book.discard(call)
            raise
        if not reply.startswith("+OK"):
            self._jobs.pop(job, None)
            if call is not None:
                self.book.discard(call)
            raise GatewayError(f"FreeSWITCH refused the call: {reply}")

    async def kill_channel(self, channel: str) -> None:
        await self.link.api(f"uuid_kill {channel} NORMAL_CLEARING")
