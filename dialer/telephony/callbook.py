"""The calls a switch adapter has placed, and the one place their events are emitted.

ARI and ESL report a call in many small pieces (state changes, dialplan steps, variables,
hangups of two legs, reconnections). Whatever order they arrive in, the engine must hear
the per-call contract of ``dialer.gateway``: at most one ``Ringing`` before the
answer, at most one ``Answered``, exactly one final event and nothing after it. Both
adapters record what they learn on a ``SwitchCall`` and let ``CallBook`` decide what, if
anything, the engine hears.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from dialer.gateway import (
    Answered,
    AnswerKind,
    CallEvent,
    CallGone,
    Dtmf,
    EventSink,
    Failed,
    GatewayError,
    Hangup,
    HangupBy,
    NoAnswer,
    OriginateRequest,
    Ringing,
)
from dialer.telephony.causes import cause_label, hangup_party, unanswered_event
from dialer.timer import Timer, TimerHandle

log = logging.getLogger(__name__)

RING_SLACK_S = 0.5  # a call ending this close to its ring timeout has rung out
AMD_VERDICT_S = 15.0  # an answer with no AMD verdict by then counts as human


@dataclass(eq=False)
class SwitchCall:
    """What an adapter knows of one originated call (the callee leg and its agent leg)."""

    request: OriginateRequest
    on_event: EventSink
    started_t: float
    rang: bool = False
    up: bool = False  # the switch says someone picked up (AMD may still be listening)
    answered: AnswerKind | None = None  # what the engine was told
    amd_status: str | None = None
    amd_watch: TimerHandle | None = None
    stage: str = ""  # the adapter's last handled step of the call (e.g. a Stasis argument)
    hangup_requested: bool = False
    agent_leg: str | None = None
    agent_wait: asyncio.Future[None] | None = None
    agent_left: bool = False  # the agent hung up first
    bridge_id: str | None = None
    bridged: bool = False
    plays: dict[str, asyncio.Future[bool]] = field(default_factory=dict)
    beep: asyncio.Future[bool] | None = None  # waiting for a machine's beep (voicemail drop)
    beeped: bool = False  # the switch heard the beep
    ended: bool = False

    @property
    def call_id(self) -> str:
        return self.request.call_id


class CallBook:
    """Live calls by call id, and the contract-keeping emission of their events."""

    def __init__(self, timer: Timer) -> None:
        self.timer = timer
        self.calls: dict[str, SwitchCall] = {}
        # called once the engine has been told a call is answered (recording starts there)
        self.on_answer: Callable[[SwitchCall], None] | None = None

    def __len__(self) -> int:
        return len(self.calls)

    # -- lookup ---------------------------------------------------------------------------
    def add(self, request: OriginateRequest, on_event: EventSink) -> SwitchCall:
        if request.call_id in self.calls:
            raise GatewayError(f"call id {request.call_id} is already in use")
        call = SwitchCall(request, on_event, self.timer.now())
        self.calls[request.call_id] = call
        return call

    def discard(self, call: SwitchCall) -> None:
        """Forget a call the switch refused to place (the engine hears a GatewayError)."""
        if self.calls.get(call.call_id) is call:
            del self.calls[call.call_id]
        call.ended = True

    def get(self, call_id: str) -> SwitchCall | None:
        return self.calls.get(call_id)

    def live(self, call_id: str) -> SwitchCall:
        call = self.calls.get(call_id)
        if call is None:
            raise CallGone(f"call {call_id} has ended")
        return call

    def answered(self, call_id: str) -> SwitchCall:
        """A live call the engine was told is answered (what ``bridge``/``play`` need)."""
        call = self.live(call_id)
        if call.answered is None:
            raise GatewayError(f"call {call_id} has not been answered")
        return call

    # -- progress -------------------------------------------------------------------------
    def ring(self, call: SwitchCall) -> None:
        if call.ended or call.rang or call.answered is not None:
            return
        call.rang = True
        self._emit(call, Ringing(call.call_id, self.timer.now()))

    def await_verdict(self, call: SwitchCall, timeout_s: float = AMD_VERDICT_S) -> None:
        """AMD is listening to an answered call: if no verdict comes within ``timeout_s``
        (a detector missing from the dialplan), the answer counts as human."""
        if call.amd_watch is None and not call.ended:
            call.amd_watch = self.timer.call_later(
                timeout_s, lambda: self._no_verdict(call, timeout_s)
            )

    def _no_verdict(self, call: SwitchCall, timeout_s: float) -> None:
        if not call.ended and call.answered is None:
            log.warning(
                "no AMD verdict %.0f s after the answer: is the AMD step in the dialplan? "
                "(counted as human)",
                timeout_s,
                extra={"call_id": call.call_id},
            )
            self.answer(call, "human")

    def answer(self, call: SwitchCall, kind: AnswerKind) -> None:
        call.up = True
        if call.amd_watch is not None:
            call.amd_watch.cancel()
        if call.ended or call.answered is not None or call.hangup_requested:
            return
        call.answered = kind
        self._emit(call, Answered(call.call_id, self.timer.now(), kind))
        if self.on_answer is not None:
            self.on_answer(call)

    # -- endings --------------------------------------------------------------------------
    def end(self, call: SwitchCall, code: int, sip: int | None = None) -> None:
        """The callee's channel is gone with cause ``code`` (and SIP final response ``sip``,
        when the switch says): emit the one final event."""
        if call.ended:
            return
        t = self.timer.now()
        event: CallEvent
        if call.hangup_requested:
            event = Hangup(call.call_id, t, "dialer", cause_label(code))
        elif call.answered is not None:
            by: HangupBy = "agent" if call.agent_left else hangup_party(code)
            event = Hangup(call.call_id, t, by, cause_label(code))
        elif call.up:
            # Picked up, then gone before AMD had a verdict: to the engine, nobody took it.
            event = NoAnswer(call.call_id, t)
        else:
            rang_out = t - call.started_t >= call.request.ring_timeout_s - RING_SLACK_S
            event = unanswered_event(
                call.call_id, t, code, rang=call.rang, rang_out=rang_out, sip=sip
            )
        self._finish(call, event)

    def fail(self, call: SwitchCall, reason: str) -> None:
        """The switch could not place or keep the call for ``reason`` (not the callee's
        doing): an unanswered call fails with it; an answered one is hung up by the network."""
        if call.ended:
            return
        t = self.timer.now()
        event: CallEvent
        if call.answered is not None:
            event = Hangup(call.call_id, t, "network", reason)
        else:
            event = Failed(call.call_id, t, reason)
        self._finish(call, event)

    def lose(self, call: SwitchCall, cause: str = "lost") -> None:
        """The switch no longer knows the call (it restarted, or we missed its end)."""
        if call.ended:
            return
        t = self.timer.now()
        event: CallEvent
        if call.hangup_requested:
            event = Hangup(call.call_id, t, "dialer", cause)
        elif call.answered is not None:
            event = Hangup(call.call_id, t, "network", cause)
        else:
            event = Failed(call.call_id, t, cause)
        self._finish(call, event)

    def dtmf(self, call: SwitchCall, digit: str) -> None:
        """The callee pressed ``digit``: reported only on an answered call still up."""
        if call.answered is not None and not call.ended and digit:
            self._emit(call, Dtmf(call.call_id, self.timer.now(), digit))

    def shut(self, call: SwitchCall) -> None:
        """The gateway closes: the call is hung up by the dialer."""
        if not call.ended:
            self._finish(call, Hangup(call.call_id, self.timer.now(), "dialer", "shutdown"))

    def _finish(self, call: SwitchCall, event: CallEvent) -> None:
        call.ended = True
        if call.amd_watch is not None:
            call.amd_watch.cancel()
        if self.calls.get(call.call_id) is call:
            del self.calls[call.call_id]
        for future in [*call.plays.values(), call.beep]:
            if future is not None and not future.done():
                future.set_result(False)
        if call.agent_wait is not None and not call.agent_wait.done():
            call.agent_wait.set_exception(CallGone(f"call {call.call_id} has ended"))
        self._emit(call, event)

    def _emit(self, call: SwitchCall, event: CallEvent) -> None:
        try:
            call.on_event(event)
        except Exception:  # the engine's bug must not stop the switch connection
            log.exception("event sink failed", extra={"call_id": call.call_id})
