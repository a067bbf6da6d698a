"""Schemathesis against the service's own OpenAPI document (a bounded run; the longer one
is ``bench/fuzz_api.py``): no request, valid or not, gets a 5xx, and every answer matches
the document (status, content type, body schema)."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from dialer.auth.tokens import create_token
from dialer.clock import FakeClock
from dialer.config import Settings

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "bench" / "fuzz_api.py"
EXAMPLES = 4  # per operation and mode: ~500 requests, well inside a minute


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_api", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
async def served(
    pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[ModuleType, str, str]]:
    bench = _bench()
    clock = FakeClock()
    app = bench.fuzz_app(pool, Settings(data_dir=tmp_path_factory.mktemp("data")), clock)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    async with pool.acquire() as conn:
        token, _ = await create_token(conn, name="fuzz", role="admin", now=clock.now())
    yield bench, str(server.make_url("")).rstrip("/"), token
    await server.close()


async def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(
    served: tuple[ModuleType, str, str],
) -> None:
    bench, base_url, token = served
    report = await asyncio.to_thread(bench.fuzz, base_url, token, examples=EXAMPLES)
    assert report.operations >= 50 and report.requests >= 200
    assert report.server_errors == 0, report.failures
    assert report.mismatches == 0, report.failures
