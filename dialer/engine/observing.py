"""Pacing events, metrics and the abandon tally from the steps of a runner's outbound calls
(``CallFlow`` hands each step here; callbacks and transfer legs are not dials)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dialer import metrics
from dialer.engine import calls as fsm
from dialer.engine.livecall import LiveCall
from dialer.pacing.base import (
    Abandoned,
    AnsweredHuman,
    AnsweredMachine,
    CallEnded,
    Connected,
    Unanswered,
)

if TYPE_CHECKING:
    from dialer.engine.callflow import CallFlow

_UNANSWERED_OUTCOME = {"busy": "busy", "no_answer": "no_answer", "failed": "failed"}


def observe_step(flow: CallFlow, call: LiveCall, step: fsm.CallStep, t: float) -> None:
    """What one step of an outbound call tells the pacer, the abandon tally and the metrics."""
    cid = str(flow.campaign().id)
    event, source = step.event, step.source
    observe = flow.pacing.observe
    if source in ("dialing", "ringing") and event in ("human", "machine", "voicemail", "fax"):
        answer = "machine" if event == "voicemail" else event
        call.answer, call.answered_t, call.answered_at = answer, t, flow.clock.now()
        if call.watchdog is not None:
            call.watchdog.cancel()
        if event == "human":
            observe(AnsweredHuman(t, call.since_dial(t)))
            flow.budget.human_answered()
            metrics.HUMAN_ANSWERS.labels(cid).inc()
            metrics.CALLER_ID_ANSWERS.labels(cid, call.caller_id).inc()
        else:
            observe(AnsweredMachine(t, call.since_dial(t), 0.0))
    elif source in ("dialing", "ringing") and step.ended:
        outcome = _UNANSWERED_OUTCOME.get(
            step.outcome or "", "no_answer" if event == "hangup" else "failed"
        )
        observe(Unanswered(t, outcome, call.since_dial(t)))  # type: ignore[arg-type]
    elif event == "deadline" and step.target == "abandoning":
        call.dropped_t = t
        observe(Abandoned(t, call.waited(t)))
        flow.budget.abandoned()
        metrics.ABANDONS.labels(cid).inc()
    elif event == "hangup" and source in ("waiting", "connecting"):
        observe(Abandoned(t, call.waited(t)))  # the callee gave up waiting
    elif event == "bridged":
        flow.cancel_deadline(call)
        call.connected_t = t
        observe(Connected(t, call.waited(t)))
        metrics.CONNECTS.labels(cid).inc()
        metrics.WAIT_TO_CONNECT.labels(cid).observe(call.waited(t))
    elif event == "hangup" and source == "connected":
        talk = t - (call.connected_t or t)
        observe(CallEnded(t, talk))
        metrics.TALK_SECONDS.labels(cid).observe(talk)
