"""Supervisor monitoring on Asterisk: snoop channels for listen and whisper, the call's
bridge for barge, and a supervisor who is hung up when the call ends (against the fake
Asterisk, which answers as res_stasis_snoop and bridges.json say)."""

from __future__ import annotations

import dataclasses
from typing import cast

import pytest

from dialer.gateway import AgentLeg, CallGone, GatewayError, MonitorEnded
from dialer.telephony.ari import AriGateway
from tests.fakes.ari_server import FakeAsterisk
from tests.fakes.contract import LiveHarness


def _gw(h: LiveHarness) -> AriGateway:
    return cast(AriGateway, h.gateway)


async def _talking(h: LiveHarness, fake: FakeAsterisk) -> str:
    """A human call bridged to an agent, who talk until the test ends it."""
    call_id = await h.answered_human()
    leg = fake.legs[call_id]
    leg.script = dataclasses.replace(leg.script, talk_s=1e9)
    await h.gateway.bridge(call_id, AgentLeg(7, "PJSIP/1007"))
    return call_id


async def test_listen_whisper_barge_then_stop(ari: LiveHarness, asterisk: FakeAsterisk) -> None:
    call_id = await _talking(ari, asterisk)
    ended: list[MonitorEnded] = []
    gateway = _gw(ari)
    mid = await gateway.monitor(call_id, "PJSIP/2001", "listen", ended.append)
    sup = f"{mid}-sup"
    assert asterisk.legs[sup].endpoint == "PJSIP/2001"
    [(snoop, (spied, spy, whisper))] = asterisk.snoops.items()
    assert (spied, spy, whisper) == (f"{call_id}-agent", "both", "none")
    assert asterisk.legs[snoop].name.startswith(f"Snoop/{call_id}-agent-")
    started = [e for e in asterisk.sent if e["type"] == "StasisStart"]
    assert any(e["channel"]["id"] == snoop and e["args"] == ["snoop"] for e in started)
    assert asterisk.hearing(sup) == set()  # listening: nobody hears the supervisor

    await gateway.change_mode(mid, "whisper")
    await ari.until(lambda: snoop not in asterisk.legs)  # a new snoop channel
    [(_, (_, _, whisper))] = asterisk.snoops.items()
    assert whisper == "out"
    assert asterisk.hearing(sup) == {f"{call_id}-agent"}  # only the agent

    await gateway.change_mode(mid, "barge")
    await ari.until(lambda: not asterisk.snoops)
    assert asterisk.legs[sup].bridge == f"{call_id}-bridge"
    assert asterisk.hearing(sup) == {call_id, f"{call_id}-agent"}

    await gateway.change_mode(mid, "listen")
    assert asterisk.hearing(sup) == set() and len(asterisk.snoops) == 1

    await gateway.stop_monitor(mid)
    await ari.until(lambda: sup not in asterisk.legs and not asterisk.snoops)
    assert [e.reason for e in ended] == ["stopped"]
    assert call_id in asterisk.legs  # the call goes on
    assert asterisk.spec_errors == []
    await gateway.hangup(call_id)
    await ari.ended(call_id)


async def test_the_supervisor_is_hung_up_when_the_call_ends(
    ari: LiveHarness, asterisk: FakeAsterisk
) -> None:
    call_id = await _talking(ari, asterisk)
    ended: list[MonitorEnded] = []
    mid = await _gw(ari).monitor(call_id, "PJSIP/2001", "whisper", ended.append)
    asterisk.hangup_far(call_id)  # the callee hangs up
    await ari.ended(call_id)
    await ari.until(lambda: bool(ended) and f"{mid}-sup" not in asterisk.legs)
    assert [e.reason for e in ended] == ["call_ended"]
    assert not asterisk.snoops and f"{mid}-bridge" not in asterisk.bridges
    with pytest.raises(CallGone):
        await _gw(ari).change_mode(mid, "listen")


async def test_the_supervisor_hanging_up_ends_the_session_only(
    ari: LiveHarness, asterisk: FakeAsterisk
) -> None:
    call_id = await _talking(ari, asterisk)
    ended: list[MonitorEnded] = []
    mid = await _gw(ari).monitor(call_id, "PJSIP/2001", "listen", ended.append)
    asterisk.hangup_far(f"{mid}-sup")
    await ari.until(lambda: bool(ended) and not asterisk.snoops)
    assert [e.reason for e in ended] == ["supervisor"]
    assert call_id in asterisk.legs
    await ari.gateway.hangup(call_id)
    await ari.ended(call_id)


async def test_a_phone_that_does_not_answer_or_a_call_not_bridged_is_refused(
    ari: LiveHarness, asterisk: FakeAsterisk
) -> None:
    call_id = await ari.answered_human()
    with pytest.raises(GatewayError, match="not connected"):
        await _gw(ari).monitor(call_id, "PJSIP/2001", "listen", print)
    leg = asterisk.legs[call_id]
    leg.script = dataclasses.replace(leg.script, talk_s=1e9)
    await ari.gateway.bridge(call_id, AgentLeg(7, "PJSIP/1007"))
    with pytest.raises(GatewayError, match="did not answer"):
        await _gw(ari).monitor(call_id, "PJSIP/noanswer", "listen", print)
    assert not asterisk.snoops and _gw(ari).monitors == {}
    with pytest.raises(CallGone):
        await _gw(ari).monitor("no-such-call", "PJSIP/2001", "listen", print)
    await ari.gateway.hangup(call_id)
    await ari.ended(call_id)
