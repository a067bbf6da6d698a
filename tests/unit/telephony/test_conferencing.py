"""Transfers and conferences at the switch (``gateway.Conferencing``): the callee goes on
music on hold out of the bridge, a second leg joins the bridge, the first agent leaves and
the answered leg becomes the call's agent; a leg that is busy ends with ``Busy``. Checked on
the fake Asterisk (documented ARI routes), the fake FreeSWITCH (conference rooms) and on
the simulated gateway."""

from __future__ import annotations

import uuid

from dialer.gateway import AgentLeg, Answered, Busy, CallEvent, Conferencing, Hangup, LegRequest
from dialer.sim.model import CalleeModel
from dialer.telephony import SimGatewayParams, SimulatedGateway, VirtualTimer
from dialer.telephony.esl import agent_uuid
from tests.fakes.ari_server import FakeAsterisk
from tests.fakes.contract import EventLog, LiveHarness, VirtualHarness, check_contract
from tests.fakes.esl_server import FakeFreeSwitch
from tests.fakes.scenarios import number


def _leg(call_id: str, leg_id: str, **target: object) -> LegRequest:
    return LegRequest(call_id, leg_id, "+15550100000", 30.0, **target)  # type: ignore[arg-type]


async def test_ari_warm_transfer_moves_the_callee_to_the_second_agent(
    ari: LiveHarness, asterisk: FakeAsterisk
) -> None:
    gateway = ari.gateway
    assert isinstance(gateway, Conferencing)
    call_id = await ari.answered_human()
    await gateway.bridge(call_id, AgentLeg(1, "PJSIP/1001"))
    bridge = f"{call_id}-bridge"
    await gateway.hold(call_id)
    assert call_id in asterisk.moh and call_id not in asterisk.bridges[bridge]["channels"]
    legs = EventLog()
    await gateway.add_leg(_leg(call_id, "leg-1", agent=AgentLeg(2, "PJSIP/1002")), legs)
    await ari.until(lambda: legs.answer("leg-1") is not None)
    assert set(asterisk.bridges[bridge]["channels"]) == {f"{call_id}-agent", "leg-1"}
    await gateway.drop_agent(call_id)  # the first agent hangs up: the leg is the agent now
    await gateway.unhold(call_id)
    await ari.until(lambda: set(asterisk.bridges[bridge]["channels"]) == {call_id, "leg-1"})
    assert call_id not in asterisk.moh and f"{call_id}-agent" not in asterisk.legs
    assert ari.log.final(call_id) is None  # the callee's call goes on
    await gateway.hangup(call_id)
    await ari.ended(call_id)
    check_contract(ari.log.of(call_id))
    await ari.until(lambda: "leg-1" not in asterisk.legs)  # the new agent's channel goes too


async def test_ari_a_busy_number_ends_the_leg_with_busy(
    ari: LiveHarness, asterisk: FakeAsterisk
) -> None:
    gateway = ari.gateway
    assert isinstance(gateway, Conferencing)
    call_id = await ari.answered_human()
    await gateway.bridge(call_id, AgentLeg(1, "PJSIP/1001"))
    legs = EventLog()
    await gateway.add_leg(_leg(call_id, "leg-2", phone_e164=number("0017")), legs)
    await ari.until(lambda: legs.final("leg-2") is not None)
    assert isinstance(legs.final("leg-2"), Busy)
    assert set(asterisk.bridges[f"{call_id}-bridge"]["channels"]) == {call_id, f"{call_id}-agent"}
    await gateway.hangup(call_id)
    await ari.ended(call_id)


async def test_ari_moh_on_a_channel_outside_stasis_is_refused_as_documented(
    ari: LiveHarness, asterisk: FakeAsterisk
) -> None:
    status, body = await ari.gateway.request("POST", "/channels/nope/moh")  # type: ignore[attr-defined]
    assert status == 404 and body["message"] == "Channel not found"


def _sim() -> VirtualHarness:
    timer = VirtualTimer()
    callee = CalleeModel(
        p_human=1.0, p_machine=0.0, p_busy=0.0, p_failed=0.0, ring_max_s=6, talk_s=1e6
    )
    params = SimGatewayParams(callee=callee, amd_false_machine=0.0)
    return VirtualHarness(SimulatedGateway(timer, params, seed=3), {"human": "+15550000001"}, timer)


async def test_sim_conference_then_the_agent_leaves() -> None:
    h = _sim()
    gateway = h.gateway
    assert isinstance(gateway, SimulatedGateway)
    call_id = await h.answered_human()
    await gateway.bridge(call_id, AgentLeg(1))
    events: list[CallEvent] = []
    await gateway.add_leg(_leg(call_id, "leg-3", phone_e164="+12125550100"), events.append)
    await h.until(lambda: any(isinstance(e, Answered) for e in events))
    await gateway.drop_agent(call_id)
    await gateway.hangup(call_id)
    await h.ended(call_id)
    assert isinstance(h.log.final(call_id), Hangup)
    assert not any(isinstance(e, Hangup) for e in events)  # the leg had become the agent


async def test_esl_warm_transfer_moves_the_call_into_a_conference(
    esl: LiveHarness, freeswitch: FakeFreeSwitch
) -> None:
    gateway = esl.gateway
    assert isinstance(gateway, Conferencing)
    call_id = await esl.answered_human()
    await gateway.bridge(call_id, AgentLeg(1, "user/1001"))
    await gateway.hold(call_id)
    room = f"dialer-{call_id}"
    agent = agent_uuid(call_id)
    assert freeswitch.rooms[room] == {agent} and call_id in freeswitch.moh
    legs = EventLog()
    leg_id = str(uuid.uuid4())
    await gateway.add_leg(_leg(call_id, leg_id, agent=AgentLeg(2, "user/1002")), legs)
    await esl.until(lambda: legs.answer(leg_id) is not None)
    assert freeswitch.rooms[room] == {agent, leg_id}
    await gateway.drop_agent(call_id)
    await gateway.unhold(call_id)
    await esl.until(lambda: freeswitch.rooms[room] == {call_id, leg_id})
    assert call_id not in freeswitch.moh and esl.log.final(call_id) is None
    await gateway.hangup(call_id)
    await esl.ended(call_id)
    check_contract(esl.log.of(call_id))
    await esl.until(lambda: leg_id not in freeswitch.legs)


async def test_esl_a_busy_number_ends_the_leg_with_busy(
    esl: LiveHarness, freeswitch: FakeFreeSwitch
) -> None:
    gateway = esl.gateway
    assert isinstance(gateway, Conferencing)
    call_id = await esl.answered_human()
    await gateway.bridge(call_id, AgentLeg(1, "user/1001"))
    legs = EventLog()
    leg_id = str(uuid.uuid4())
    await gateway.add_leg(_leg(call_id, leg_id, phone_e164=number("0017")), legs)
    await esl.until(lambda: legs.final(leg_id) is not None)
    assert isinstance(legs.final(leg_id), Busy)
    await gateway.hangup(call_id)
    await esl.ended(call_id)
