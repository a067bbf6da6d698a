"""A call in progress, as a runner carries it from the dial to its record."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dialer.engine.model import CampaignConfig, Lead
from dialer.gateway import (
    AgentLeg,
    Answered,
    Busy,
    CallEvent,
    Failed,
    Hangup,
    NoAnswer,
    OriginateRequest,
    Ringing,
)
from dialer.timer import TimerHandle


@dataclass(eq=False)
class LiveCall:
    """One call from its dial to its record."""

    call_id: str
    lead: Lead
    attempt_id: int
    started_at: datetime
    mode: str
    dialed_t: float
    lead_status: str = "retry"  # the lead's status after the dial
    attempts_count: int = 1  # dials of the lead, this one included
    state: str = "dialing"
    answer: str | None = None
    answered_t: float | None = None
    answered_at: datetime | None = None
    connected_t: float | None = None
    dropped_t: float | None = None  # the abandon deadline passed
    agent_id: int | None = None
    reserved_agent: int | None = None  # an agent held for this call before the dial
    agent_taken: bool = False  # the agent row names this call
    deadline_t: float | None = None
    deadline: TimerHandle | None = None
    watchdog: TimerHandle | None = None
    cause: str | None = None
    caller_id: str = ""  # the number presented to the callee
    record: str = "off"  # what the switch records of it (the campaign's ``record``)
    notice: str | None = None  # why the recording notice must play ("campaign" or a rule id)
    notice_played: bool = False
    unrecorded: bool = False  # its required notice was not played: nothing recorded or kept
    voicemail_barred: str | None = None  # the rule that forbids a voicemail drop here
    pending: asyncio.Task[Any] | None = None  # the connect, to finish before the close
    opt_out: dict[str, str] = field(default_factory=dict)  # message kind → why offered
    opt_out_kind: str | None = None  # listening for the opt-out key during this message
    opted_out: bool = False
    key_wait: asyncio.Future[None] | None = None  # the wait for the key after the prompt
    inbound: bool = False  # a callee calling back (``engine.inbound``), not a dial
    dialed: str | None = None  # the campaign's number an inbound call dialed

    @property
    def recorded(self) -> bool:
        """Whether the switch recorded some of the call (``record``: connected / all)."""
        if self.unrecorded:
            return False
        if self.record == "all":
            return self.answered_t is not None
        return self.record == "connected" and self.connected_t is not None

    def since_dial(self, t: float) -> float:
        return max(0.0, t - self.dialed_t)

    def answer_wait(self, t: float) -> float | None:
        """Live answer to agent, to the abandon, or to the callee's hangup."""
        if self.answered_t is None or self.answer != "human":
            return None
        end = next(x for x in (self.connected_t, self.dropped_t, t) if x is not None)
        return max(0.0, end - self.answered_t)

    def waited(self, t: float) -> float:
        return max(0.0, t - (self.answered_t if self.answered_t is not None else t))


def event_name(event: CallEvent) -> tuple[str, str | None]:
    """The state-machine event for a gateway event, and a cause worth recording."""
    if isinstance(event, Ringing):
        return "ringing", None
    if isinstance(event, Answered):
        return event.kind, None
    if isinstance(event, Busy):
        return "busy", "busy"
    if isinstance(event, NoAnswer):
        return "no_answer", "no answer"
    if isinstance(event, Failed):
        return "failed", event.reason
    assert isinstance(event, Hangup)
    return "hangup", f"{event.by}: {event.cause}"


def originate_request(
    call: LiveCall, campaign: CampaignConfig, endpoint: str | None
) -> OriginateRequest:
    """What the gateway is asked to dial for ``call`` (``endpoint``: its reserved agent's)."""
    agent = call.reserved_agent
    return OriginateRequest(
        call_id=call.call_id,
        phone_e164=call.lead.phone_e164,
        caller_id=call.caller_id,
        record=call.record,  # type: ignore[arg-type]
        ring_timeout_s=campaign.ring_timeout_s,
        amd=campaign.amd,
        agent=None if agent is None else AgentLeg(agent, endpoint),
        variables=(
            ("campaign_id", str(campaign.id)),
            ("attempt_id", str(call.attempt_id)),
            ("lead_id", str(call.lead.id)),
        ),
    )
