"""Callbacks in the call flow, in virtual time: an inbound call goes at once to a free
blended agent (never to an outbound-only one), else hears the callback message with the
opt-out; it teaches the pacer only that an agent talks, never counts in the abandon budget
and never changes the lead's plan."""

from __future__ import annotations

from typing import Any

from dialer.engine.inbound import CALLBACK_MESSAGE, caller_lead
from dialer.engine.livecall import LiveCall
from dialer.engine.optout import OPT_OUT_PROMPT
from dialer.pacing.base import AnsweredHuman, CallEnded, Connected
from tests.unit.engine.test_callflow import Harness, campaign


def _callback(h: Harness, n: int = 1) -> LiveCall:
    call = LiveCall(
        call_id=f"in{n}",
        lead=caller_lead(f"+1415555{n:04d}"),
        attempt_id=500 + n,
        started_at=h.clock.now(),
        mode="inbound",
        dialed_t=h.timer.now(),
        inbound=True,
        dialed="+14155550100",
    )
    call.opt_out = {"callback": "inbound"}
    h.flow.add(call)
    h.flow.advance(call, "human")  # answered by the engine (engine.inbound.take_call)
    return call


def _blend(h: Harness, agent_id: int) -> None:
    row: dict[str, Any] = {"id": agent_id, "name": f"a{agent_id}", "endpoint": None}
    h.view.load_one({**row, "state": "available", "blended": True}, h.timer.now())


async def test_a_callback_goes_to_the_free_blended_agent_at_once() -> None:
    h = Harness(campaign(), agents=1)  # agent 1: outbound only, free the longest
    await h.timer.advance(1)
    _blend(h, 2)
    call = _callback(h)
    await h.timer.advance(0)
    assert h.gateway.bridged == [("in1", 2)] and call.state == "connected"
    await h.timer.advance(30)
    h.hangup(call)
    record, release = h.records[-1]
    assert record.outcome == "completed" and record.plan is None and record.wrap_agent
    assert record.talk_s == 30.0 and not release
    assert [type(e) for e in h.pacing.events] == [Connected, CallEnded]  # no answer, no dial
    assert h.budget.counts("24h") == (0, 0)


async def test_with_no_blended_agent_free_the_callback_hears_the_message_and_the_opt_out() -> None:
    h = Harness(campaign(), agents=1)  # a free agent, but outbound only
    call = _callback(h)
    for _ in range(20):  # the message (4 s), the prompt (4 s), the wait for the key (5 s)
        await h.timer.advance(1)
    assert [m for _, m, _ in h.gateway.played] == [CALLBACK_MESSAGE, OPT_OUT_PROMPT]
    assert not h.gateway.bridged and h.gateway.hung_up == ["in1"]
    record, _ = h.records[-1]
    assert record.outcome == "completed" and record.plan is None
    assert not any(isinstance(e, AnsweredHuman) for e in h.pacing.events)
    assert h.budget.counts("24h") == (0, 0)
    assert call.state == "ended"


async def test_a_callback_that_hangs_up_during_the_message_is_no_abandon() -> None:
    h = Harness(campaign())
    call = _callback(h)
    await h.timer.advance(1)
    h.hangup(call)
    await h.timer.advance(10)
    record, _ = h.records[-1]
    assert record.outcome == "human" and record.plan is None
    assert h.budget.counts("24h") == (0, 0) and not h.pacing.events
