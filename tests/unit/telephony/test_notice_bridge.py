"""The recording notice before the agent's bridge, with the engine's call flow driving the
real ARI and ESL adapters over the fake Asterisk and FreeSWITCH: the notice plays on the
callee's channel first; a callee who hangs up during it never reaches an agent; a notice
that cannot be played (not installed on the switch) still bridges, but nothing is recorded."""

from __future__ import annotations

import asyncio
from pathlib import Path

from dialer import metrics
from tests.unit.telephony.flow_support import NOTICE_SOUND, Engine, Switch


async def test_the_notice_plays_on_the_switch_before_the_agent_is_called(switch: Switch) -> None:
    switch.install_notice()
    engine = Engine(switch)
    call = await engine.dial()
    await engine.until(lambda: call.state == "connected")
    played = [m for leg, m in switch.fake.played if leg == call.call_id]
    assert played == [NOTICE_SOUND[switch.kind]]
    assert call.notice_played and switch.agent_called(call.call_id)
    await engine.until(switch.recording_started)  # connected: recorded from the bridge
    await engine.gateway.hangup(call.call_id)
    await engine.until(lambda: bool(engine.records))
    assert engine.records[0].recording_notice == "us-ca.recording-consent"


async def test_a_callee_who_hangs_up_during_the_notice_never_reaches_an_agent(
    switch: Switch,
) -> None:
    switch.install_notice()
    switch.fake.play_s = 1e6  # a long notice
    engine = Engine(switch)
    call = await engine.dial()
    await switch.fake.until(lambda: any(leg == call.call_id for leg, _ in switch.fake.played))
    switch.fake.hangup_far(call.call_id)
    await engine.until(lambda: bool(engine.records))
    await asyncio.sleep(0.05)  # anything the flow would still do, it has done
    assert not switch.agent_called(call.call_id)
    assert engine.records[0].recording_notice is None
    assert engine.records[0].talk_s is None and not engine.records[0].wrap_agent
    assert engine.h.seats.released == [1]  # the agent it had taken is free again


async def test_a_notice_the_switch_cannot_play_bridges_without_recording(
    switch: Switch,
) -> None:
    failed = metrics.RECORDING_NOTICE_FAILED.labels("1")
    before = failed._value.get()
    engine = Engine(switch)  # the notice is not installed on the switch
    call = await engine.dial()
    await engine.until(lambda: call.state == "connected")
    assert switch.agent_called(call.call_id) and not call.notice_played
    await asyncio.sleep(0.05)
    assert not switch.recording_started()
    assert failed._value.get() == before + 1
    await engine.gateway.hangup(call.call_id)
    await engine.until(lambda: bool(engine.records))
    record = engine.records[0]
    assert record.recording_call is None and record.recording_notice is None


async def test_a_recording_from_the_answer_is_discarded_when_the_notice_fails(
    switch: Switch, tmp_path: Path
) -> None:
    engine = Engine(switch, record="all")  # recorded from the answer, notice not installed
    call = await engine.dial()
    await engine.until(lambda: call.state == "connected")
    assert call.unrecorded
    if switch.kind == "ari":
        await engine.until(
            lambda: any(
                m == "DELETE" and "/recordings/live/" in p for m, p, *_ in switch.fake.requests
            )
        )
        assert not switch.fake.live  # stopped and discarded on Asterisk
    else:
        stop = f"api uuid_record {call.call_id} stop "
        await engine.until(lambda: any(r[0].startswith(stop) for r in switch.fake.requests))
        await engine.until(lambda: not (tmp_path / f"{call.call_id}.wav").exists())
    await engine.gateway.hangup(call.call_id)
    await engine.until(lambda: bool(engine.records))
    assert engine.records[0].recording_call is None
    if switch.kind == "ari":
        assert not switch.fake.stored
