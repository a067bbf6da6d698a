"""The engine's call flow driving a real switch adapter (ARI or ESL) over its fake switch:
shared by the notice-then-bridge and voicemail-beep tests (fixture ``switch`` in conftest)."""

from __future__ import annotations

import asyncio
from typing import Any

from dialer.engine.callflow import CallFlow
from dialer.engine.closing import CallRecord
from dialer.engine.conduct import RECORDING_NOTICE
from dialer.engine.livecall import LiveCall
from dialer.gateway import OriginateRequest
from dialer.telephony.esl import agent_uuid
from dialer.timer import LoopTimer
from tests.fakes.contract import LiveHarness, new_call_id
from tests.fakes.gateways import HARNESS_NUMBERS
from tests.fakes.scenarios import number
from tests.unit.engine.test_callflow import Harness, campaign

NOTICE_SOUND = {"ari": RECORDING_NOTICE, "esl": "dialer/recording-notice.wav"}


def commands(fake: Any, prefix: str) -> list[tuple[str, dict[str, str]]]:
    """The commands the fake FreeSWITCH received that start with ``prefix``."""
    return [(line, headers) for line, headers in fake.requests if line.startswith(prefix)]


async def dial(h: LiveHarness, suffix: str, *, campaign: str = "7", **fields: Any) -> str:
    """Originate a call to the scenario number ending ``suffix`` (``tests.fakes.scenarios``)
    carrying our attempt and ``campaign`` ids; ``fields``: more ``OriginateRequest`` fields."""
    values: dict[str, Any] = {
        "call_id": new_call_id(),
        "phone_e164": number(suffix),
        "caller_id": "+15550009999",
        "ring_timeout_s": 15.0,
        "variables": (("attempt_id", "41"), ("campaign id", campaign)),
        **fields,
    }
    await h.gateway.originate(OriginateRequest(**values), h.log)
    return str(values["call_id"])


class Switch:
    """One adapter over its fake, and what the fake saw, in terms both switches share."""

    def __init__(self, kind: str, harness: LiveHarness, fake: Any) -> None:
        self.kind, self.harness, self.fake = kind, harness, fake

    def phone(self, extension: str) -> str:
        """A phone's endpoint: ``PJSIP/...`` on Asterisk, ``user/...`` on FreeSWITCH."""
        return f"PJSIP/{extension}" if self.kind == "ari" else f"user/{extension}"

    def agent_leg(self, call_id: str) -> str:
        """The channel id of the agent bridged to ``call_id``."""
        return f"{call_id}-agent" if self.kind == "ari" else agent_uuid(call_id)

    def supervisor(self, monitor_id: str) -> str:
        """The channel id of a monitoring supervisor's phone."""
        return f"{monitor_id}-sup" if self.kind == "ari" else monitor_id

    def mixed(self, call_id: str) -> set[str]:
        """The channels in the call's mix: its bridge (ARI) or conference room (ESL)."""
        if self.kind == "ari":
            return set(self.fake.bridges[f"{call_id}-bridge"]["channels"])
        return set(self.fake.rooms[f"dialer-{call_id}"])

    def idle(self) -> bool:
        """No channel left on the switch (and, on Asterisk, no bridge)."""
        return not self.fake.legs and not (self.kind == "ari" and self.fake.bridges)

    def taps(self) -> dict[str, Any]:
        """The listening taps on calls: snoop channels (ARI) or eavesdrops (ESL)."""
        return dict(self.fake.snoops if self.kind == "ari" else self.fake.eavesdrops)

    def install_notice(self) -> None:
        self.fake.sounds = frozenset({*self.fake.sounds, NOTICE_SOUND[self.kind]})

    def agent_called(self, call_id: str) -> bool:
        if self.kind == "ari":
            return any(p.endswith(f"/channels/{call_id}-agent") for _, p, *_ in self.fake.requests)
        leg = "origination_uuid=" + agent_uuid(call_id)
        return any(leg in r[0] for r in self.fake.requests)

    def recording_started(self) -> bool:
        if self.kind == "ari":
            return any(p.endswith("/record") for _, p, *_ in self.fake.requests)
        return any(
            r[0].startswith("api uuid_record") and " start " in r[0] for r in self.fake.requests
        )


class Engine:
    """The engine's ``CallFlow`` (one free agent) placing calls through a real adapter."""

    def __init__(self, switch: Switch, record: str = "connected", **fields: Any) -> None:
        self.record = record
        self.h = Harness(campaign(record=record, **fields), agents=1)
        self.gateway = switch.harness.gateway
        self.records: list[CallRecord] = []
        self.flow = CallFlow(
            gateway=self.gateway,
            timer=LoopTimer(),
            clock=self.h.clock,
            agents_view=self.h.view,
            budget=self.h.budget,
            pacing=self.h.pacing,  # type: ignore[arg-type]
            campaign=lambda: self.h.config,
            spawn=self.h.spawn,
            record=lambda call, rec, release: self.records.append(rec),
            kick=lambda trigger=True: None,
            seats=self.h.seats,
        )

    async def dial(
        self, notice: str | None = "us-ca.recording-consent", number: str = HARNESS_NUMBERS["human"]
    ) -> LiveCall:
        call = self.h.dial(notice=notice, record=self.record)
        call.call_id = new_call_id()
        self.flow.add(call)
        request = OriginateRequest(
            call.call_id,
            number,
            "+15550000000",
            30.0,
            record=self.record,  # type: ignore[arg-type]
        )
        await self.gateway.originate(request, self.flow.on_event)
        return call

    async def until(self, predicate: Any, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.01)
