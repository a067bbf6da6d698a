"""Recordings through the real-switch adapters: what Asterisk and FreeSWITCH are asked to
record (channel from the answer, bridge from the connect), and the file handed over once
the call ended, then removed from the switch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dialer.gateway import AgentLeg, OriginateRequest
from tests.fakes.ari_server import FakeAsterisk
from tests.fakes.contract import LiveHarness, new_call_id
from tests.fakes.esl_server import FakeFreeSwitch
from tests.fakes.gateways import HARNESS_NUMBERS, ari_gateway, esl_gateway
from tests.fakes.scenarios import number


async def _answered(h: LiveHarness, record: str) -> str:
    request = OriginateRequest(
        call_id=new_call_id(),
        phone_e164=number("0000"),
        caller_id="+15550009999",
        ring_timeout_s=15,
        amd=False,
        record=record,  # type: ignore[arg-type]
    )
    await h.gateway.originate(request, h.log)
    await h.until(lambda: h.log.answer(request.call_id) is not None)
    return request.call_id


async def _connected_then_ended(h: LiveHarness, fake: Any, record: str, agent: str) -> str:
    call_id = await _answered(h, record)
    await h.gateway.bridge(call_id, AgentLeg(3, agent))
    if record != "off":  # the switch is recording before the callee hangs up
        await fake.until(
            lambda: call_id in getattr(fake, "live", getattr(fake, "recording_paths", {}))
        )
    fake.hangup_far(call_id)
    await h.ended(call_id)
    return call_id


@pytest.mark.parametrize("record", ["connected", "all"])
async def test_asterisk_records_and_hands_the_file_over(
    asterisk: FakeAsterisk, record: str
) -> None:
    async with ari_gateway(asterisk) as gw:
        h = LiveHarness(gw, HARNESS_NUMBERS)
        call_id = await _connected_then_ended(h, asterisk, record, "PJSIP/1003")
        got = await gw.take_recording(call_id)
        assert got is not None and got.data[:4] == b"RIFF" and got.duration_s >= 0
        assert await gw.take_recording(call_id) is None  # handed over once
    asked = [(m, p, q) for m, p, q, _ in asterisk.requests if p.endswith("/record")]
    target = (
        f"/ari/bridges/{call_id}-bridge/record"
        if record == "connected"
        else (f"/ari/channels/{call_id}/record")
    )
    assert asked == [("POST", target, {"name": call_id, "format": "wav", "ifExists": "overwrite"})]
    assert call_id not in asterisk.stored  # deleted on Asterisk once taken


async def test_an_unrecorded_call_has_no_recording(asterisk: FakeAsterisk) -> None:
    async with ari_gateway(asterisk) as gw:
        h = LiveHarness(gw, HARNESS_NUMBERS)
        call_id = await _connected_then_ended(h, asterisk, "off", "PJSIP/1003")
        assert await gw.take_recording(call_id) is None
    assert not [p for _, p, _, _ in asterisk.requests if p.endswith("/record")]


@pytest.mark.parametrize("record", ["connected", "all"])
async def test_freeswitch_records_to_the_shared_directory(
    freeswitch: FakeFreeSwitch, tmp_path: Path, record: str
) -> None:
    async with esl_gateway(freeswitch, recording_dir=str(tmp_path)) as gw:
        h = LiveHarness(gw, HARNESS_NUMBERS)
        call_id = await _connected_then_ended(h, freeswitch, record, "user/1003")
        got = await gw.take_recording(call_id)
    assert got is not None and got.data[:4] == b"RIFF"
    asked = [line for line, _ in freeswitch.requests if "uuid_record" in line]
    assert asked == [f"api uuid_record {call_id} start {tmp_path / (call_id + '.wav')}"]
    assert not list(tmp_path.iterdir())  # removed once taken
