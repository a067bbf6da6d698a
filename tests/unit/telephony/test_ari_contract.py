"""The gateway contract, held by the ARI adapter against a fake Asterisk over real sockets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.fakes.ari_server import FakeAsterisk
from tests.fakes.contract import CONTRACT, CONTRACT_IDS, Harness, LiveHarness
from tests.fakes.gateways import HARNESS_NUMBERS, ari_gateway


@pytest.mark.parametrize("behaviour", CONTRACT, ids=CONTRACT_IDS)
async def test_ari_gateway_keeps_the_contract(
    behaviour: Callable[[Harness], Awaitable[None]],
) -> None:
    fake = FakeAsterisk(time_scale=0.005)
    await fake.start()
    try:
        async with ari_gateway(fake) as gateway:
            await behaviour(LiveHarness(gateway, HARNESS_NUMBERS))
    finally:
        await fake.stop()
