"""Call recordings: a recording campaign's connected calls are stored with their URL, length
and checksum (on the attempt and in attempt.completed); downloads need a token or session
of the attempt's client; retention deletes old files, audited."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient, TestServer

from dialer.auth.tokens import create_token
from dialer.campaigns import retention
from dialer.clock import FakeClock
from dialer.config import Settings
from dialer.engine.runner import RunnerOptions
from dialer.recordings import LocalRecordings
from dialer.runtime import create_app
from tests.integration.engine_support import (
    add_leads,
    humans,
    make_campaign,
    running_engine,
    start,
    us_numbers,
    wait_for,
)

NOON_SF = datetime(2026, 5, 5, 19, 0, tzinfo=UTC)
ALL_HUMANS = humans(ring_min_s=2, ring_max_s=4, talk_s=6)


async def test_connected_calls_are_recorded_stored_and_announced(
    epool: asyncpg.Pool, tmp_path: Path
) -> None:
    clock = FakeClock(NOON_SF)
    async with epool.acquire() as conn:
        campaign = await make_campaign(conn, clock.now(), record="connected")
        await add_leads(conn, campaign["id"], us_numbers(4, start=400), clock.now())
        await start(conn, campaign["id"], clock.now())
    cid = campaign["id"]

    async def recorded() -> Any:
        return await epool.fetch(
            "SELECT id, recording_key, recording_url, recording_s, recording_sha256"
            " FROM attempts WHERE campaign_id = $1 AND recording_url IS NOT NULL",
            cid,
        )

    storage = LocalRecordings(tmp_path)
    options = RunnerOptions(lease_ttl_s=5, tick_s=0.05, shutdown_timeout_s=5, recordings=storage)
    async with running_engine(epool, clock=clock, callee=ALL_HUMANS, sim_agents=2, options=options):
        rows = await wait_for(recorded, timeout=60)
    row = rows[0]
    data = (tmp_path / row["recording_key"]).read_bytes()
    assert data[:4] == b"RIFF" and hashlib.sha256(data).hexdigest() == row["recording_sha256"]
    assert row["recording_url"] == f"/api/v1/attempts/{row['id']}/recording"
    assert row["recording_s"] > 0
    payload = await epool.fetchval(
        "SELECT payload FROM webhook_outbox WHERE type = 'attempt.completed'"
        " AND (payload->>'attempt_id')::bigint = $1",
        row["id"],
    )
    event = json.loads(payload) if isinstance(payload, str) else payload
    assert event["recording_url"] == row["recording_url"]
    assert event["recording_sha256"] == row["recording_sha256"]
    unrecorded = await epool.fetchval(
        "SELECT count(*) FROM attempts WHERE campaign_id = $1 AND connected_at IS NULL"
        " AND recording_key IS NOT NULL",
        cid,
    )
    assert unrecorded == 0  # 'connected': only calls an agent took
    # San Francisco numbers: California needs every party's consent, so each connected
    # call heard the recording notice before its agent (Cal. Penal Code 632)
    notices = await epool.fetch(
        "SELECT DISTINCT recording_notice FROM attempts WHERE campaign_id = $1"
        " AND connected_at IS NOT NULL",
        cid,
    )
    assert [n["recording_notice"] for n in notices] == ["us-ca.recording-consent"]
    assert event["recording_notice"] == "us-ca.recording-consent"


async def test_downloads_need_the_clients_token_and_retention_deletes(
    epool: asyncpg.Pool, tmp_path: Path
) -> None:
    clock = FakeClock(NOON_SF)
    async with epool.acquire() as conn:
        campaign = await make_campaign(conn, clock.now(), record="all")
        await conn.execute(
            "UPDATE campaigns SET recording_retention_days = 30 WHERE id = $1", campaign["id"]
        )
        [lead] = await add_leads(conn, campaign["id"], us_numbers(1, start=500), clock.now())
        attempt = await conn.fetchval(
            "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, ended_at,"
            " outcome, compliance) VALUES ($1, $2, '+14155550500', $3, $3, 'human', '{}')"
            " RETURNING id",
            lead,
            campaign["id"],
            clock.now() - timedelta(days=31),
        )
        other = await conn.fetchval("INSERT INTO clients (name, created_at) VALUES ('other', now())"
                                    " RETURNING id")  # fmt: skip
        own, _ = await create_token(conn, name="v", role="viewer", client_id=1, now=clock.now())
        theirs, _ = await create_token(
            conn, name="o", role="viewer", client_id=other, now=clock.now()
        )
    storage = LocalRecordings(tmp_path)
    key = f"{campaign['id']}/{attempt}.wav"
    await storage.put(key, b"RIFF-test-audio")
    await epool.execute(
        "UPDATE attempts SET recording_key = $2, recording_url = $3 WHERE id = $1",
        attempt,
        key,
        f"/api/v1/attempts/{attempt}/recording",
    )
    app = create_app(Settings(recordings_dir=tmp_path), pool=epool, clock=clock)
    async with TestClient(TestServer(app)) as client:
        path = f"/api/v1/attempts/{attempt}/recording"
        resp = await client.get(path)
        assert resp.status == 401
        resp = await client.get(path, headers={"Authorization": f"Bearer {theirs}"})
        assert resp.status == 404  # another client's attempt: not found, not forbidden
        resp = await client.get(path, headers={"Authorization": f"Bearer {own}"})
        assert resp.status == 200 and resp.content_type == "audio/wav"
        assert await resp.read() == b"RIFF-test-audio"

        assert await retention.sweep(epool, storage, now=clock.now()) == 1
        assert not (tmp_path / key).exists()
        resp = await client.get(path, headers={"Authorization": f"Bearer {own}"})
        assert resp.status == 404
    audit = await epool.fetchrow(
        "SELECT details FROM audit_log WHERE action = 'delete_recordings' AND object_id = $1",
        campaign["id"],
    )
    assert audit is not None and attempt in audit["details"]["attempts"]
