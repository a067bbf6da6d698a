"""``dialer demo`` as a newcomer runs it: a real process, a summary on stdout, exit 0."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile

import pytest

pytestmark = pytest.mark.slow

KEYS = {
    "attempts",
    "outcomes",
    "connected",
    "abandoned",
    "abandon_rate",
    "agent_occupancy",
    "blocked_by_rules",
    "duration_s",
}


async def _demo(url: str, *args: str) -> tuple[int, bytes, bytes]:
    env = {**os.environ, "DIALER_DATABASE_URL": url, "DIALER_PORT": "0"}
    env["DIALER_RECORDINGS_DIR"] = tempfile.mkdtemp(prefix="demo-recordings-")
    env.pop("DIALER_LOG_LEVEL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "dialer",
        "demo",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out, err


async def test_demo_runs_and_prints_one_json_summary(fresh_db_url: str) -> None:
    code, out, err = await _demo(
        fresh_db_url,
        "--duration",
        "6",
        "--json",
        "--leads",
        "400",
        "--agents",
        "6",
        "--speed",
        "20",
    )
    assert code == 0, err.decode()[-2000:]
    summary = json.loads(out)  # exactly one JSON object on stdout
    assert set(summary) >= KEYS
    assert summary["attempts"] > 0
    assert sum(summary["outcomes"].values()) == summary["attempts"]
    assert summary["blocked_by_rules"] >= 0 and 0 <= summary["agent_occupancy"] <= 1
    assert summary["open_attempts"] == 0
    # the caller-ID pool (local presence) and the number hygiene are on show
    assert set(summary["caller_ids"]) <= {
        "+14155550100", "+12125550100", "+13055550100", "+13125550101"
    }  # fmt: skip
    assert len(summary["caller_ids"]) >= 2
    assert set(summary["number_hygiene"]) == {"numbers_retired", "moved_to_alternate"}
    assert summary["recordings"]["recordings"] <= summary["connected"]
    assert summary["voicemails_left"] <= summary["outcomes"].get("machine", 0)
    progress = err.decode()
    assert "Bearer dlr_" in progress and "/metrics" in progress and "dials" in progress


async def test_demo_rejects_bad_flags_with_exit_2(fresh_db_url: str) -> None:
    code, _, err = await _demo(fresh_db_url, "--agents", "0")
    assert code == 2 and b"--agents" in err
