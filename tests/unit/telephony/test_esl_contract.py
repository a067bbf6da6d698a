"""The gateway contract, held by the ESL adapter against a fake FreeSWITCH over real sockets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.fakes.contract import CONTRACT, CONTRACT_IDS, Harness, LiveHarness
from tests.fakes.esl_server import FakeFreeSwitch
from tests.fakes.gateways import HARNESS_NUMBERS, esl_gateway


@pytest.mark.parametrize("behaviour", CONTRACT, ids=CONTRACT_IDS)
async def test_esl_gateway_keeps_the_contract(
    behaviour: Callable[[Harness], Awaitable[None]],
) -> None:
    fake = FakeFreeSwitch(time_scale=0.005)
    await fake.start()
    try:
        async with esl_gateway(fake) as gateway:
            await behaviour(LiveHarness(gateway, HARNESS_NUMBERS))
    finally:
        await fake.stop()
