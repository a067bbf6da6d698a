"""``dialer demo`` as a newcomer runs it: a real process, a summary on stdout, exit 0."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import tempfile

import asyncpg
import pytest

from dialer.auth.tokens import hash_token

pytestmark = pytest.mark.slow

KEYS = {
    "attempts",
    "outcomes",
    "connected",
    "abandoned",
    "abandon_rate",
    "agent_occupancy",
    "blocked_by_rules",
    "manual_dials",
    "inbound",
    "transfers",
    "duration_s",
}


def _env(url: str) -> dict[str, str]:
    env = {**os.environ, "DIALER_DATABASE_URL": url, "DIALER_PORT": "0"}
    env["DIALER_RECORDINGS_DIR"] = tempfile.mkdtemp(prefix="demo-recordings-")
    env.pop("DIALER_LOG_LEVEL", None)
    return env


async def _demo(url: str, *args: str) -> tuple[int, bytes, bytes]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "dialer",
        "demo",
        *args,
        env=_env(url),
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
    assert 0 <= summary["manual_dials"] <= summary["attempts"]  # simulated agents dial by hand
    # the caller-ID pool (local presence) and the number hygiene are on show
    assert set(summary["caller_ids"]) <= {
        "+14155550100", "+12125550100", "+13055550100", "+13125550101"
    }  # fmt: skip
    assert len(summary["caller_ids"]) >= 2
    assert set(summary["number_hygiene"]) == {"numbers_retired", "moved_to_alternate"}
    assert summary["recordings"]["recordings"] <= summary["connected"]
    assert summary["voicemails_left"] <= summary["outcomes"].get("machine", 0)
    assert summary["voicemails_barred"] <= summary["outcomes"].get("machine", 0)
    assert summary["recording_notices"] <= summary["connected"]
    # a simulated supervisor listens to some calls agents are on: outbound calls, and the
    # callees' calls back and transfer legs, which "connected" (outbound) does not count
    calls = summary["connected"] + summary["inbound"] + summary["transfers"]
    assert 0 <= summary["monitored"] <= calls
    # simulated callees press 9 on some abandon (or callback) messages: each one an opt-out
    assert 0 <= summary["opt_outs"] <= summary["abandoned"] + summary["inbound"]
    assert summary["inbound"] >= 0  # simulated callees call back (docs/inbound.md)
    # simulated agents hand some calls to the demo's closers (each leg an attempt there)
    assert 0 <= summary["transfers"] <= summary["connected"]
    progress = err.decode()
    assert "Bearer dlr_" in progress and "/metrics" in progress and "dials" in progress
    # Leads carry consent; a revoked one is blocked by the rules, never dialed.
    conn = await asyncpg.connect(fresh_db_url)
    try:
        levels = {r[0] for r in await conn.fetch("SELECT DISTINCT consent FROM leads")}
        dialed_revoked = await conn.fetchval(
            "SELECT count(*) FROM attempts a JOIN leads l ON l.id = a.lead_id"
            " WHERE l.consent = 'revoked' AND a.started_at >= l.consent_revoked_at"
        )
    finally:
        await conn.close()
    assert levels == {"none", "express", "express_written", "revoked"}
    assert dialed_revoked == 0


async def test_demo_rejects_bad_flags_with_exit_2(fresh_db_url: str) -> None:
    code, _, err = await _demo(fresh_db_url, "--agents", "0")
    assert code == 2 and b"--agents" in err


async def _seed_users_campaigns(url: str) -> list[int]:
    """Campaigns of the user's left running (one named like a demo's, but not one)."""
    conn = await asyncpg.connect(url)
    try:
        ids = []
        for name in ("Spring renewals", "demo outreach"):
            campaign = await conn.fetchval(
                "INSERT INTO campaigns (client_id, name, purpose, dial_mode, caller_id, state) "
                "VALUES (1, $1, 'survey', 'power', '+14155550100', 'running') RETURNING id",
                name,
            )
            await conn.executemany(
                "INSERT INTO leads (campaign_id, phone_e164, region, time_zones) "
                "VALUES ($1, $2, 'US', '{America/New_York}')",
                [(campaign, f"+1212555{n:04d}") for n in range(50)],
            )
            ids.append(int(campaign))
        return ids
    finally:
        await conn.close()


_MINE = """
SELECT c.id, c.state, c.updated_at,
       (SELECT count(*) FROM attempts a WHERE a.campaign_id = c.id) AS dialed,
       (SELECT count(*) FROM leads l WHERE l.campaign_id = c.id AND l.status <> 'new') AS touched
FROM campaigns c WHERE c.id = ANY($1::bigint[]) ORDER BY c.id
"""


async def test_demo_leaves_the_users_running_campaigns_alone(fresh_db_url: str) -> None:
    """Issue 22: only the demo's own campaign is dialed; the user's stay running, undialed."""
    mine = await _seed_users_campaigns(fresh_db_url)
    conn = await asyncpg.connect(fresh_db_url)
    try:
        before = [dict(r) for r in await conn.fetch(_MINE, mine)]
        code, out, err = await _demo(
            fresh_db_url, "--duration", "4", "--json", "--leads", "200", "--agents", "4",
            "--speed", "20",
        )  # fmt: skip
        assert code == 0, err.decode()[-2000:]
        assert json.loads(out)["attempts"] > 0
        after = [dict(r) for r in await conn.fetch(_MINE, mine)]
    finally:
        await conn.close()
    assert after == before
    assert all(c["state"] == "running" and c["dialed"] == c["touched"] == 0 for c in after)


async def test_demo_prints_the_console_and_revokes_its_token(fresh_db_url: str) -> None:
    """The banner names the console URL; the token it prints stops working at the end, and
    what a killed demo left (a valid token, a running campaign) is cleaned up by the next."""
    killed = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dialer", "demo", "--leads", "50", "--agents", "2",
        env=_env(fresh_db_url), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert killed.stderr is not None
    banner = ""
    while "metrics" not in banner:
        line = await asyncio.wait_for(killed.stderr.readline(), 60)
        assert line, banner
        banner += line.decode()
    killed.kill()  # no chance to clean up
    await killed.wait()
    left_token = re.search(r"Bearer (dlr_\S+)'", banner)
    assert left_token and re.search(r"console +http://[^ ]+:\d+/ui/ ", banner)
    conn = await asyncpg.connect(fresh_db_url)
    try:
        assert await authenticate(conn, left_token[1]) is not None  # the kill left it valid

        code, _, err = await _demo(fresh_db_url, "--duration", "1", "--leads", "50")
        assert code == 0, err.decode()[-2000:]
        token = re.search(r"Bearer (dlr_\S+)'", err.decode())
        assert token and "/ui/" in err.decode()
        assert await authenticate(conn, token[1]) is None
        assert await authenticate(conn, left_token[1]) is None
        active = await conn.fetchval(
            "SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL AND role = 'admin'"
        )
        running = await conn.fetchval("SELECT count(*) FROM campaigns WHERE state = 'running'")
    finally:
        await conn.close()
    assert active == 0 and running == 0


async def authenticate(conn: asyncpg.Connection, token: str) -> int | None:
    return await conn.fetchval(
        "SELECT id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        hash_token(token),
    )
