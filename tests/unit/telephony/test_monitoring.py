"""Supervisor monitoring on both switches: listen, whisper and barge, a supervisor who is
hung up when the call ends, and calls that cannot be monitored. Asterisk (against the fake
that answers as res_stasis_snoop and bridges.json say) taps the agent's channel with snoop
channels for listen and whisper and puts the supervisor in the call's bridge to barge;
FreeSWITCH (against the fake that mixes as mod_dptools and switch_ivr_async.c do)
``eavesdrop``s on the callee's channel and switches modes by the eavesdrop's DTMF
controls."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from dialer.gateway import AgentLeg, CallGone, GatewayError, MonitorEnded
from tests.unit.telephony.flow_support import Switch


def _gw(switch: Switch) -> Any:
    """The adapter, with its monitoring methods (``Monitoring``)."""
    return switch.harness.gateway


async def _talking(switch: Switch) -> str:
    """A human call bridged to an agent, who talk until the test ends it."""
    call_id = await switch.harness.answered_human()
    leg = switch.fake.legs[call_id]
    leg.script = dataclasses.replace(leg.script, talk_s=1e9)
    await _gw(switch).bridge(call_id, AgentLeg(7, switch.phone("1007")))
    return call_id


async def test_listen_whisper_barge_then_stop(switch: Switch) -> None:
    h, fake, ari = switch.harness, switch.fake, switch.kind == "ari"
    call_id = await _talking(switch)
    agent = switch.agent_leg(call_id)
    ended: list[MonitorEnded] = []
    mid = await _gw(switch).monitor(call_id, switch.phone("2001"), "listen", ended.append)
    sup = switch.supervisor(mid)
    assert fake.legs[sup].endpoint == switch.phone("2001")
    if ari:  # a snoop channel on the agent's channel, hearing both ways, whispering none
        [(snoop, (spied, spy, whisper))] = fake.snoops.items()
        assert (spied, spy, whisper) == (agent, "both", "none")
        assert fake.legs[snoop].name.startswith(f"Snoop/{call_id}-agent-")
        started = [e for e in fake.sent if e["type"] == "StasisStart"]
        assert any(e["channel"]["id"] == snoop and e["args"] == ["snoop"] for e in started)
    else:  # the supervisor's phone eavesdrops on the callee's channel
        assert fake.legs[sup].app_args == f"&eavesdrop({call_id})"
        await h.until(lambda: mid in fake.eavesdrops)
        assert fake.eavesdrops[mid].target == call_id
    assert fake.hearing(sup) == set()  # listening: nobody hears the supervisor

    await _gw(switch).change_mode(mid, "whisper")
    if ari:
        await h.until(lambda: snoop not in fake.legs)  # a new snoop channel
        [(_, (_, _, whisper))] = fake.snoops.items()
        assert whisper == "out"
    assert fake.hearing(sup) == {agent}  # only the agent

    await _gw(switch).change_mode(mid, "barge")
    if ari:
        await h.until(lambda: not fake.snoops)
        assert fake.legs[sup].bridge == f"{call_id}-bridge"
    assert fake.hearing(sup) == {call_id, agent}

    await _gw(switch).change_mode(mid, "listen")
    assert fake.hearing(sup) == set()
    if ari:
        assert len(fake.snoops) == 1

    await _gw(switch).stop_monitor(mid)
    await h.until(lambda: sup not in fake.legs and not switch.taps())
    assert [e.reason for e in ended] == ["stopped"]
    assert call_id in fake.legs  # the call goes on
    if ari:
        assert fake.spec_errors == []
    await h.gateway.hangup(call_id)
    await h.ended(call_id)


async def test_a_whisper_session_starts_whispering(switch: Switch) -> None:
    h, fake = switch.harness, switch.fake
    call_id = await _talking(switch)
    mid = await _gw(switch).monitor(call_id, switch.phone("2001"), "whisper", lambda _: None)
    await h.until(lambda: bool(switch.taps()))
    assert fake.hearing(switch.supervisor(mid)) == {switch.agent_leg(call_id)}
    await h.gateway.hangup(call_id)
    await h.ended(call_id)


async def test_the_supervisor_is_hung_up_when_the_call_ends(switch: Switch) -> None:
    h, fake = switch.harness, switch.fake
    call_id = await _talking(switch)
    ended: list[MonitorEnded] = []
    mode = "whisper" if switch.kind == "ari" else "barge"
    mid = await _gw(switch).monitor(call_id, switch.phone("2001"), mode, ended.append)
    fake.hangup_far(call_id)  # the callee hangs up
    await h.ended(call_id)
    await h.until(lambda: bool(ended) and switch.supervisor(mid) not in fake.legs)
    assert [e.reason for e in ended] == ["call_ended"]
    assert not switch.taps()
    if switch.kind == "ari":
        assert f"{mid}-bridge" not in fake.bridges
    with pytest.raises(CallGone):
        await _gw(switch).change_mode(mid, "listen")


async def test_the_supervisor_hanging_up_ends_the_session_only(switch: Switch) -> None:
    h, fake = switch.harness, switch.fake
    call_id = await _talking(switch)
    ended: list[MonitorEnded] = []
    mid = await _gw(switch).monitor(call_id, switch.phone("2001"), "listen", ended.append)
    fake.hangup_far(switch.supervisor(mid))
    await h.until(lambda: bool(ended) and not switch.taps())
    assert [e.reason for e in ended] == ["supervisor"]
    assert call_id in fake.legs
    await h.gateway.hangup(call_id)
    await h.ended(call_id)


async def test_a_phone_that_does_not_answer_or_a_call_not_bridged_is_refused(
    switch: Switch,
) -> None:
    h, fake = switch.harness, switch.fake
    call_id = await h.answered_human()
    with pytest.raises(GatewayError, match="not connected"):
        await _gw(switch).monitor(call_id, switch.phone("2001"), "listen", print)
    leg = fake.legs[call_id]
    leg.script = dataclasses.replace(leg.script, talk_s=1e9)
    await h.gateway.bridge(call_id, AgentLeg(7, switch.phone("1007")))
    with pytest.raises(GatewayError, match="did not answer"):
        await _gw(switch).monitor(call_id, switch.phone("noanswer"), "listen", print)
    assert not switch.taps() and _gw(switch).monitors == {}
    with pytest.raises(CallGone):
        await _gw(switch).monitor("no-such-call", switch.phone("2001"), "listen", print)
    await h.gateway.hangup(call_id)
    await h.ended(call_id)
