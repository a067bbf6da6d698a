"""Keys the callee presses reach the engine as ``Dtmf`` events: from Asterisk's
``ChannelDtmfReceived``, FreeSWITCH's ``DTMF`` event and the simulated callees."""

from __future__ import annotations

from dialer.gateway import Answered, Dtmf
from dialer.sim.model import CalleeModel
from dialer.telephony import SimGatewayParams, SimulatedGateway, VirtualTimer
from tests.fakes.ari_server import FakeAsterisk
from tests.fakes.contract import EventLog, LiveHarness, VirtualHarness, check_contract
from tests.fakes.esl_server import FakeFreeSwitch


def _keys(h: LiveHarness | VirtualHarness, call_id: str) -> list[str]:
    return [e.digit for e in h.log.of(call_id) if isinstance(e, Dtmf)]


async def _press_and_hang_up(
    h: LiveHarness, fake: FakeAsterisk | FakeFreeSwitch, call_id: str
) -> None:
    fake.press(call_id, "9")
    await h.until(lambda: _keys(h, call_id) == ["9"])
    fake.press(call_id, "#")
    await h.until(lambda: _keys(h, call_id) == ["9", "#"])
    await h.gateway.hangup(call_id)
    await h.ended(call_id)
    check_contract(h.log.of(call_id))


async def test_ari_reports_the_callees_keys(ari: LiveHarness, asterisk: FakeAsterisk) -> None:
    call_id = await ari.answered_human()
    await _press_and_hang_up(ari, asterisk, call_id)
    sent = [e for e in asterisk.sent if e["type"] == "ChannelDtmfReceived"]
    assert [e["digit"] for e in sent] == ["9", "#"] and sent[0]["duration_ms"] == 200


async def test_esl_subscribes_to_and_reports_the_callees_keys(
    esl: LiveHarness, freeswitch: FakeFreeSwitch
) -> None:
    call_id = await esl.answered_human()
    await _press_and_hang_up(esl, freeswitch, call_id)
    sent = [h for name, h, _ in freeswitch.sent if name == "DTMF"]
    assert sent[0]["DTMF-Digit"] == "9" and sent[0]["Unique-ID"] == call_id


async def test_keys_of_a_ringing_call_are_not_reported(
    ari: LiveHarness, asterisk: FakeAsterisk
) -> None:
    call_id = await ari.originate("no_answer")
    await ari.until(lambda: call_id in asterisk.legs)
    asterisk.press(call_id, "9")  # no media before the answer: nothing is sent
    await ari.gateway.hangup(call_id)
    await ari.ended(call_id)
    assert _keys(ari, call_id) == []


def _sim(share: float) -> VirtualHarness:
    timer = VirtualTimer()
    callee = CalleeModel(p_human=1.0, p_machine=0.0, p_busy=0.0, p_failed=0.0, ring_max_s=6)
    params = SimGatewayParams(callee=callee, amd_false_machine=0.0, opt_out_share=share)
    gateway = SimulatedGateway(timer, params, seed=5)
    return VirtualHarness(gateway, {"human": "+15550000001"}, timer)


async def test_simulated_callees_press_9_during_the_first_message_they_hear() -> None:
    h = _sim(1.0)
    call_id = await h.answered_human()
    assert _keys(h, call_id) == []  # nothing pressed before a message plays
    assert await h.run(h.gateway.play(call_id, "press 9 to stop these calls"))
    assert _keys(h, call_id) == ["9"]
    assert await h.run(h.gateway.play(call_id, "you will not be called again"))
    assert _keys(h, call_id) == ["9"]  # once
    await h.gateway.hangup(call_id)
    await h.ended(call_id)
    check_contract(h.log.of(call_id))


async def test_simulated_callees_press_with_the_configured_probability() -> None:
    h = _sim(0.3)
    pressed = 0
    for _ in range(200):
        call_id = await h.answered_human()
        await h.run(h.gateway.play(call_id, "a message"))
        pressed += bool(_keys(h, call_id))
        await h.gateway.hangup(call_id)
        await h.ended(call_id)
    assert 35 <= pressed <= 85  # 60 expected


def test_event_log_keeps_dtmf_between_answer_and_end() -> None:
    log = EventLog()
    log(Answered("c", 1.0, "human"))
    log(Dtmf("c", 2.0, "9"))
    assert log.kinds("c") == ["Answered", "Dtmf"]
