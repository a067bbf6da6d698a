"""Gateways wired to the fake switches, ready for tests (and for the engine's contract test).

``ari_gateway(fake)`` / ``esl_gateway(fake)`` build an adapter pointed at a running fake with
fast reconnection; ``HARNESS_NUMBERS`` says which numbers give which behaviour.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar

from dialer.config import Secret
from dialer.telephony.ari import AriGateway
from dialer.telephony.esl import EslGateway
from dialer.telephony.switch_config import AriConfig, EslConfig
from dialer.timer import LoopTimer
from tests.fakes.ari_server import FakeAsterisk
from tests.fakes.esl_server import FakeFreeSwitch
from tests.fakes.scenarios import SCENARIOS, number

G = TypeVar("G", AriGateway, EslGateway)
FAST = {"backoff_base_s": 0.01, "backoff_cap_s": 0.05, "connect_timeout_s": 5.0}

# kind → the numbers a harness dials for it
HARNESS_NUMBERS = {
    "human": number("0000"),
    "no_answer": number("0019"),
    "mix": ",".join([number("0000"), *(number(s) for s in SCENARIOS)]),
}


def ari_config(fake: FakeAsterisk, **overrides: Any) -> AriConfig:
    values: dict[str, Any] = {
        "url": fake.url,
        "user": fake.user,
        "password": Secret(fake.password),
        **FAST,
    }
    values.update(overrides)
    return AriConfig(**values)


def ari_gateway(fake: FakeAsterisk, **overrides: Any) -> AbstractAsyncContextManager[AriGateway]:
    return _started(AriGateway(ari_config(fake, **overrides), LoopTimer(), rng=random.Random(7)))


def esl_config(fake: FakeFreeSwitch, **overrides: Any) -> EslConfig:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": fake.port,
        "password": Secret(fake.password),
        **FAST,
    }
    values.update(overrides)
    return EslConfig(**values)


def esl_gateway(fake: FakeFreeSwitch, **overrides: Any) -> AbstractAsyncContextManager[EslGateway]:
    return _started(EslGateway(esl_config(fake, **overrides), LoopTimer(), rng=random.Random(7)))


@asynccontextmanager
async def _started(gateway: G) -> AsyncIterator[G]:
    try:  # closed even when start fails: its link would go on retrying
        await gateway.start()
        yield gateway
    finally:
        await gateway.close()
