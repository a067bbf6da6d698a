"""Waiting for an answering machine's beep before a voicemail drop, on every gateway:
Asterisk (``dialer-beep``: WaitForSilence, then back into Stasis), FreeSWITCH (mod_avmd's
``avmd::beep``), the simulated switch (a beep time per machine), and the engine's call flow,
which plays the message only after the beep (or the campaign's timeout)."""

from __future__ import annotations

import asyncio

import pytest

from dialer import metrics
from dialer.gateway import Answered, CallEvent, GatewayError, OriginateRequest
from dialer.sim.model import CalleeModel
from dialer.telephony.sim import SimGatewayParams, SimulatedGateway
from dialer.timer import VirtualTimer
from tests.fakes.ari_server import FakeAsterisk
from tests.fakes.contract import LiveHarness, new_call_id
from tests.fakes.esl_server import FakeFreeSwitch
from tests.fakes.scenarios import number
from tests.unit.telephony.flow_support import Engine, Switch

MACHINE, BEEPLESS = number("0002"), number("0009")


async def answered_machine(h: LiveHarness, phone: str) -> str:
    call_id = new_call_id()
    await h.gateway.originate(OriginateRequest(call_id, phone, "+15550000000", 30.0), h.log)
    await h.until(lambda: h.log.answer(call_id) is not None)
    answer = h.log.answer(call_id)
    assert isinstance(answer, Answered) and answer.kind == "machine"
    return call_id


async def test_asterisk_waits_for_silence_after_the_beep(
    ari: LiveHarness, asterisk: FakeAsterisk
) -> None:
    call_id = await answered_machine(ari, MACHINE)
    assert await ari.gateway.wait_for_beep(call_id, 10.0) is True  # type: ignore[attr-defined]
    asked = [(m, p, q) for m, p, q, _ in asterisk.requests if p.startswith("/ari/channels/")]
    assert ("POST", f"/ari/channels/{call_id}/variable",
            {"variable": "DIALER_BEEP_TIMEOUT", "value": "10"}) in asked  # fmt: skip
    assert ("POST", f"/ari/channels/{call_id}/continue",
            {"context": "dialer-beep", "extension": "s", "priority": "1"}) in asked  # fmt: skip
    # back in Stasis: the message can be played
    assert await ari.gateway.play(call_id, "sound:hello-world") is True
    assert not asterisk.spec_errors


async def test_asterisk_gives_up_on_a_machine_that_never_beeps(ari: LiveHarness) -> None:
    call_id = await answered_machine(ari, BEEPLESS)
    assert await ari.gateway.wait_for_beep(call_id, 3.0) is False  # type: ignore[attr-defined]
    assert await ari.gateway.play(call_id, "sound:hello-world") is True


async def test_freeswitch_listens_with_mod_avmd(
    esl: LiveHarness, freeswitch: FakeFreeSwitch
) -> None:
    call_id = await answered_machine(esl, MACHINE)
    assert await esl.gateway.wait_for_beep(call_id, 5.0) is True  # type: ignore[attr-defined]
    assert any(r[0] == f"api avmd {call_id} start" for r in freeswitch.requests)
    beepless = await answered_machine(esl, BEEPLESS)
    assert await esl.gateway.wait_for_beep(beepless, 0.2) is False  # type: ignore[attr-defined]
    await freeswitch.until(
        lambda: any(r[0] == f"api avmd {beepless} stop" for r in freeswitch.requests)
    )


async def test_freeswitch_without_mod_avmd_says_so(
    esl: LiveHarness, freeswitch: FakeFreeSwitch
) -> None:
    freeswitch.avmd_module = False
    call_id = await answered_machine(esl, MACHINE)
    with pytest.raises(GatewayError, match="mod_avmd"):
        await esl.gateway.wait_for_beep(call_id, 5.0)  # type: ignore[attr-defined]


async def test_a_machine_that_hangs_up_while_waiting_ends_the_wait(switch: Switch) -> None:
    h, fake = switch.harness, switch.fake
    call_id = await answered_machine(h, BEEPLESS)
    waiting = asyncio.ensure_future(h.gateway.wait_for_beep(call_id, 30.0))  # type: ignore[attr-defined]
    await asyncio.sleep(0.05)
    fake.hangup_far(call_id)
    assert await asyncio.wait_for(waiting, 5.0) is False


async def test_the_simulated_switch_models_a_beep_per_machine() -> None:
    timer = VirtualTimer()
    machines = CalleeModel(p_human=0.0, p_machine=1.0, p_busy=0.0, p_failed=0.0,
                           ring_min_s=2, ring_max_s=4)  # fmt: skip
    params = SimGatewayParams(callee=machines, amd_false_human=0.0, fax_share=0.0)
    gateway = SimulatedGateway(timer, params, seed=3)
    waits: list[asyncio.Future[bool]] = []

    def on_event(event: CallEvent) -> None:  # the engine asks as soon as AMD says machine
        if isinstance(event, Answered) and event.kind == "machine":
            waits.append(asyncio.ensure_future(gateway.wait_for_beep(event.call_id, 10.0)))

    for n in range(40):
        request = OriginateRequest(f"c{n}", f"+1415555{n:04d}", "+14155550100", 30.0)
        await gateway.originate(request, on_event)
    for _ in range(40):
        await timer.advance(1)
    assert len(waits) == 40 and all(w.done() for w in waits)
    heard = sum(w.result() for w in waits)
    assert 25 <= heard < 40  # most beep within 10 s; the beepless (10 %) never do


async def test_the_engine_leaves_the_voicemail_after_the_beep(switch: Switch) -> None:
    message = {"ari": "sound:hello-world", "esl": "dialer/safe-harbor.wav"}[switch.kind]
    heard = metrics.VOICEMAIL_BEEPS.labels("1", "heard")
    before = heard._value.get()
    engine = Engine(switch, record="off", voicemail_message=message)
    call = await engine.dial(notice=None, number=MACHINE)
    await engine.until(lambda: bool(engine.records))
    assert engine.records[0].hangup_cause == "voicemail_left"
    assert heard._value.get() == before + 1
    lines = [str(r[:3]) for r in switch.fake.requests]
    waited = next(i for i, r in enumerate(lines) if "dialer-beep" in r or "avmd" in r)
    played = next(i for i, r in enumerate(lines) if "/play/" in r or "uuid_broadcast" in r)
    assert waited < played  # the message came after the beep
    assert [m for leg, m in switch.fake.played if leg == call.call_id] == [message]
