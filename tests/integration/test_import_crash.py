"""Killing an import half-way: nothing of it is visible, and the next start says so."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import asyncpg

from dialer.auth.roles import SYSTEM
from dialer.clock import FakeClock
from dialer.leads.background import INTERRUPTED, ImportService
from dialer.leads.submit import FileOptions, lead_import
from tests.integration.test_import_support import make_campaign, write


async def _wait_for_progress(pool: asyncpg.Pool, campaign: int) -> int:
    async with asyncio.timeout(60):
        while True:
            row = await pool.fetchrow(
                "SELECT id, state, rows_read FROM imports WHERE campaign_id = $1", campaign
            )
            if row is not None and row["state"] == "running" and row["rows_read"] > 0:
                return int(row["id"])
            await asyncio.sleep(0.05)


def _session(sid: int) -> list[int]:
    """Processes of session ``sid`` (the CLI and the parse workers it started)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


async def test_a_killed_import_leaves_nothing_and_is_marked_interrupted(
    db_url: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    campaign = await make_campaign(pool)
    lines = "".join(f"+1{212 + i // 10_000}555{i % 10_000:04d},lead {i}\n" for i in range(400_000))
    path = write(tmp_path / "big.csv", "phone,name\n" + lines)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "dialer",
        "import",
        str(path),
        "--campaign",
        str(campaign),
        "--workers",
        "2",
        "--json",
        env={**os.environ, "DIALER_DATABASE_URL": db_url},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,  # to find its parse workers
    )
    try:
        import_id = await _wait_for_progress(pool, campaign)
        assert len(_session(proc.pid)) >= 3  # the CLI, the fork server, two workers
        proc.kill()  # the CLI only, as the OOM killer or kill -9 would
        await proc.wait()
        async with asyncio.timeout(20):  # its workers notice and exit by themselves
            while _session(proc.pid):
                await asyncio.sleep(0.1)
    finally:
        if _session(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)

    assert await pool.fetchval("SELECT count(*) FROM leads WHERE campaign_id = $1", campaign) == 0
    assert (
        await pool.fetchval("SELECT count(*) FROM lead_lists WHERE campaign_id = $1", campaign) == 0
    )
    assert (
        await pool.fetchval("SELECT count(*) FROM import_rejects WHERE import_id = $1", import_id)
        == 0
    )

    # The next process to start finds the import's runner gone and says what happened.
    service = ImportService(pool, FakeClock(), instance_id="next-start", workers=0)
    async with asyncio.timeout(30):
        while (
            await pool.fetchval("SELECT state FROM imports WHERE id = $1", import_id)
        ) != "failed":
            await service.recover()  # the server notices the dead connection within moments
            await asyncio.sleep(0.05)
    row = await pool.fetchrow("SELECT * FROM imports WHERE id = $1", import_id)
    assert row["error"] == INTERRUPTED
    assert path.exists()  # a CLI user's own file is never deleted


async def test_the_next_start_runs_queued_uploads_and_sweeps_orphans(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    clock = FakeClock()
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    campaign = await make_campaign(pool)
    queued = write(uploads / "queued.csv", "phone\n+1 212 555 0601\n")
    async with pool.acquire() as conn:
        job = await lead_import(
            conn, queued, campaign, FileOptions(source="upload"), SYSTEM, now=clock.now()
        )
    orphan = write(uploads / "orphan.csv", "phone\n1\n")  # its process died mid-upload
    young = write(uploads / "young.csv", "phone\n1\n")  # may still be arriving elsewhere
    day_ago = clock.now().timestamp() - 2 * 86_400
    os.utime(orphan, (day_ago, day_ago))
    os.utime(young, (clock.now().timestamp(), clock.now().timestamp()))

    service = ImportService(pool, clock, instance_id="next-start", uploads=uploads, workers=0)
    await service.start()
    try:
        await service.wait_idle(timeout=30)
    finally:
        await service.stop()
    row = await pool.fetchrow("SELECT * FROM imports WHERE id = $1", job["id"])
    assert row["state"] == "completed" and row["accepted"] == 1
    assert sorted(p.name for p in uploads.iterdir()) == ["young.csv"]
