"""Recordings in S3-compatible storage (DIALER_RECORDINGS_URL), against moto's S3 server:
calls are uploaded with their object URL, length and checksum on the attempt; downloads
stream from the bucket to the attempt's client only; retention deletes the object; a
failed upload keeps the file on local disk and the retry moves it up (nothing lost)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aioboto3
import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from moto.server import ThreadedMotoServer

from dialer.auth.tokens import create_token
from dialer.campaigns import retention
from dialer.clock import FakeClock
from dialer.config import Secret, Settings
from dialer.engine.runner import RunnerOptions
from dialer.recordings import recordings_storage
from dialer.recordings.s3 import S3Recordings
from dialer.runtime import create_app
from tests.integration.engine_support import (
    add_leads,
    make_campaign,
    running_engine,
    start,
    us_numbers,
    wait_for,
)
from tests.integration.test_recordings import ALL_HUMANS, NOON_SF

SECRET = "moto-secret-never-logged"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_settings(endpoint: str, bucket: str, spool: Path) -> Settings:
    return Settings(
        recordings_dir=spool,
        recordings_url=f"s3://{bucket}/calls/",
        s3_endpoint_url=endpoint,
        s3_region="us-east-1",
        s3_access_key_id=Secret("testing"),
        s3_secret_access_key=Secret(SECRET),
    )


async def make_bucket(endpoint: str, bucket: str) -> None:
    session = aioboto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="x", region_name="us-east-1"
    )
    async with session.client("s3", endpoint_url=endpoint) as s3:
        await s3.create_bucket(Bucket=bucket)


async def objects(store: S3Recordings) -> dict[str, bytes]:
    s3 = await store.client()
    listed = await s3.list_objects_v2(Bucket=store.location.bucket)
    out = {}
    for item in listed.get("Contents", []):
        got = await s3.get_object(Bucket=store.location.bucket, Key=item["Key"])
        out[item["Key"]] = await got["Body"].read()
    return out


async def test_recorded_calls_go_to_the_bucket_stream_back_and_expire(
    epool: asyncpg.Pool, tmp_path: Path, s3_endpoint: str
) -> None:
    await make_bucket(s3_endpoint, "calls-a")
    store = recordings_storage(s3_settings(s3_endpoint, "calls-a", tmp_path))
    assert isinstance(store, S3Recordings)
    clock = FakeClock(NOON_SF)
    async with epool.acquire() as conn:
        campaign = await make_campaign(conn, clock.now(), record="connected")
        await conn.execute(
            "UPDATE campaigns SET recording_retention_days = 30 WHERE id = $1", campaign["id"]
        )
        await add_leads(conn, campaign["id"], us_numbers(3, start=700), clock.now())
        await start(conn, campaign["id"], clock.now())
        own, _ = await create_token(conn, name="v", role="viewer", client_id=1, now=clock.now())

    async def recorded() -> Any:
        return await epool.fetch(
            "SELECT id, recording_key, recording_url, recording_s, recording_sha256"
            " FROM attempts WHERE campaign_id = $1 AND recording_url IS NOT NULL",
            campaign["id"],
        )

    options = RunnerOptions(lease_ttl_s=5, tick_s=0.05, shutdown_timeout_s=5, recordings=store)
    async with running_engine(epool, clock=clock, callee=ALL_HUMANS, sim_agents=2, options=options):
        rows = await wait_for(recorded, timeout=60)
    row = rows[0]
    name = f"calls/{campaign['id']}/{row['id']}.wav"
    assert row["recording_key"] == f"s3://calls-a/{name}"
    stored = await objects(store)
    assert hashlib.sha256(stored[name]).hexdigest() == row["recording_sha256"]
    assert stored[name][:4] == b"RIFF" and row["recording_s"] > 0
    assert store.spool.keys() == []  # uploaded: nothing left on local disk

    app = create_app(s3_settings(s3_endpoint, "calls-a", tmp_path), pool=epool, clock=clock)
    async with TestClient(TestServer(app)) as client:
        path = row["recording_url"]
        assert (await client.get(path)).status == 401
        resp = await client.get(path, headers={"Authorization": f"Bearer {own}"})
        assert resp.status == 200 and resp.content_type == "audio/wav"
        assert await resp.read() == stored[name]

        await epool.execute(
            "UPDATE attempts SET started_at = started_at - interval '31 days'"
            " WHERE campaign_id = $1",
            campaign["id"],
        )
        deleted = await retention.sweep(epool, store, now=clock.now() + timedelta(seconds=1))
        assert deleted == len(await epool.fetch(
            "SELECT 1 FROM attempts WHERE campaign_id = $1 AND recording_key IS NOT NULL",
            campaign["id"],
        ))  # fmt: skip
        assert await objects(store) == {}
        resp = await client.get(path, headers={"Authorization": f"Bearer {own}"})
        assert resp.status == 404
    await store.close()


async def test_a_failed_upload_keeps_the_file_and_the_retry_moves_it_up(
    epool: asyncpg.Pool, tmp_path: Path, s3_endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = recordings_storage(s3_settings(s3_endpoint, "calls-b", tmp_path))  # no bucket yet
    assert isinstance(store, S3Recordings)
    clock = FakeClock(NOON_SF)
    async with epool.acquire() as conn:
        campaign = await make_campaign(conn, clock.now(), record="all")
        [lead] = await add_leads(conn, campaign["id"], us_numbers(1, start=800), clock.now())
        attempt = await conn.fetchval(
            "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, ended_at,"
            " outcome, compliance) VALUES ($1, $2, '+14155550800', $3, $3, 'human', '{}')"
            " RETURNING id",
            lead,
            campaign["id"],
            clock.now(),
        )
    key = f"{campaign['id']}/{attempt}.wav"
    with caplog.at_level(logging.WARNING, logger="dialer.recordings"):
        stored = await store.put(key, b"RIFF-kept-locally")
    assert stored.key == key  # the spool key: the upload failed
    assert (tmp_path / key).read_bytes() == b"RIFF-kept-locally"
    assert "upload failed" in caplog.text and SECRET not in caplog.text
    assert await store.flush(epool) == 0  # its attempt does not name it yet: kept
    await epool.execute(
        "UPDATE attempts SET recording_key = $2, recording_url = $3 WHERE id = $1",
        attempt,
        key,
        f"/api/v1/attempts/{attempt}/recording",
    )
    assert await store.flush(epool) == 0  # still no bucket: kept, nothing lost
    assert await store.read(key) == b"RIFF-kept-locally"  # served from local disk meanwhile

    await make_bucket(s3_endpoint, "calls-b")
    assert await store.flush(epool) == 1
    moved = await epool.fetchval("SELECT recording_key FROM attempts WHERE id = $1", attempt)
    assert moved == f"s3://calls-b/calls/{key}"
    assert not (tmp_path / key).exists()
    assert await store.read(moved) == b"RIFF-kept-locally"
    await store.close()
