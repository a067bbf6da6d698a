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
from tests.fakes.ari_server import FakeAsterisk
from tests.fakes.contract import EventLog, LiveHarness, VirtualHarness, check_contract
from tests.fakes.scenarios import number
from tests.unit.telephony.flow_support import Switch


def _leg(call_id: str, leg_id: str, **target: object) -> LegRequest:
    return LegRequest(call_id, leg_id, "+15550100000", 30.0, **target)  # type: ignore[arg-type]


async def test_a_warm_transfer_moves_the_callee_to_the_second_agent(switch: Switch) -> None:
    """Asterisk holds the callee out of the call's bridge; FreeSWITCH moves the call into a
    conference room, the callee on hold outside it."""
    h, fake = switch.harness, switch.fake
    gateway = h.gateway
    assert isinstance(gateway, Conferencing)
    call_id = await h.answered_human()
    await gateway.bridge(call_id, AgentLeg(1, switch.phone("1001")))
    agent = switch.agent_leg(call_id)
    await gateway.hold(call_id)
    assert call_id in fake.moh and switch.mixed(call_id) == {agent}
    legs = EventLog()
    leg_id = str(uuid.uuid4())
    await gateway.add_leg(_leg(call_id, leg_id, agent=AgentLeg(2, switch.phone("1002"))), legs)
    await h.until(lambda: legs.answer(leg_id) is not None)
    assert switch.mixed(call_id) == {agent, leg_id}
    await gateway.drop_agent(call_id)  # the first agent hangs up: the leg is the agent now
    await gateway.unhold(call_id)
    await h.until(lambda: switch.mixed(call_id) == {call_id, leg_id})
    assert call_id not in fake.moh and agent not in fake.legs
    assert h.log.final(call_id) is None  # the callee's call goes on
    await gateway.hangup(call_id)
    await h.ended(call_id)
    check_contract(h.log.of(call_id))
    await h.until(lambda: leg_id not in fake.legs)  # the new agent's channel goes too


async def test_a_busy_number_ends_the_leg_with_busy(switch: Switch) -> None:
    h = switch.harness
    gateway = h.gateway
    assert isinstance(gateway, Conferencing)
    call_id = await h.answered_human()
    await gateway.bridge(call_id, AgentLeg(1, switch.phone("1001")))
    legs = EventLog()
    leg_id = str(uuid.uuid4())
    await gateway.add_leg(_leg(call_id, leg_id, phone_e164=number("0017")), legs)
    await h.until(lambda: legs.final(leg_id) is not None)
    assert isinstance(legs.final(leg_id), Busy)
    if switch.kind == "ari":  # the callee and the agent stay in the call's bridge
        assert switch.mixed(call_id) == {call_id, switch.agent_leg(call_id)}
    await gateway.hangup(call_id)
    await h.ended(call_id)


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
