"""The part both fake switches share: channels ("legs"), their scripted progress, and waiting.

A ``Leg`` is one channel on the fake switch. ``FakeSwitchBase.dial`` plays its script on
the event loop (ring, answer or end with a cause; give up waiting; ring out at the
originate timeout); the subclass turns each step into its protocol's events through
``on_ring``, ``on_answer`` and ``on_end``. Tests wait for the switch to reach a state with
``until`` (no sleeps).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.scenarios import Script


def ts() -> str:
    """A timestamp the way Asterisk writes them (``2026-05-01T12:00:00.000+0000``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


@dataclass(eq=False)
class Leg:
    id: str
    name: str
    app: str
    app_args: str
    endpoint: str
    caller: str
    script: Script
    variables: dict[str, str]
    timeout_s: float
    callee: bool
    created: str
    state: str = "Down"
    context: str = "default"
    exten: str = "s"
    priority: int = 1
    app_name: str = ""
    app_data: str = ""
    in_stasis: bool = False
    bridge: str | None = None
    answered: bool = False
    inbound: bool = False  # a caller dialed in (``ari_inbound``, ``esl_inbound``)
    handles: list[asyncio.TimerHandle] = field(default_factory=list)


class FakeSwitchBase:
    """Legs and their scripts; subclasses speak the protocol."""

    def __init__(self, *, time_scale: float) -> None:
        self.time_scale = time_scale
        self.play_s = 3.0
        self.legs: dict[str, Leg] = {}
        self.requests: list[tuple[Any, ...]] = []
        self.sent: list[Any] = []
        self.played: list[tuple[str, str]] = []
        self.ended: list[tuple[str, int]] = []
        self.connections = 0
        self._changed: asyncio.Event | None = None

    # -- protocol hooks -------------------------------------------------------------------
    def on_ring(self, leg: Leg) -> None:
        raise NotImplementedError

    def on_answer(self, leg: Leg) -> None:
        raise NotImplementedError

    def on_end(self, leg: Leg, cause: int, sip: int | None = None) -> None:
        raise NotImplementedError

    def on_dtmf(self, leg: Leg, digit: str, duration_ms: int) -> None:
        raise NotImplementedError

    # -- the script -----------------------------------------------------------------------
    def at(self, leg: Leg, delay: float, action: Callable[[], None]) -> None:
        """Run ``action`` after ``delay`` switch seconds (cancelled if the leg ends)."""
        loop = asyncio.get_running_loop()
        leg.handles.append(loop.call_later(delay * self.time_scale, action))

    def dial(self, leg: Leg) -> None:
        s = leg.script
        if s.end_after is not None and s.end_after < leg.timeout_s:
            self.at(leg, s.end_after, lambda: self.end(leg, s.cause, s.sip))
        if s.ring_after is not None:
            self.at(leg, s.ring_after, lambda: self.ring(leg))
        if s.answer_after is not None and s.answer_after < leg.timeout_s:
            self.at(leg, s.answer_after, lambda: self.answer(leg))
        elif s.end_after is None or s.end_after >= leg.timeout_s:
            self.at(leg, leg.timeout_s, lambda: self.end(leg, 19))  # rang out: NO_ANSWER

    def ring(self, leg: Leg) -> None:
        if self.legs.get(leg.id) is not leg or leg.answered:
            return
        leg.state = "Ringing"
        self.on_ring(leg)
        self.notify()

    def answer(self, leg: Leg) -> None:
        if self.legs.get(leg.id) is not leg:
            return
        for handle in leg.handles:
            handle.cancel()
        leg.handles.clear()
        leg.state, leg.answered = "Up", True
        self.on_answer(leg)
        patience = leg.script.patience_s
        if patience is not None:
            self.at(leg, patience, lambda: None if leg.bridge else self.end(leg, 16))
        self.notify()

    def end(self, leg: Leg, cause: int, sip: int | None = None) -> None:
        """The leg hangs up with Q.850 ``cause``, or with SIP final response ``sip`` (each
        switch turns that into its own cause) (idempotent)."""
        if self.legs.get(leg.id) is not leg:
            return
        for handle in leg.handles:
            handle.cancel()
        del self.legs[leg.id]
        self.on_end(leg, cause, sip)
        self.ended.append((leg.id, cause))
        self.notify()

    def press(self, leg_id: str, digit: str, duration_ms: int = 200) -> None:
        """The person on ``leg_id`` presses ``digit``. Both switches report a key when it is
        released, and only on an answered channel (a ringing one has no media yet)."""
        leg = self.legs.get(leg_id)
        if leg is not None and leg.answered:
            self.on_dtmf(leg, digit, duration_ms)
            self.notify()

    def hangup_far(self, leg_id: str, cause: int = 16) -> None:
        """The person on ``leg_id`` (callee or agent) hangs up now."""
        leg = self.legs.get(leg_id)
        if leg is not None:
            self.end(leg, cause)

    def wipe(self) -> None:
        """Every channel vanishes at once, without a word (the switch process died)."""
        for leg in self.legs.values():
            for handle in leg.handles:
                handle.cancel()
        self.legs.clear()
        self.notify()

    # -- waiting --------------------------------------------------------------------------
    def notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        if changed is not None:
            changed.set()

    async def until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until ``predicate()`` holds (checked after every change of the switch)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError("the fake switch never reached the expected state")
            if self._changed is None:
                self._changed = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))
