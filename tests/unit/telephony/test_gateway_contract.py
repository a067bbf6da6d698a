"""The Gateway contract, checked against every implementation (today: the simulated one).

An adapter for Asterisk ARI or FreeSWITCH ESL joins ``FACTORIES`` with a switch in a box and
must pass the same tests: one final event per call and nothing after it, no give-up before
the ring timeout, answers classified, hangups delivered, errors for impossible requests.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from dialer.gateway import FINAL_EVENTS
from dialer.sim.model import CalleeModel
from dialer.telephony import (
    AgentLeg,
    Answered,
    CallEvent,
    CallGone,
    Gateway,
    GatewayError,
    Hangup,
    NoAnswer,
    OriginateRequest,
    Ringing,
    SimGatewayParams,
    SimulatedGateway,
    VirtualTimer,
)

Factory = Callable[[VirtualTimer, CalleeModel, int], Gateway]


def _sim(timer: VirtualTimer, callee: CalleeModel, seed: int) -> Gateway:
    return SimulatedGateway(timer, SimGatewayParams(callee=callee), seed=seed)


FACTORIES: dict[str, Factory] = {"sim": _sim}
HUMANS = {"p_human": 1.0, "p_machine": 0.0, "p_busy": 0.0, "p_failed": 0.0, "ring_max_s": 6}
MIXED = CalleeModel(p_human=0.35, p_machine=0.25, p_busy=0.1, p_failed=0.05, patience_s=8.0)


@dataclass
class Log:
    events: dict[str, list[CallEvent]] = field(default_factory=dict)

    def sink(self, call_id: str) -> Callable[[CallEvent], None]:
        self.events[call_id] = []
        return self.events[call_id].append


def _request(n: int, *, ring: float = 20.0, amd: bool = True) -> OriginateRequest:
    return OriginateRequest(f"c{n}", "+14155550123", "+14155550100", ring, amd)


@pytest.fixture(params=sorted(FACTORIES))
def factory(request: pytest.FixtureRequest) -> Factory:
    return FACTORIES[request.param]


async def _run(factory: Factory, callee: CalleeModel, calls: int, *, amd: bool = True) -> Log:
    timer = VirtualTimer()
    gateway = factory(timer, callee, 3)
    log = Log()
    for n in range(calls):
        await gateway.originate(_request(n, amd=amd), log.sink(f"c{n}"))
    await timer.advance(600)
    await gateway.close()
    return log


async def test_every_call_ends_with_exactly_one_final_event(factory: Factory) -> None:
    log = await _run(factory, MIXED, 300)
    for call_id, events in log.events.items():
        finals = [i for i, e in enumerate(events) if isinstance(e, FINAL_EVENTS)]
        assert len(finals) == 1, (call_id, events)
        assert finals[0] == len(events) - 1, "an event came after the final one"
        assert sum(isinstance(e, Ringing) for e in events) <= 1
        assert sum(isinstance(e, Answered) for e in events) <= 1
        assert [e.t for e in events] == sorted(e.t for e in events)
        assert all(e.call_id == call_id for e in events)


async def test_no_call_is_given_up_before_its_ring_timeout(factory: Factory) -> None:
    log = await _run(factory, CalleeModel(p_human=0.0, p_machine=0.0, p_busy=0.0, p_failed=0.0), 50)
    for events in log.events.values():
        final = events[-1]
        assert isinstance(final, NoAnswer)
        assert final.t >= 20.0


async def test_answers_are_classified_and_amd_off_reports_humans(factory: Factory) -> None:
    machines = CalleeModel(p_human=0.0, p_machine=1.0, p_busy=0.0, p_failed=0.0, ring_max_s=10)
    with_amd = await _run(factory, machines, 100)
    kinds = {e.kind for ev in with_amd.events.values() for e in ev if isinstance(e, Answered)}
    assert "machine" in kinds
    without = await _run(factory, machines, 50, amd=False)
    kinds = {e.kind for ev in without.events.values() for e in ev if isinstance(e, Answered)}
    assert kinds == {"human"}


async def test_an_engine_hangup_is_confirmed_and_ends_the_call(factory: Factory) -> None:
    timer = VirtualTimer()
    gateway = factory(timer, CalleeModel(**HUMANS), 1)
    log = Log()
    await gateway.originate(_request(1), log.sink("c1"))
    await timer.advance(7)
    assert isinstance(log.events["c1"][-1], Answered)
    await gateway.hangup("c1")
    await timer.advance(1)
    final = log.events["c1"][-1]
    assert isinstance(final, Hangup) and final.by == "dialer"
    await gateway.hangup("c1")  # idempotent
    with pytest.raises(CallGone):
        await gateway.bridge("c1", AgentLeg(1))
    await timer.advance(100)
    assert sum(isinstance(e, Hangup) for e in log.events["c1"]) == 1


async def test_a_bridged_call_talks_then_hangs_up(factory: Factory) -> None:
    timer = VirtualTimer()
    callee = CalleeModel(**{**HUMANS, "talk_s": 30})
    gateway = factory(timer, callee, 2)
    log = Log()
    await gateway.originate(_request(1), log.sink("c1"))
    await timer.advance(7)
    with pytest.raises(GatewayError):
        await gateway.bridge("nope", AgentLeg(1))
    await gateway.bridge("c1", AgentLeg(1, "PJSIP/1001"))
    await timer.advance(1000)
    final = log.events["c1"][-1]
    assert isinstance(final, Hangup) and final.by in ("callee", "agent")


async def test_a_waiting_callee_hangs_up_after_their_patience(factory: Factory) -> None:
    timer = VirtualTimer()
    callee = CalleeModel(**{**HUMANS, "patience_s": 3.0})
    gateway = factory(timer, callee, 4)
    log = Log()
    await gateway.originate(_request(1), log.sink("c1"))
    await timer.advance(200)
    answered, final = log.events["c1"][-2:]
    assert isinstance(answered, Answered) and isinstance(final, Hangup)
    assert final.by == "callee" and final.t > answered.t


async def test_a_message_plays_to_the_end_unless_the_callee_hangs_up(factory: Factory) -> None:
    timer = VirtualTimer()
    gateway = factory(timer, CalleeModel(**HUMANS), 5)
    log = Log()
    await gateway.originate(_request(1), log.sink("c1"))
    await timer.advance(7)
    playing = asyncio.ensure_future(gateway.play("c1", "x" * 60))
    await timer.advance(1)
    assert not playing.done()
    await timer.advance(10)
    assert playing.result() is True


async def test_the_same_seed_replays_the_same_calls() -> None:
    first = await _run(_sim, MIXED, 100)
    second = await _run(_sim, MIXED, 100)
    assert first.events == second.events


def test_requests_without_caller_id_or_with_a_short_ring_are_refused() -> None:
    with pytest.raises(ValueError):
        OriginateRequest("c", "+14155550123", "", 20)
    with pytest.raises(ValueError):
        OriginateRequest("c", "+14155550123", "+14155550100", 14)
    assert not math.isnan(OriginateRequest("c", "+1", "+1", 15).ring_timeout_s)
