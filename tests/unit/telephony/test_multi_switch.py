"""Many switches as one gateway: the contract over a fake Asterisk and a fake FreeSWITCH
together, spreading by weight, keeping a call on its switch, taking a failed switch out and
back in, and ``DIALER_SWITCHES`` read safely."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest

from dialer import metrics
from dialer.config import Settings
from dialer.errors import ConfigError
from dialer.gateway import AgentLeg, CallEvent, GatewayUnavailable, OriginateRequest
from dialer.telephony import make_gateway
from dialer.telephony.multi import MultiSwitchGateway, Switch
from dialer.timer import LoopTimer, VirtualTimer
from tests.fakes.ari_server import FakeAsterisk
from tests.fakes.contract import CONTRACT, CONTRACT_IDS, Harness, LiveHarness, new_call_id
from tests.fakes.esl_server import FakeFreeSwitch
from tests.fakes.gateways import HARNESS_NUMBERS, ari_gateway, esl_gateway


@pytest.mark.parametrize("behaviour", CONTRACT, ids=CONTRACT_IDS)
async def test_two_real_switch_adapters_keep_the_contract_as_one(
    behaviour: Callable[[Harness], Awaitable[None]],
) -> None:
    asterisk, freeswitch = FakeAsterisk(time_scale=0.005), FakeFreeSwitch(time_scale=0.005)
    await asterisk.start()
    await freeswitch.start()
    try:
        async with ari_gateway(asterisk) as ari, esl_gateway(freeswitch) as esl:
            switches = [Switch("ast1", ari, 1.0), Switch("fs1", esl, 1.0)]
            gateway = MultiSwitchGateway(switches, LoopTimer())
            await behaviour(LiveHarness(gateway, HARNESS_NUMBERS))
        assert asterisk.connections and freeswitch.connections
    finally:
        await asterisk.stop()
        await freeswitch.stop()


class Stub:
    """A switch that records what it is asked, and can be down."""

    name = "stub"

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.asked: list[tuple[str, str]] = []
        self.down = False

    async def originate(self, request: OriginateRequest, on_event: Any) -> None:
        if self.down:
            raise GatewayUnavailable("connection refused")
        self.calls.append(request.call_id)

    async def bridge(self, call_id: str, agent: AgentLeg) -> None:
        self.asked.append(("bridge", call_id))

    async def play(self, call_id: str, message: str) -> bool:
        self.asked.append(("play", call_id))
        return True

    async def hangup(self, call_id: str) -> None:
        self.asked.append(("hangup", call_id))

    async def close(self) -> None:
        pass


def request() -> OriginateRequest:
    return OriginateRequest(new_call_id(), "+14155550100", "+14155550199", 20.0)


def ignore(event: CallEvent) -> None:
    pass


async def test_calls_spread_by_weight_and_stay_on_their_switch() -> None:
    a, b = Stub(), Stub()
    gateway = MultiSwitchGateway([Switch("a", a, 2), Switch("b", b, 1)], VirtualTimer())
    for _ in range(30):
        await gateway.originate(request(), ignore)
    assert (len(a.calls), len(b.calls)) == (20, 10)
    call = b.calls[0]
    await gateway.bridge(call, AgentLeg(1, "PJSIP/1001"))
    await gateway.play(call, "hello")
    await gateway.hangup(call)
    assert b.asked == [("bridge", call), ("play", call), ("hangup", call)] and not a.asked


async def test_a_failed_switch_is_taken_out_and_back_in() -> None:
    a, b = Stub(), Stub()
    timer = VirtualTimer()
    gateway = MultiSwitchGateway([Switch("a", a), Switch("b", b)], timer)
    a.down = True
    for _ in range(6):
        await gateway.originate(request(), ignore)  # a refuses: each call goes to b
    assert len(b.calls) == 6 and not a.calls
    assert metrics.SWITCH_UP.labels("a")._value.get() == 0
    a.down = False
    await gateway.originate(request(), ignore)
    assert not a.calls  # still out (back-off)
    await timer.advance(2.5)
    for _ in range(4):
        await gateway.originate(request(), ignore)
    assert a.calls and metrics.SWITCH_UP.labels("a")._value.get() == 1
    b.down = True
    await timer.advance(120)
    a.down = True
    with pytest.raises(GatewayUnavailable, match="no switch in service"):
        await gateway.originate(request(), ignore)


def test_switches_come_from_one_setting_and_never_echo_a_password() -> None:
    env = {
        "DIALER_SWITCHES": '[{"name": "sim-a", "gateway": "sim", "weight": 3},'
        ' {"name": "ast1", "gateway": "ari", "url": "http://10.0.0.5:8088/ari",'
        ' "user": "dialer", "password": "pw-1", "agents": ["PJSIP/1001"]}]'
    }
    settings = Settings.from_env(env)
    gateway = make_gateway(settings, VirtualTimer())
    assert isinstance(gateway, MultiSwitchGateway)
    assert [(s.name, s.weight, s.agents) for s in gateway.switches] == [
        ("sim-a", 3.0, frozenset()),
        ("ast1", 1.0, frozenset({"PJSIP/1001"})),
    ]
    assert gateway.home_of("PJSIP/1001") is gateway.switches[1]
    bad = '[{"name": "ast1", "gateway": "ari", "user": "u", "password": "s3cr3t-pw"}]'
    with pytest.raises(ConfigError, match="needs 'url'") as raised:
        Settings.from_env({"DIALER_SWITCHES": bad})
    assert "s3cr3t" not in str(raised.value)
    with pytest.raises(ConfigError, match="weight"):
        Settings.from_env({"DIALER_SWITCHES": '[{"name": "a", "gateway": "sim", "weight": 0}]'})


async def test_a_call_whose_agent_is_known_goes_to_the_agents_home_switch() -> None:
    a, b = Stub(), Stub()
    timer = VirtualTimer()
    switches = [Switch("a", a, 5), Switch("b", b, 1, agents=frozenset({"PJSIP/2001"}))]
    gateway = MultiSwitchGateway(switches, timer)
    homed = metrics.SWITCH_HOMED.labels("b")._value.get()
    agent = AgentLeg(7, "PJSIP/2001")
    for _ in range(3):  # preview calls of an agent homed on b: all on b, despite the weights
        await gateway.originate(replace(request(), agent=agent), ignore)
    assert len(b.calls) == 3 and not a.calls
    assert metrics.SWITCH_HOMED.labels("b")._value.get() == homed + 3
    for _ in range(6):  # the rotation was not disturbed: 5 to a, 1 to b
        await gateway.originate(request(), ignore)
    assert (len(a.calls), len(b.calls)) == (5, 4)
    unlisted = replace(request(), agent=AgentLeg(8, "PJSIP/9999"))
    await gateway.originate(unlisted, ignore)  # an agent no switch lists: by weight
    assert unlisted.call_id in a.calls
    b.down = True
    homeless = replace(request(), agent=agent)
    await gateway.originate(homeless, ignore)  # its home is down: the call still goes out
    assert homeless.call_id in a.calls
