"""The ``Gateway`` protocol: what the engine asks of a telephony switch, and what it hears back.

The engine never talks to a switch directly. It chooses a call id, asks the gateway to
``originate`` the call with a caller id and a ring timeout, and receives the call's events
through the callback it passed. An adapter (simulated, Asterisk ARI, FreeSWITCH ESL) maps
these few operations and events onto its switch; nothing in the engine changes.

Event contract for one originated call (the contract test in
``tests/unit/telephony/test_gateway_contract.py`` checks it for every implementation):

* zero or one ``Ringing``;
* at most one ``Answered`` (``human``, ``machine`` or ``fax``: the AMD verdict, or
  ``human`` when AMD is off);
* exactly one final event: ``Busy``, ``NoAnswer``, ``Failed`` (never answered) or
  ``Hangup`` (after an answer, or after the engine's own ``hangup``); nothing after it;
* any number of ``Dtmf`` (a key the callee pressed) between ``Answered`` and the final
  event. Switches report keys on answered calls unasked; the engine listens only while it
  offers the in-call opt-out (``engine.optout``).

A call that rings for ``ring_timeout_s`` without an answer ends with ``NoAnswer``; a gateway
must never give up earlier (the legal minimum is enforced by the engine: ≥ 15 s).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

AnswerKind = Literal["human", "machine", "fax"]
HangupBy = Literal["callee", "agent", "dialer", "network"]


class GatewayError(Exception):
    """The gateway could not do what was asked (switch unreachable, bad endpoint, ...)."""


class GatewayUnavailable(GatewayError):
    """The switch cannot be reached (down, restarting, the link reconnecting, no answer in
    time, a 5xx): nothing was attempted. The engine pauses dialing and probes; any other
    ``GatewayError`` from ``originate`` is a refusal of that one call."""


class CallGone(GatewayError):
    """The call has already ended: nothing to bridge, play to or hang up."""


@dataclass(frozen=True, slots=True)
class AgentLeg:
    """Where to bridge an answered call: the agent and its softphone endpoint (if any).

    ``record`` False: the call must not be recorded from here on (its recording notice
    could not be played): a ``connected`` recording is not started and an ``all`` one is
    stopped and discarded (``take_recording`` then has none)."""

    agent_id: int
    endpoint: str | None = None
    record: bool = True


@dataclass(frozen=True, slots=True)
class OriginateRequest:
    """One outbound call as the engine asks for it.

    ``call_id`` is chosen by the engine (stored on the attempt before the dial) so a
    restarted engine can find the call on the switch; adapters pass it as the channel id
    (ARI ``channelId``, ESL ``origination_uuid``). ``variables`` are free-form key/values
    an adapter may set on the channel (campaign, attempt, lead ids).
    """

    call_id: str
    phone_e164: str
    caller_id: str
    ring_timeout_s: float
    amd: bool = True
    variables: tuple[tuple[str, str], ...] = ()
    record: Literal["off", "connected", "all"] = "off"  # from the bridge / from the answer
    agent: AgentLeg | None = None  # the agent already chosen (preview, owned callback)

    def __post_init__(self) -> None:
        if not self.caller_id or not self.caller_id.startswith("+"):
            raise ValueError("a call needs a caller id in E.164 form")
        if not self.phone_e164.startswith("+"):
            raise ValueError("the callee number must be in E.164 form")
        if self.ring_timeout_s < 15:
            raise ValueError("ring timeout must be at least 15 seconds")


@dataclass(frozen=True, slots=True)
class Ringing:
    call_id: str
    t: float


@dataclass(frozen=True, slots=True)
class Answered:
    call_id: str
    t: float
    kind: AnswerKind


@dataclass(frozen=True, slots=True)
class Busy:
    call_id: str
    t: float


@dataclass(frozen=True, slots=True)
class NoAnswer:
    call_id: str
    t: float


@dataclass(frozen=True, slots=True)
class Failed:
    call_id: str
    t: float
    reason: str


# ``Failed.reason`` values the engine acts on (every adapter uses these words):
# the number does not exist (any more): it is retired, never dialed again;
RETIRING_REASONS = frozenset({"unallocated", "number_changed", "invalid_number", "sit"})
# a carrier or the callee rejected the caller ID as a robocall (SIP 607/608, STIR/SHAKEN).
ROBOCALL_REASONS = frozenset({"unwanted", "identity_rejected"})


@dataclass(frozen=True, slots=True)
class Hangup:
    call_id: str
    t: float
    by: HangupBy
    cause: str = "normal"


@dataclass(frozen=True, slots=True)
class Dtmf:
    """The callee pressed a key (``0``-``9``, ``*``, ``#``, ``A``-``D``) on an answered call:
    ARI ``ChannelDtmfReceived``, ESL ``DTMF`` (``DTMF-Digit``)."""

    call_id: str
    t: float
    digit: str


CallEvent = Ringing | Answered | Busy | NoAnswer | Failed | Hangup | Dtmf
FINAL_EVENTS = (Busy, NoAnswer, Failed, Hangup)
EventSink = Callable[[CallEvent], None]


@dataclass(frozen=True, slots=True)
class Recording:
    """A call's recording as the switch made it (WAV)."""

    data: bytes
    duration_s: float
    content_type: str = "audio/wav"


@runtime_checkable
class RecordingSource(Protocol):
    """A gateway that records calls (``OriginateRequest.record``) hands each recording
    over once, after the call's final event."""

    async def take_recording(self, call_id: str) -> Recording | None:
        """The call's recording (None: none was made); the switch's copy is removed."""
        ...


@runtime_checkable
class BeepListener(Protocol):
    """A gateway that can wait for an answering machine's beep before a voicemail drop
    (Asterisk: ``WaitForSilence`` after ``AMD()``; FreeSWITCH: mod_avmd)."""

    async def wait_for_beep(self, call_id: str, timeout_s: float) -> bool:
        """Return once the beep has passed (True), or after ``timeout_s`` (switch seconds)
        without one or when the call ended (False)."""
        ...


@runtime_checkable
class Gateway(Protocol):
    """A telephony switch as the engine uses it. ``t`` in events is the gateway's
    ``Timer.now()`` (seconds; sped up in simulation)."""

    name: str

    async def originate(self, request: OriginateRequest, on_event: EventSink) -> None:
        """Place the call; its events go to ``on_event`` (called on the event loop, must
        not block). Raises ``GatewayError`` if the call could not even be attempted."""
        ...

    async def bridge(self, call_id: str, agent: AgentLeg) -> None:
        """Connect an answered call to an agent. ``CallGone`` if it already ended."""
        ...

    async def play(self, call_id: str, message: str) -> bool:
        """Play ``message`` (text or sound URI) on an answered call; return when it has
        finished (True) or the callee hung up during it (False)."""
        ...

    async def hangup(self, call_id: str) -> None:
        """End the call (idempotent); a ``Hangup(by="dialer")`` follows unless it had
        already ended."""
        ...

    async def close(self) -> None:
        """Release the switch connection; calls still up are hung up."""
        ...


# -- Supervisor monitoring (listen / whisper / barge) ----------------------------------------

MonitorMode = Literal["listen", "whisper", "barge"]
MONITOR_MODES: tuple[MonitorMode, ...] = ("listen", "whisper", "barge")


@dataclass(frozen=True, slots=True)
class MonitorEnded:
    """A supervisor's monitor session ended: ``call_ended`` (the monitored call hung up),
    ``supervisor`` (the supervisor's phone hung up) or ``stopped`` (``stop_monitor``)."""

    monitor_id: str
    call_id: str
    t: float
    reason: str


MonitorSink = Callable[[MonitorEnded], None]


@runtime_checkable
class Monitoring(Protocol):
    """A gateway on which a supervisor can listen to a connected call (the callee and the
    agent both heard, neither hears the supervisor), whisper (only the agent hears the
    supervisor) or barge in (everybody hears everybody). Asterisk: a snoop channel on the
    agent's side (``spy``/``whisper`` directions) bridged with the supervisor's phone, barge
    by adding the phone to the call's bridge; FreeSWITCH: ``eavesdrop`` with its whisper
    and three-way controls. A session ends by itself when the call ends."""

    async def monitor(
        self, call_id: str, endpoint: str, mode: MonitorMode, on_end: MonitorSink
    ) -> str:
        """Ring ``endpoint`` (the supervisor's phone) into the call; return the session id.
        ``CallGone``: the call has ended; ``GatewayError``: not connected to an agent, or
        the endpoint could not be reached."""
        ...

    async def change_mode(self, monitor_id: str, mode: MonitorMode) -> None:
        """Switch a running session to ``mode``. ``CallGone``: the session has ended."""
        ...

    async def stop_monitor(self, monitor_id: str) -> None:
        """End a session (idempotent): the supervisor's phone is hung up."""
        ...


# -- Inbound calls (callbacks from callees) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Inbound:
    """A call arriving at the switch: ``caller`` (the callee calling back) dialed one of the
    campaigns' numbers ``dialed`` (both E.164). Not answered yet: the engine ``answer``s it
    (or ``hangup``s it); until then the caller hears ringing and may give up."""

    call_id: str
    t: float
    caller: str
    dialed: str


InboundHandler = Callable[[Inbound], None]


@runtime_checkable
class InboundSource(Protocol):
    """A gateway that reports inbound calls (ARI: a ``StasisStart`` of a channel the dialer
    did not originate; ESL: ``CHANNEL_PARK`` of an inbound leg parked to the dialer).

    After ``answer`` the call takes the events of an answered call (``Hangup``, ``Dtmf``)
    and the usual ``bridge`` / ``play`` / ``hangup`` by its ``call_id``."""

    def on_inbound(self, handler: InboundHandler) -> None:
        """Where inbound calls go from now on (called on the event loop, must not block);
        one handler per gateway, the last one set wins. Without one, inbound calls are
        left to the switch (ring out)."""
        ...

    async def answer(self, call_id: str, on_event: EventSink) -> None:
        """Answer an inbound call; its events go to ``on_event`` from now on. ``CallGone``
        if the caller already hung up."""
        ...


# -- transfers and conferences (engine.transfer) ----------------------------------------------
@dataclass(frozen=True, slots=True)
class LegRequest:
    """A second leg of an answered call: an agent's endpoint or an outside number.

    ``leg_id`` is chosen by the engine (the leg attempt's ``gateway_call_id``); the leg's
    events go to the sink given with it and follow the originate contract (``Ringing``,
    ``Answered``, one final event). Once answered it is in the call's bridge with the
    agent (and the callee, unless on hold): a consultation, a conference, a transfer."""

    call_id: str
    leg_id: str
    caller_id: str
    ring_timeout_s: float
    agent: AgentLeg | None = None
    phone_e164: str | None = None

    def __post_init__(self) -> None:
        if (self.agent is None) == (self.phone_e164 is None):
            raise ValueError("a leg goes to an agent or to a number")
        if self.phone_e164 is not None and not self.phone_e164.startswith("+"):
            raise ValueError("the leg's number must be in E.164 form")


@runtime_checkable
class Conferencing(Protocol):
    """A gateway that holds more than two parties on a call: the callee, the first agent
    and one more leg (Asterisk: mixing + holding bridges; FreeSWITCH: ``conference``,
    ``uuid_transfer``/``uuid_bridge``, ``uuid_broadcast`` of music on hold)."""

    async def hold(self, call_id: str) -> None:
        """The callee hears music on hold, out of the conversation (the others stay)."""
        ...

    async def unhold(self, call_id: str) -> None:
        """The callee is back in the conversation with whoever is on the call."""
        ...

    async def add_leg(self, request: LegRequest, on_event: EventSink) -> None:
        """Dial a second leg for an answered call (``CallGone`` if the call ended)."""
        ...

    async def drop_leg(self, call_id: str, leg_id: str) -> None:
        """Hang the leg up (idempotent); the call goes on."""
        ...

    async def drop_agent(self, call_id: str) -> None:
        """Take the call's agent off it (their channel hung up); the callee stays. An
        answered leg becomes the call's agent (a completed transfer: later legs are new
        ones); without one the call can be ``bridge``d to another agent."""
        ...
