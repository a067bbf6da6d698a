"""Fake switches and live gateways over them, shared by the telephony tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.ari_server import FakeAsterisk
from tests.fakes.contract import LiveHarness
from tests.fakes.esl_server import FakeFreeSwitch
from tests.fakes.gateways import HARNESS_NUMBERS, ari_gateway, esl_gateway


@pytest.fixture
async def asterisk() -> AsyncIterator[FakeAsterisk]:
    fake = FakeAsterisk(time_scale=0.01)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def freeswitch() -> AsyncIterator[FakeFreeSwitch]:
    fake = FakeFreeSwitch(time_scale=0.01)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def ari(asterisk: FakeAsterisk) -> AsyncIterator[LiveHarness]:
    async with ari_gateway(asterisk) as gateway:
        yield LiveHarness(gateway, HARNESS_NUMBERS)


@pytest.fixture
async def esl(freeswitch: FakeFreeSwitch) -> AsyncIterator[LiveHarness]:
    async with esl_gateway(freeswitch) as gateway:
        yield LiveHarness(gateway, HARNESS_NUMBERS)
