"""Fixtures for tests that drive the real HTTP application over a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from dialer import db
from dialer.auth.tokens import create_token
from dialer.clock import FakeClock
from dialer.config import Settings
from dialer.runtime import create_app
from dialer.runtime.parts import CleanupContext
from tests.fakes.pgproxy import PgProxy


@dataclass
class Api:
    """A test client plus a token per role; ``call`` sends JSON with a chosen token."""

    client: TestClient
    pool: asyncpg.Pool
    clock: FakeClock
    tokens: dict[str, str] = field(default_factory=dict)

    async def call(
        self,
        method: str,
        path: str,
        *,
        as_: str | None = "admin",
        json: Any = None,
        **kw: Any,
    ) -> tuple[int, Any]:
        headers = dict(kw.pop("headers", {}))
        if as_ is not None:
            headers["Authorization"] = f"Bearer {self.tokens.get(as_, as_)}"
        resp = await self.client.request(method, path, json=json, headers=headers, **kw)
        body = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return resp.status, body

    async def token(
        self,
        role: str,
        *,
        client_id: int | None = None,
        agent_id: int | None = None,
        name: str | None = None,
    ) -> str:
        async with self.pool.acquire() as conn:
            token, _ = await create_token(
                conn,
                name=name or f"{role}-{client_id}",
                role=role,
                client_id=client_id,
                agent_id=agent_id,
                now=self.clock.now(),
            )
        return token


@asynccontextmanager
async def serving(
    pool: asyncpg.Pool,
    settings: Settings,
    roles: Iterable[str] = ("admin", "manager", "viewer", "crm"),
    *,
    background: Iterable[CleanupContext] = (),
) -> AsyncIterator[Api]:
    """The HTTP application on ``pool`` with a ``FakeClock`` (and the ``background`` parts
    of ``runtime.parts``), and a token for each of ``roles`` named after it."""
    clock = FakeClock()
    app = create_app(settings, pool=pool, clock=clock, background=background)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        helper = Api(client, pool, clock)
        for role in roles:
            helper.tokens[role] = await helper.token(role, name=role)
        yield helper
    finally:
        await client.close()


@pytest.fixture(scope="module")
async def api(pool: asyncpg.Pool) -> AsyncIterator[Api]:
    async with serving(pool, Settings()) as helper:
        yield helper


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    """The CLI run in-process talks to this test session's database."""
    monkeypatch.setenv("DIALER_DATABASE_URL", db_url)


@pytest.fixture
async def epool(fresh_db_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a fresh database of its own, for tests that run engines."""
    pool = await db.create_pool(fresh_db_url, min_size=2, max_size=20)
    yield pool
    await pool.close()


@pytest.fixture
async def pools(fresh_db_url: str) -> AsyncIterator[tuple[PgProxy, asyncpg.Pool, asyncpg.Pool]]:
    """(a proxy to cut, the service's pool through it, a direct pool) on a fresh database:
    the engine-outage tests cut the proxy while checking through the direct pool (or run a
    second engine on it)."""
    proxy = PgProxy(fresh_db_url)
    url = await proxy.start()
    service = await db.create_pool(url, min_size=2, max_size=20)
    direct = await db.create_pool(fresh_db_url, min_size=2, max_size=20)
    yield proxy, service, direct
    await service.close()
    await direct.close()
    await proxy.close()
