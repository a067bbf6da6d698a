"""The recording notice before the agent's bridge, with the engine's call flow driving the
real ARI and ESL adapters over the fake Asterisk and FreeSWITCH: the notice plays on the
callee's channel first; a callee who hangs up during it never reaches an agent; a notice
that cannot be played (not installed on the switch) still bridges, but nothing is recorded."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from dialer import metrics
from dialer.engine.callflow import CallFlow
from dialer.engine.closing import CallRecord
from dialer.engine.conduct import RECORDING_NOTICE
from dialer.engine.livecall import LiveCall
from dialer.gateway import OriginateRequest
from dialer.telephony.esl import agent_uuid
from dialer.timer import LoopTimer
from tests.fakes.contract import LiveHarness, new_call_id
from tests.fakes.gateways import HARNESS_NUMBERS
from tests.unit.engine.test_callflow import Harness, campaign

NOTICE_SOUND = {"ari": RECORDING_NOTICE, "esl": "dialer/recording-notice.wav"}


class Switch:
    """One adapter over its fake, and what the fake saw."""

    def __init__(self, kind: str, harness: LiveHarness, fake: Any) -> None:
        self.kind, self.harness, self.fake = kind, harness, fake

    def install_notice(self) -> None:
        self.fake.sounds = frozenset({*self.fake.sounds, NOTICE_SOUND[self.kind]})

    def agent_called(self, call_id: str) -> bool:
        if self.kind == "ari":
            return any(p.endswith(f"/channels/{call_id}-agent") for _, p, *_ in self.fake.requests)
        leg = "origination_uuid=" + agent_uuid(call_id)
        return any(leg in r[0] for r in self.fake.requests)

    def recording_started(self) -> bool:
        if self.kind == "ari":
            return any(p.endswith("/record") for _, p, *_ in self.fake.requests)
        return any(
            r[0].startswith("api uuid_record") and " start " in r[0] for r in self.fake.requests
        )


@pytest.fixture(params=["ari", "esl"])
def switch(request: pytest.FixtureRequest, tmp_path: Path) -> Switch:
    kind = request.param
    fake = request.getfixturevalue("asterisk" if kind == "ari" else "freeswitch")
    harness = request.getfixturevalue(kind)
    if kind == "esl":  # FreeSWITCH writes its recordings where the dialer reads them
        harness.gateway.recordings.directory = tmp_path
    return Switch(kind, harness, fake)


class Engine:
    """The engine's ``CallFlow`` (one free agent) placing calls through a real adapter."""

    def __init__(self, switch: Switch, record: str = "connected") -> None:
        self.record = record
        self.h = Harness(campaign(record=record), agents=1)
        self.gateway = switch.harness.gateway
        self.records: list[CallRecord] = []
        self.flow = CallFlow(
            gateway=self.gateway,
            timer=LoopTimer(),
            clock=self.h.clock,
            agents_view=self.h.view,
            budget=self.h.budget,
            pacing=self.h.pacing,  # type: ignore[arg-type]
            campaign=lambda: self.h.config,
            spawn=self.h.spawn,
            record=lambda call, rec, release: self.records.append(rec),
            kick=lambda trigger=True: None,
            seats=self.h.seats,
        )

    async def dial(self, notice: str | None = "us-ca.recording-consent") -> LiveCall:
        call = self.h.dial(notice=notice, record=self.record)
        call.call_id = new_call_id()
        self.flow.add(call)
        request = OriginateRequest(
            call.call_id,
            HARNESS_NUMBERS["human"],
            "+15550000000",
            30.0,
            record=self.record,  # type: ignore[arg-type]
        )
        await self.gateway.originate(request, self.flow.on_event)
        return call

    async def until(self, predicate: Any, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.01)


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
