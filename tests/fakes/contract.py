"""The gateway contract as reusable checks, runnable against any ``Gateway``.

``check_contract`` verifies one call's event sequence (``dialer.gateway``): at most
one ``Ringing`` and only before an answer, at most one ``Answered``, exactly one final
event and nothing after it, ``Hangup`` as the end of every answered call. ``CONTRACT`` is
a list of behaviours every gateway owes the engine, each an ``async (Harness) -> None``.
A ``Harness`` hides how time moves: a ``VirtualHarness`` advances a ``VirtualTimer``
(the simulated gateway), a ``LiveHarness`` waits on the event loop (gateways talking to
a fake switch over real sockets).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import pytest

from dialer.gateway import (
    FINAL_EVENTS,
    AgentLeg,
    Answered,
    CallEvent,
    CallGone,
    Gateway,
    GatewayError,
    Hangup,
    OriginateRequest,
)
from dialer.timer import VirtualTimer

T = TypeVar("T")
_ids = itertools.count(1)


def new_call_id() -> str:
    return f"call-{next(_ids):06d}"


class EventLog:
    """An ``EventSink`` that keeps every event by call id."""

    def __init__(self) -> None:
        self.events: dict[str, list[CallEvent]] = defaultdict(list)
        self.on_event: Callable[[CallEvent], None] | None = None  # the test's "engine"
        self.changed = asyncio.Event()

    def __call__(self, event: CallEvent) -> None:
        self.events[event.call_id].append(event)
        if self.on_event is not None:
            self.on_event(event)
        self.changed.set()

    def of(self, call_id: str) -> list[CallEvent]:
        return self.events.get(call_id, [])

    def final(self, call_id: str) -> CallEvent | None:
        return next((e for e in self.of(call_id) if isinstance(e, FINAL_EVENTS)), None)

    def answer(self, call_id: str) -> Answered | None:
        return next((e for e in self.of(call_id) if isinstance(e, Answered)), None)

    def kinds(self, call_id: str) -> list[str]:
        return [type(e).__name__ for e in self.of(call_id)]


def check_contract(events: list[CallEvent]) -> None:
    """Fail unless ``events`` (one call's, in order) keep the per-call event contract."""
    names = [type(e).__name__ for e in events]
    assert events, "the call produced no event"
    assert len({e.call_id for e in events}) == 1, names
    finals = [i for i, e in enumerate(events) if isinstance(e, FINAL_EVENTS)]
    assert finals == [len(events) - 1], f"exactly one final event, last: {names}"
    assert names.count("Ringing") <= 1 and names.count("Answered") <= 1, names
    if "Answered" in names:
        assert "Ringing" not in names[names.index("Answered") :], names
        assert isinstance(events[-1], Hangup), f"an answered call ends with Hangup: {names}"
    if "Dtmf" in names:  # keys only on an answered call, before its end
        assert "Answered" in names[: names.index("Dtmf")], names
    times = [e.t for e in events]
    assert times == sorted(times), f"event times go backwards: {times}"


class Harness:
    """A gateway under test, the log of its events, and a way to let time pass."""

    def __init__(self, gateway: Gateway, numbers: dict[str, str]) -> None:
        self.gateway = gateway
        self.log = EventLog()
        self.numbers = numbers  # kind ("human", "no_answer", "mix") → number(s), comma-separated

    def request(
        self, call_id: str, kind: str, index: int = 0, amd: bool = True
    ) -> OriginateRequest:
        options = self.numbers[kind].split(",")
        return OriginateRequest(
            call_id=call_id,
            phone_e164=options[index % len(options)],
            caller_id="+15550009999",
            ring_timeout_s=15.0,
            amd=amd,
            variables=(("attempt_id", str(index + 1)), ("campaign_id", "7")),
        )

    async def originate(self, kind: str, index: int = 0, amd: bool = True) -> str:
        call_id = new_call_id()
        await self.gateway.originate(self.request(call_id, kind, index, amd), self.log)
        return call_id

    async def until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        raise NotImplementedError

    async def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Await ``coro`` while letting the gateway's time pass."""
        task = asyncio.get_running_loop().create_task(coro)
        await self.until(task.done, timeout)
        return task.result()

    async def ended(self, call_id: str, timeout: float = 10.0) -> CallEvent:
        await self.until(lambda: self.log.final(call_id) is not None, timeout)
        final = self.log.final(call_id)
        assert final is not None
        return final

    def _decided(self, call_id: str) -> bool:
        return bool(self.log.final(call_id) or self.log.answer(call_id))

    async def answered_human(self, tries: int = 60) -> str:
        """A call answered by a human (re-dialled until one is, for random gateways)."""
        for i in range(tries):
            call_id = await self.originate("human", i)
            await self.until(functools.partial(self._decided, call_id))
            answer = self.log.answer(call_id)
            if answer is not None and answer.kind == "human" and self.log.final(call_id) is None:
                return call_id
            await self.gateway.hangup(call_id)
        raise AssertionError("no call was answered by a human")


class LiveHarness(Harness):
    """Time is the event loop's: wait for events with a timeout."""

    async def until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() > deadline:
                raise AssertionError("the gateway never reached the expected state")
            self.log.changed.clear()
            # woken by the next event; re-checked now and then for other conditions
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.log.changed.wait(), 0.05)


class VirtualHarness(Harness):
    """Time is a ``VirtualTimer``: advance it until the condition holds."""

    def __init__(self, gateway: Gateway, numbers: dict[str, str], timer: VirtualTimer) -> None:
        super().__init__(gateway, numbers)
        self.timer = timer

    async def until(self, predicate: Callable[[], bool], timeout: float = 600.0) -> None:
        waited = 0.0
        while not predicate():
            if waited > max(timeout, 600.0):
                raise AssertionError("the gateway never reached the expected state")
            await self.timer.advance(0.5)
            waited += 0.5


# -- the behaviours --------------------------------------------------------------------------
async def every_call_ends_exactly_once(h: Harness) -> None:
    """Whatever happens on the line, each call keeps the event contract; the 'engine' here
    hangs up every answer (as it does with machines, or after a message)."""
    pending: list[asyncio.Task[None]] = []

    def engine(event: CallEvent) -> None:
        if isinstance(event, Answered):
            pending.append(asyncio.get_running_loop().create_task(h.gateway.hangup(event.call_id)))

    h.log.on_event = engine
    calls = [await h.originate("mix", i) for i in range(12)]
    await h.until(lambda: all(h.log.final(c) for c in calls), 30.0)
    h.log.on_event = None
    await asyncio.gather(*pending)
    for call_id in calls:
        check_contract(h.log.of(call_id))


async def hangup_before_answer_is_heard(h: Harness) -> None:
    call_id = await h.originate("no_answer")
    await h.gateway.hangup(call_id)
    await h.gateway.hangup(call_id)  # idempotent
    final = await h.ended(call_id)
    assert isinstance(final, Hangup) and final.by == "dialer", h.log.kinds(call_id)
    check_contract(h.log.of(call_id))


async def ended_calls_are_gone(h: Harness) -> None:
    call_id = await h.originate("no_answer")
    await h.gateway.hangup(call_id)
    await h.ended(call_id)
    with pytest.raises(CallGone):
        await h.gateway.bridge(call_id, AgentLeg(1))
    with pytest.raises(CallGone):
        await h.gateway.play(call_id, "sound:dialer/safe-harbor")
    await h.gateway.hangup(call_id)  # no error, no event
    await h.gateway.hangup("never-placed")
    check_contract(h.log.of(call_id))


async def duplicate_call_id_is_refused(h: Harness) -> None:
    call_id = await h.originate("no_answer")
    with pytest.raises(GatewayError):
        await h.gateway.originate(h.request(call_id, "no_answer"), h.log)
    await h.gateway.hangup(call_id)
    await h.ended(call_id)
    check_contract(h.log.of(call_id))


async def human_is_bridged_then_hung_up(h: Harness) -> None:
    call_id = await h.answered_human()
    await h.run(h.gateway.bridge(call_id, AgentLeg(1)))
    if h.log.final(call_id) is None:
        await h.gateway.hangup(call_id)
    final = await h.ended(call_id)
    assert isinstance(final, Hangup)
    check_contract(h.log.of(call_id))


async def message_plays_to_its_end(h: Harness) -> None:
    call_id = await h.answered_human()
    finished = await h.run(h.gateway.play(call_id, "This is Acme: we will call you back."))
    assert finished is True
    await h.gateway.hangup(call_id)
    final = await h.ended(call_id)
    assert isinstance(final, Hangup) and final.by == "dialer"
    check_contract(h.log.of(call_id))


async def close_ends_every_live_call(h: Harness) -> None:
    calls = [await h.originate("no_answer", i) for i in range(3)]
    await h.gateway.close()
    await h.until(lambda: all(h.log.final(c) for c in calls))
    for call_id in calls:
        check_contract(h.log.of(call_id))
        assert h.log.kinds(call_id).count("Ringing") <= 1


CONTRACT: list[Callable[[Harness], Awaitable[None]]] = [
    every_call_ends_exactly_once,
    hangup_before_answer_is_heard,
    ended_calls_are_gone,
    duplicate_call_id_is_refused,
    human_is_bridged_then_hung_up,
    message_plays_to_its_end,
    close_ends_every_live_call,
]
CONTRACT_IDS = [c.__name__ for c in CONTRACT]
