"""Supervisor monitoring on FreeSWITCH: ``eavesdrop`` on the callee's channel, whisper and
barge by the eavesdrop's own DTMF controls, and a supervisor hung up when the call ends
(against the fake FreeSWITCH, which mixes as mod_dptools and switch_ivr_async.c do)."""

from __future__ import annotations

import dataclasses
from typing import cast

import pytest

from dialer.gateway import AgentLeg, CallGone, GatewayError, MonitorEnded
from dialer.telephony.esl import EslGateway, agent_uuid
from tests.fakes.contract import LiveHarness
from tests.fakes.esl_server import FakeFreeSwitch


def _gw(h: LiveHarness) -> EslGateway:
    return cast(EslGateway, h.gateway)


async def _talking(h: LiveHarness, fake: FakeFreeSwitch) -> str:
    call_id = await h.answered_human()
    leg = fake.legs[call_id]
    leg.script = dataclasses.replace(leg.script, talk_s=1e9)
    await h.gateway.bridge(call_id, AgentLeg(7, "user/1007"))
    return call_id


async def test_listen_whisper_barge_then_stop(esl: LiveHarness, freeswitch: FakeFreeSwitch) -> None:
    call_id = await _talking(esl, freeswitch)
    agent = agent_uuid(call_id)
    ended: list[MonitorEnded] = []
    mid = await _gw(esl).monitor(call_id, "user/2001", "listen", ended.append)
    sup = freeswitch.legs[mid]
    assert sup.endpoint == "user/2001" and sup.app_args == f"&eavesdrop({call_id})"
    await esl.until(lambda: mid in freeswitch.eavesdrops)
    assert freeswitch.eavesdrops[mid].target == call_id
    assert freeswitch.hearing(mid) == set()  # listening: nobody hears the supervisor

    await _gw(esl).change_mode(mid, "whisper")
    assert freeswitch.hearing(mid) == {agent}  # only the agent
    await _gw(esl).change_mode(mid, "barge")
    assert freeswitch.hearing(mid) == {agent, call_id}
    await _gw(esl).change_mode(mid, "listen")
    assert freeswitch.hearing(mid) == set()

    await _gw(esl).stop_monitor(mid)
    await esl.until(lambda: mid not in freeswitch.legs)
    assert [e.reason for e in ended] == ["stopped"]
    assert call_id in freeswitch.legs  # the call goes on
    await esl.gateway.hangup(call_id)
    await esl.ended(call_id)


async def test_a_whisper_session_starts_whispering(
    esl: LiveHarness, freeswitch: FakeFreeSwitch
) -> None:
    call_id = await _talking(esl, freeswitch)
    mid = await _gw(esl).monitor(call_id, "user/2001", "whisper", lambda _: None)
    await esl.until(lambda: mid in freeswitch.eavesdrops)
    assert freeswitch.hearing(mid) == {agent_uuid(call_id)}
    await esl.gateway.hangup(call_id)
    await esl.ended(call_id)


async def test_the_supervisor_is_hung_up_when_the_call_ends(
    esl: LiveHarness, freeswitch: FakeFreeSwitch
) -> None:
    call_id = await _talking(esl, freeswitch)
    ended: list[MonitorEnded] = []
    mid = await _gw(esl).monitor(call_id, "user/2001", "barge", ended.append)
    freeswitch.hangup_far(call_id)
    await esl.ended(call_id)
    await esl.until(lambda: bool(ended) and mid not in freeswitch.legs)
    assert [e.reason for e in ended] == ["call_ended"]
    with pytest.raises(CallGone):
        await _gw(esl).change_mode(mid, "listen")


async def test_the_supervisor_hanging_up_ends_the_session_only(
    esl: LiveHarness, freeswitch: FakeFreeSwitch
) -> None:
    call_id = await _talking(esl, freeswitch)
    ended: list[MonitorEnded] = []
    mid = await _gw(esl).monitor(call_id, "user/2001", "listen", ended.append)
    freeswitch.hangup_far(mid)
    await esl.until(lambda: bool(ended))
    assert [e.reason for e in ended] == ["supervisor"] and call_id in freeswitch.legs
    await esl.gateway.hangup(call_id)
    await esl.ended(call_id)


async def test_a_phone_that_does_not_answer_or_a_call_not_bridged_is_refused(
    esl: LiveHarness, freeswitch: FakeFreeSwitch
) -> None:
    call_id = await esl.answered_human()
    with pytest.raises(GatewayError, match="not connected"):
        await _gw(esl).monitor(call_id, "user/2001", "listen", print)
    leg = freeswitch.legs[call_id]
    leg.script = dataclasses.replace(leg.script, talk_s=1e9)
    await esl.gateway.bridge(call_id, AgentLeg(7, "user/1007"))
    with pytest.raises(GatewayError, match="did not answer"):
        await _gw(esl).monitor(call_id, "user/noanswer", "listen", print)
    assert _gw(esl).monitors == {} and freeswitch.eavesdrops == {}
    await esl.gateway.hangup(call_id)
    await esl.ended(call_id)
