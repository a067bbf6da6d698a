"""Per-token and per-address API rate limits: 429 with Retry-After, refilled by the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from dialer.clock import FakeClock
from dialer.config import Settings
from dialer.runtime.app import create_app
from tests.integration.conftest import Api


@pytest.fixture
async def limited(pool: asyncpg.Pool) -> AsyncIterator[Api]:
    settings = Settings(
        api_rate_per_token=1.0,
        api_burst_per_token=3,
        api_rate_per_address=2.0,
        api_burst_per_address=6,
    )
    clock = FakeClock()
    client = TestClient(TestServer(create_app(settings, pool=pool, clock=clock)))
    await client.start_server()
    helper = Api(client, pool, clock)
    for name in ("one", "two"):
        helper.tokens[name] = await helper.token("viewer", name=name)
    yield helper
    await client.close()


async def _get(api: Api, as_: str) -> tuple[int, dict[str, str], object]:
    resp = await api.client.get(
        "/api/v1/campaigns", headers={"Authorization": f"Bearer {api.tokens.get(as_, as_)}"}
    )
    return resp.status, dict(resp.headers), await resp.json()


async def test_a_token_past_its_burst_gets_429_until_the_bucket_refills(limited: Api) -> None:
    assert [(await _get(limited, "one"))[0] for _ in range(3)] == [200, 200, 200]
    status, headers, body = await _get(limited, "one")
    assert status == 429 and headers["Retry-After"] == "1"
    assert isinstance(body, dict) and "too many requests" in body["error"]
    assert (await _get(limited, "two"))[0] == 200  # another token is not held back
    limited.clock.advance(1.0)
    assert (await _get(limited, "one"))[0] == 200
    assert (await _get(limited, "one"))[0] == 429


async def test_an_address_is_limited_before_authentication(limited: Api) -> None:
    statuses = [(await _get(limited, "not-a-token"))[0] for _ in range(6)]
    assert statuses == [401] * 6
    status, headers, _ = await _get(limited, "one")
    assert status == 429 and int(headers["Retry-After"]) >= 1
    limited.clock.advance(10)
    assert (await _get(limited, "one"))[0] == 200


async def test_the_console_and_metrics_are_not_limited(limited: Api) -> None:
    for _ in range(10):
        resp = await limited.client.get("/metrics")
        assert resp.status == 200
