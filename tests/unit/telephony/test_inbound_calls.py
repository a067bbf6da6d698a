"""Callbacks on every gateway: an inbound call is reported with its caller and the number
dialed, answered on request, then carries the answered-call contract (messages, keys, the
agent's bridge, exactly one ``Hangup``). ARI and ESL run against their fakes, which behave
as Asterisk (``Stasis(dialer,inbound)``, ``POST /channels/{id}/answer``) and FreeSWITCH
(``park`` → ``CHANNEL_PARK``, ``uuid_answer``) do; the simulated gateway on virtual time."""

from __future__ import annotations

import pytest

from dialer.gateway import AgentLeg, CallGone, Dtmf, Hangup, Inbound, InboundSource
from dialer.telephony import SimulatedGateway
from dialer.telephony.switch_inbound import e164
from dialer.timer import VirtualTimer
from tests.fakes.contract import EventLog
from tests.fakes.scenarios import Script
from tests.unit.telephony.flow_support import Switch

CALLER, DIALED = "+14155550142", "+14155550100"


def _listen(gateway: object) -> list[Inbound]:
    arrived: list[Inbound] = []
    assert isinstance(gateway, InboundSource)
    gateway.on_inbound(arrived.append)
    return arrived


def _place(switch: Switch, caller: str = CALLER, **kw: object) -> str:
    leg = switch.fake.place_inbound(caller, DIALED, **kw)
    return str(leg.id)


async def test_a_callback_is_reported_answered_played_to_and_hung_up(switch: Switch) -> None:
    h, fake = switch.harness, switch.fake
    arrived = _listen(h.gateway)
    fake.sounds = frozenset({*fake.sounds, "sound:dialer/callback", "dialer/callback.wav"})
    leg = _place(switch, caller="14155550142" if switch.kind == "esl" else CALLER)
    await h.until(lambda: bool(arrived))
    [call] = arrived
    assert (call.call_id, call.caller, call.dialed) == (leg, CALLER, DIALED)
    assert not fake.legs[leg].answered  # ringing until the dialer answers
    log = EventLog()
    await h.gateway.answer(leg, log)
    assert fake.legs[leg].answered
    assert await h.gateway.play(leg, "sound:dialer/callback") is True
    fake.press(leg, "9")
    await h.until(lambda: any(isinstance(e, Dtmf) for e in log.of(leg)))
    await h.gateway.hangup(leg)
    await h.until(lambda: log.final(leg) is not None)
    assert log.kinds(leg) == ["Dtmf", "Hangup"]
    final = log.final(leg)
    assert isinstance(final, Hangup) and final.by == "dialer"


async def test_a_callback_is_bridged_to_an_agent(switch: Switch) -> None:
    h, fake = switch.harness, switch.fake
    arrived = _listen(h.gateway)
    leg = _place(switch, script=Script(talk_s=2.0))
    await h.until(lambda: bool(arrived))
    log = EventLog()
    await h.gateway.answer(leg, log)
    await h.gateway.bridge(leg, AgentLeg(3, "PJSIP/1003" if switch.kind == "ari" else None))
    assert switch.agent_called(leg)
    await h.until(lambda: log.final(leg) is not None)  # the caller hangs up after talking
    final = log.final(leg)
    assert isinstance(final, Hangup) and final.by == "callee"
    await fake.until(lambda: not fake.legs)


async def test_a_caller_who_gives_up_ringing_cannot_be_answered(switch: Switch) -> None:
    h, fake = switch.harness, switch.fake
    arrived = _listen(h.gateway)
    leg = _place(switch)
    await h.until(lambda: bool(arrived))
    fake.hangup_far(leg)
    await h.until(lambda: h.gateway.book.get(leg) is None)
    with pytest.raises(CallGone):
        await h.gateway.answer(leg, EventLog())


async def test_channels_not_meant_for_the_dialer_are_not_reported(switch: Switch) -> None:
    h, fake = switch.harness, switch.fake
    arrived = _listen(h.gateway)
    if switch.kind == "ari":
        other = fake.place_inbound(CALLER, DIALED, args=("dial",))  # no call of ours: hung up
        await fake.until(lambda: other.id not in fake.legs)
    else:
        other = fake.place_inbound(CALLER, DIALED, app="another-app")  # parked for another
        fake.place_inbound(CALLER, "", app="dialer")  # no number dialed
    ours = _place(switch)
    await h.until(lambda: bool(arrived))
    assert [c.call_id for c in arrived] == [ours]


def test_switch_numbers_read_as_e164() -> None:
    assert e164("+1 (415) 555-0142") == "+14155550142"
    assert e164("14155550142") == "+14155550142"
    assert e164("0044 20 7946 0000") == "+442079460000"
    assert e164("anonymous") == "" and e164(None) == ""


async def test_the_simulated_gateway_rings_the_dialer_and_callees_call_back() -> None:
    from dialer.sim.model import CalleeModel
    from dialer.telephony import SimGatewayParams

    timer = VirtualTimer()
    nobody = CalleeModel(p_human=0.0, p_machine=0.0, p_busy=0.0, p_failed=0.0)
    params = SimGatewayParams(callee=nobody, callback_share=1.0, callback_after_s=30.0)
    gateway = SimulatedGateway(timer, params, seed=3)
    arrived = _listen(gateway)
    log = EventLog()
    call_id = gateway.place_inbound(CALLER, DIALED, talk_s=5.0)
    [call] = arrived
    assert (call.caller, call.dialed) == (CALLER, DIALED)
    await gateway.answer(call_id, log)
    with pytest.raises(CallGone):
        await gateway.answer(call_id, log)  # answered once
    await gateway.bridge(call_id, AgentLeg(1))
    await timer.advance(6.0)
    assert isinstance(log.final(call_id), Hangup)
    # A callee the dialer called (and missed) calls the number they saw back.
    from dialer.gateway import OriginateRequest

    await gateway.originate(OriginateRequest("out-1", "+14155550199", DIALED, 15.0), log)
    await timer.advance(600.0)
    assert [(c.caller, c.dialed) for c in arrived[1:]] == [("+14155550199", DIALED)]


async def test_a_callback_stays_on_the_switch_it_arrived_on() -> None:
    from dialer.telephony.multi import MultiSwitchGateway
    from dialer.telephony.multi import Switch as Member

    timer = VirtualTimer()
    first, second = SimulatedGateway(timer, seed=1), SimulatedGateway(timer, seed=2)
    multi = MultiSwitchGateway([Member("a", first), Member("b", second)], timer)
    arrived = _listen(multi)
    log = EventLog()
    call_id = second.place_inbound(CALLER, DIALED, talk_s=5.0)
    assert [c.call_id for c in arrived] == [call_id]
    await multi.answer(call_id, log)
    assert multi.by_call[call_id].name == "b"
    await multi.bridge(call_id, AgentLeg(1))
    await timer.advance(6.0)
    assert isinstance(log.final(call_id), Hangup) and call_id not in multi.by_call
    with pytest.raises(CallGone):
        await multi.answer("never-rang", log)
