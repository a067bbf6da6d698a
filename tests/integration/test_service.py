"""The service as operators run it: readiness, `dialer serve` in a real process, shutdown."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from dialer import db
from dialer.config import Settings
from dialer.runtime import create_app


async def _readyz(url: str) -> tuple[int, dict]:
    pool = await db.create_pool(url, min_size=0, max_size=2)
    client = TestClient(TestServer(create_app(Settings(), pool=pool)))
    await client.start_server()
    try:
        resp = await client.get("/readyz")
        return resp.status, await resp.json()
    finally:
        await client.close()
        await pool.close()


async def test_readyz_ok_on_a_migrated_database(db_url: str) -> None:
    assert await _readyz(db_url) == (200, {"status": "ready"})


async def test_readyz_503_when_migrations_are_pending(empty_db_url: str) -> None:
    status, body = await _readyz(empty_db_url)
    assert status == 503 and "dialer migrate" in body["reason"]


async def test_readyz_503_when_the_database_is_unreachable(db_url: str) -> None:
    parts = urlsplit(db_url)
    gone = urlunsplit(parts._replace(path="/no_such_database"))
    status, body = await _readyz(gone)
    assert status == 503 and "unreachable" in body["reason"]


async def test_serve_starts_answers_and_shuts_down_on_sigterm(fresh_db_url: str) -> None:
    env = {
        **os.environ,
        "DIALER_DATABASE_URL": fresh_db_url,
        "DIALER_PORT": "0",
        "DIALER_LOG_FORMAT": "json",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "dialer",
        "serve",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    port = None
    lines: list[dict] = []
    try:
        async with asyncio.timeout(60):
            while port is None:
                raw = await proc.stderr.readline()
                assert raw, "serve exited before listening"
                entry = json.loads(raw)  # every log line is one JSON object
                lines.append(entry)
                port = entry.get("port")
        assert any(e.get("gateway") == "sim" and e["level"] == "warning" for e in lines)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            async with http.get("/healthz") as r:
                assert r.status == 200
            async with http.get("/api/v1/campaigns") as r:
                assert r.status == 401
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            rest = await proc.stderr.read()
            assert await proc.wait() == 0
        messages = [json.loads(x)["msg"] for x in rest.decode().splitlines() if x.strip()]
        assert "stopped" in messages
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
