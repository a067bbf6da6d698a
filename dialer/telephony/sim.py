"""``SimulatedGateway``: a switch whose callees are drawn from the simulator's callee model.

Each originated call gets its fate from ``dialer.sim.CalleeModel.sample`` (the same model
the discrete-event simulator uses, so the pacer meets the same population in both), plus
what only a live call has: answering-machine detection with its delay and its errors, fax
tones, callees who hang up while waiting for an agent, and talk that ends when the callee
(or agent) hangs up. Time runs on an injected ``Timer``: real time, sped up, or virtual in
tests. Seeded, so a run can be replayed.
"""

from __future__ import annotations

import asyncio
import math
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from dialer.gateway import (
    AgentLeg,
    Answered,
    AnswerKind,
    Busy,
    CallEvent,
    CallGone,
    Dtmf,
    EventSink,
    Failed,
    GatewayError,
    GatewayUnavailable,
    Hangup,
    HangupBy,
    NoAnswer,
    OriginateRequest,
    Recording,
    Ringing,
)
from dialer.sim.model import CallOutcome, CallScript
from dialer.telephony.sim_conference import SimConferencing
from dialer.telephony.sim_inbound import SimInbound
from dialer.telephony.sim_monitor import SimMonitoring
from dialer.telephony.sim_params import SimGatewayParams
from dialer.timer import Timer, TimerHandle


@dataclass(slots=True)
class _Call:
    request: OriginateRequest
    script: CallScript
    truth: AnswerKind | None  # what really answers (None: nobody)
    on_event: EventSink
    handles: list[TimerHandle] = field(default_factory=list)
    answered: AnswerKind | None = None
    bridged: bool = False
    playing: Callable[[bool], None] | None = None
    recording_since: float | None = None  # the switch records from this time
    beep_at: float | None = None  # when this machine's beep ends (None: it never beeps)
    beep_wait: asyncio.Future[bool] | None = None
    presses: bool = False  # the callee will press the opt-out key during a message


class SimulatedGateway(SimMonitoring, SimInbound, SimConferencing):
    """A seeded stochastic switch (see the module docstring)."""

    name = "sim"

    def __init__(
        self,
        timer: Timer,
        params: SimGatewayParams | None = None,
        *,
        seed: int | None = None,
    ) -> None:
        self.timer = timer
        self.params = params or SimGatewayParams()
        self._rng = random.Random(seed)
        self._errors = random.Random(None if seed is None else seed + 1)
        self._carriers = random.Random(None if seed is None else seed + 2)
        self._beeps = random.Random(None if seed is None else seed + 3)
        self._keys = random.Random(None if seed is None else seed + 4)
        self._calls: dict[str, _Call] = {}
        self._t0 = timer.now()
        self._recorded: dict[str, float] = {}  # call id → seconds recorded (until taken)
        self.originated = 0
        self.peak_calls = 0
        self.outage: str | None = None  # fault injection: see ``set_outage``
        self.refused = 0
        self._init_monitoring()
        self._conf_init()

    @property
    def calls_up(self) -> int:
        """Calls currently on the switch (ringing, answered or talking)."""
        return len(self._calls)

    def set_outage(self, reason: str | None) -> None:
        """Fault injection: while ``reason`` is set, ``originate`` raises ``GatewayUnavailable``
        as an adapter does while its switch is down or unreachable (calls already up go
        on). ``None`` ends the outage."""
        self.outage = reason

    # -- protocol ---------------------------------------------------------------------
    async def originate(self, request: OriginateRequest, on_event: EventSink) -> None:
        if self.outage is not None:
            self.refused += 1
            raise GatewayUnavailable(self.outage)
        if request.call_id in self._calls:
            raise GatewayError(f"call id {request.call_id} is already in use")
        script = self.params.callee.sample(self._rng, self.timer.now() - self._t0)
        u_amd, u_fax = self._errors.random(), self._errors.random()
        truth = _truth(script.outcome, u_fax < self.params.fax_share)
        call = _Call(request, script, truth, on_event)
        self._calls[request.call_id] = call
        self.originated += 1
        self.peak_calls = max(self.peak_calls, len(self._calls))
        refusal = self._carrier(call)
        if refusal is not None:
            self._at(call, 0.3, lambda: self._failed(call, refusal))
            return
        self._plan(call, u_amd)

    def _carrier(self, call: _Call) -> str | None:
        """What the network does before the callee: a number that does not exist; a caller
        ID flagged as spam, whose calls are often blocked and, when not, seldom answered."""
        p = self.params
        if not p.number_exists(call.request.phone_e164):
            return "unallocated"
        if p.flagged_caller_share and p.caller_flagged(call.request.caller_id):
            if self._carriers.random() < p.flagged_block_share:
                return "unwanted"
            if call.truth == "human" and self._carriers.random() >= p.flagged_answer_factor:
                call.truth = None  # they see "Spam likely" and let it ring
        return None

    async def bridge(self, call_id: str, agent: AgentLeg) -> None:
        call = self._live(call_id)
        if call.answered is None or call.bridged:
            raise GatewayError(f"call {call_id} is not waiting for an agent")
        call.bridged = True
        if not agent.record:  # the recording notice was not played: nothing is kept
            call.recording_since = None
        elif call.request.record == "connected":
            call.recording_since = self.timer.now()
        self._cancel(call)
        if call.truth == "human":
            by: HangupBy = "callee" if self._errors.random() < 0.6 else "agent"
            self._at(call, call.script.talk_s, lambda: self._end(call, by))
        else:  # the agent hears a greeting or a fax tone and hangs up
            self._at(call, self.params.machine_talk_s, lambda: self._end(call, "agent"))

    async def wait_for_beep(self, call_id: str, timeout_s: float) -> bool:
        """Until the machine's beep has ended (True), or ``timeout_s`` without one (False:
        a human, a fax, a beepless machine, or a beep later than that)."""
        call = self._live(call_id)
        if call.answered is None:
            raise GatewayError(f"call {call_id} has not been answered")
        wait = None if call.beep_at is None else max(0.0, call.beep_at - self.timer.now())
        heard = wait is not None and wait <= timeout_s
        done = call.beep_wait = asyncio.get_running_loop().create_future()
        self.timer.call_later(
            wait if wait is not None and heard else timeout_s,
            lambda: None if done.done() else done.set_result(heard),
        )
        return await done

    async def play(self, call_id: str, message: str) -> bool:
        call = self._live(call_id)
        if call.answered is None:
            raise GatewayError(f"call {call_id} has not been answered")
        self._cancel(call)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def finished(completed: bool) -> None:
            call.playing = None
            if not future.done():
                future.set_result(completed)

        call.playing = finished
        length = self.params.message_s(message)
        self._at(call, length, lambda: finished(True))
        if call.presses:  # halfway through the first message they hear
            call.presses = False
            self._at(call, length / 2, lambda: self._press(call, self.params.opt_out_digit))
        return bool(await future)

    async def hangup(self, call_id: str) -> None:
        call = self._calls.get(call_id)
        if call is None:
            return
        self._end(call, "dialer", deliver_later=True)

    async def take_recording(self, call_id: str) -> Recording | None:
        """A generated WAV (a quiet tone) as long as the recorded part of the call, at most
        ``SIM_RECORDING_MAX_S``."""
        seconds = self._recorded.pop(call_id, None)
        if seconds is None:
            return None
        seconds = min(max(seconds, 0.1), SIM_RECORDING_MAX_S)
        return Recording(tone_wav(seconds), round(seconds, 3))

    async def close(self) -> None:
        for call in list(self._calls.values()):
            self._end(call, "dialer", cause="shutdown")

    # -- the call's script ----------------------------------------------------------------
    def _plan(self, call: _Call, u_amd: float) -> None:
        p, script, req = self.params, call.script, call.request
        outcome = script.outcome
        if outcome is CallOutcome.BUSY:
            self._at(call, script.resolve_s, lambda: self._final(call, Busy))
            return
        if outcome is CallOutcome.FAILED:
            self._at(call, script.resolve_s, lambda: self._failed(call, "congestion"))
            return
        self._at(call, min(p.ringing_after_s, script.resolve_s), lambda: self._emit_ringing(call))
        if call.truth is None or script.resolve_s >= req.ring_timeout_s:
            self._at(call, req.ring_timeout_s, lambda: self._final(call, NoAnswer))
            return
        verdict, delay = self._verdict(call, u_amd)
        self._at(call, script.resolve_s + delay, lambda: self._answer(call, verdict))

    def _verdict(self, call: _Call, u: float) -> tuple[AnswerKind, float]:
        """What AMD reports and how long after the answer (no AMD: always 'human', at once)."""
        p, truth = self.params, call.truth
        if not call.request.amd:
            return "human", 0.0
        if truth == "human":
            return ("machine", call.script.amd_s) if u < p.amd_false_machine else ("human", 0.0)
        if u < p.amd_false_human:
            return "human", call.script.amd_s
        assert truth is not None
        return truth, call.script.amd_s

    def _answer(self, call: _Call, verdict: AnswerKind) -> None:
        call.answered = verdict
        if call.request.record == "all":
            call.recording_since = self.timer.now()
        self._emit(call, Answered(call.request.call_id, self.timer.now(), verdict))
        if call.truth == "human" and verdict == "human":
            call.presses = self._keys.random() < self.params.opt_out_share
            patience = call.script.patience_s
            if math.isfinite(patience):
                self._at(call, patience, lambda: self._end(call, "callee", cause="waited"))
        else:  # a machine records until it gives up; a fax keeps whistling
            self._at(call, self.params.machine_greeting_s, lambda: self._end(call, "callee"))
            if call.truth == "machine" and self._beeps.random() >= self.params.beepless_share:
                beep = self.params.machine_beep_s * (0.5 + self._beeps.random())
                call.beep_at = self.timer.now() + beep

    # -- plumbing -------------------------------------------------------------------------
    def _live(self, call_id: str) -> _Call:
        call = self._calls.get(call_id)
        if call is None:
            raise CallGone(f"call {call_id} has ended")
        return call

    def _at(self, call: _Call, delay: float, action: Callable[[], None]) -> None:
        call.handles.append(self.timer.call_later(delay, action))

    def _cancel(self, call: _Call) -> None:
        for handle in call.handles:
            handle.cancel()
        call.handles.clear()

    def _emit(self, call: _Call, event: CallEvent) -> None:
        call.on_event(event)

    def _press(self, call: _Call, digit: str) -> None:
        if self._calls.get(call.request.call_id) is call:
            self._emit(call, Dtmf(call.request.call_id, self.timer.now(), digit))

    def _emit_ringing(self, call: _Call) -> None:
        self._emit(call, Ringing(call.request.call_id, self.timer.now()))

    def _final(self, call: _Call, kind: type[Busy] | type[NoAnswer]) -> None:
        self._drop(call)
        self._emit(call, kind(call.request.call_id, self.timer.now()))

    def _failed(self, call: _Call, reason: str) -> None:
        self._drop(call)
        self._emit(call, Failed(call.request.call_id, self.timer.now(), reason))

    def _drop(self, call: _Call) -> None:
        self._cancel(call)
        self._calls.pop(call.request.call_id, None)
        self._monitored_call_ended(call.request.call_id)
        self._drop_leg_of(call.request.call_id)
        if call.recording_since is not None:
            self._recorded[call.request.call_id] = self.timer.now() - call.recording_since
        if call.playing is not None:
            call.playing(False)
        if call.beep_wait is not None and not call.beep_wait.done():
            call.beep_wait.set_result(False)
        self._call_back_later(call)

    def _end(
        self, call: _Call, by: HangupBy, *, cause: str = "normal", deliver_later: bool = False
    ) -> None:
        if self._calls.get(call.request.call_id) is not call:
            return
        self._drop(call)
        event = Hangup(call.request.call_id, self.timer.now(), by, cause)
        if deliver_later:
            self.timer.call_later(0.0, lambda: self._emit(call, event))
        else:
            self._emit(call, event)


def _truth(outcome: CallOutcome, fax: bool) -> AnswerKind | None:
    if outcome is CallOutcome.HUMAN:
        return "human"
    if outcome is CallOutcome.MACHINE:
        return "fax" if fax else "machine"
    return None


SIM_RECORDING_MAX_S = 30.0


def tone_wav(seconds: float, rate: int = 8000) -> bytes:
    """A mono 8-bit PCM WAV of a quiet 440 Hz tone lasting ``seconds``."""
    count = int(seconds * rate)
    period = [int(128 + 20 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(rate // 40)]
    frames = bytes(period[i % len(period)] for i in range(count))
    header = b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVEfmt "
    header += struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
    return header + b"data" + struct.pack("<I", len(frames)) + frames
