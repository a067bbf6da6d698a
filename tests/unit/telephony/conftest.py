"""Fake switches and live gateways over them, shared by the telephony tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.ari_server import FakeAsterisk
from tests.fakes.contract import LiveHarness
from tests.fakes.esl_server import FakeFreeSwitch
from tests.fakes.gateways import HARNESS_NUMBERS, ari_gateway, esl_gateway
from tests.unit.telephony.flow_support import Switch


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


@pytest.fixture(params=["ari", "esl"])
def switch(request: pytest.FixtureRequest, tmp_path: Path) -> Switch:
    kind = request.param
    fake = request.getfixturevalue("asterisk" if kind == "ari" else "freeswitch")
    harness = request.getfixturevalue(kind)
    if kind == "esl":  # FreeSWITCH writes its recordings where the dialer reads them
        harness.gateway.recordings.directory = tmp_path
    return Switch(kind, harness, fake)
