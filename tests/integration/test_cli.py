"""The CLI against a real database: tokens, campaigns, migrate; exit codes and JSON."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from dialer.cli import main
from dialer.clients import DEFAULT_CLIENT_ID
from tests.cli_support import run


def test_token_create_list_revoke(cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "token", "create", "--name", "ops", "--role", "viewer", "--json")
    assert code == 0
    created = json.loads(out)
    assert created["token"].startswith("dlr_") and created["role"] == "viewer"
    code, out, _ = run(capsys, "token", "list", "--json")
    listed = json.loads(out)["items"]
    assert any(t["name"] == "ops" for t in listed)
    assert created["token"] not in out  # the secret is shown once, never listed
    code, out, _ = run(capsys, "token", "revoke", "ops")
    assert code == 0 and "ops" in out
    code, _, err = run(capsys, "token", "revoke", "ops")
    assert code == 2 and err.count("\n") == 1


def test_bad_role_and_unknown_client_exit_2(
    cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "token", "create", "--name", "x", "--role", "god")
    assert code == 2 and "role" in err and err.count("\n") == 1
    code, _, err = run(
        capsys, "token", "create", "--name", "x", "--role", "viewer", "--client", "nobody"
    )
    assert code == 2 and "nobody" in err


def test_campaign_create_list_start(cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "campaign",
        "create",
        "--name",
        "cli-camp",
        "--purpose",
        "survey",
        "--caller-id",
        "+442079460958",
        "--json",
    )
    assert code == 0 and json.loads(out)["purpose"] == "survey"
    code, out, _ = run(capsys, "campaign", "list", "--json")
    assert "cli-camp" in [c["name"] for c in json.loads(out)["items"]]
    code, out, _ = run(capsys, "campaign", "start", "cli-camp")
    assert code == 0 and "running" in out
    code, _, err = run(capsys, "campaign", "create", "--name", "cli-camp")
    assert code == 2 and "already exists" in err
    code, _, err = run(capsys, "campaign", "create", "--name", "bad", "--caller-id", "12")
    assert code == 2 and "caller_id" in err
    code, _, err = run(capsys, "campaign", "start", "no-such-campaign")
    assert code == 2 and "no-such-campaign" in err


def test_migrate_is_idempotent(cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "migrate", "--json")
    assert code == 0 and json.loads(out) == {"applied": []}


def test_help_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["--help"],
        ["token", "--help"],
        ["campaign", "create", "--help"],
        ["serve", "--help"],
    ):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 0
        assert "usage:" in capsys.readouterr().out


def test_campaign_update_changes_only_the_fields_given(
    cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "campaign", "create", "--name", "cli-upd", "--purpose", "survey")[0] == 0
    # Starting without a caller ID says how to set one from here.
    code, _, err = run(capsys, "campaign", "start", "cli-upd")
    assert code == 2 and err.count("\n") == 1
    assert "dialer campaign update cli-upd --caller-id" in err
    code, out, err = run(
        capsys,
        "campaign", "update", "cli-upd",
        "--caller-id", "+44 20 7946 0958", "--region", "gb", "--mode", "power", "--json",
    )  # fmt: skip
    assert code == 0, err
    row = json.loads(out)
    assert (row["caller_id"], row["default_region"], row["dial_mode"]) == (
        "+442079460958",
        "GB",
        "power",
    )
    assert row["purpose"] == "survey"  # untouched
    code, out, _ = run(capsys, "campaign", "update", "cli-upd", "--region", "")
    assert code == 0 and "default_region=None" in out
    code, out, _ = run(capsys, "campaign", "start", "cli-upd")
    assert code == 0 and "running" in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ((), "nothing to change"),
        (("--caller-id", "12"), "caller_id"),
        (("--region", "XX"), "default_region"),
        (("--mode", "warp"), "invalid choice"),
    ],
)
def test_campaign_update_refuses_unusable_input_in_one_line(
    cli_env: None, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], fragment: str
) -> None:
    run(capsys, "campaign", "create", "--name", "cli-upd-bad")
    code, _, err = run(capsys, "campaign", "update", "cli-upd-bad", *argv)
    assert code == 2 and fragment in err and err.count("\n") == 1
    code, _, err = run(capsys, "campaign", "update", "no-such-campaign", "--region", "GB")
    assert code == 2 and "no-such-campaign" in err


def test_token_for_an_agent_by_name(
    cli_env: None, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def add_agents() -> list[int]:
        conn = await asyncpg.connect(db_url)
        try:
            other = await conn.fetchval(
                "INSERT INTO clients (name) VALUES ('Other BPO client') RETURNING id"
            )
            sql = "INSERT INTO agents (client_id, name) VALUES ($1, $2) RETURNING id"
            return [
                await conn.fetchval(sql, client, name)
                for client, name in ((DEFAULT_CLIENT_ID, "Priya"), (DEFAULT_CLIENT_ID, "Sam"),
                                     (other, "Sam"))
            ]  # fmt: skip
        finally:
            await conn.close()

    priya, sam, _ = asyncio.run(add_agents())
    code, out, err = run(
        capsys, "token", "create", "--name", "priya-desk", "--role", "agent", "--agent", "priya",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["agent_id"] == priya
    code, out, _ = run(
        capsys, "token", "create", "--name", "p2", "--role", "agent", "--agent", str(priya),
        "--json",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["agent_id"] == priya
    # Two clients each have a Sam: the name alone is refused, the client settles it.
    code, _, err = run(
        capsys, "token", "create", "--name", "s", "--role", "agent", "--agent", "Sam"
    )
    assert code == 2 and "2 agents are named 'Sam'" in err and err.count("\n") == 1
    code, out, _ = run(
        capsys, "token", "create", "--name", "s", "--role", "agent", "--agent", "Sam",
        "--client", str(DEFAULT_CLIENT_ID), "--json",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["agent_id"] == sam
    code, _, err = run(
        capsys, "token", "create", "--name", "x", "--role", "agent", "--agent", "Ann"
    )
    assert code == 2 and "Ann" in err


def test_check_without_a_country_code_names_the_region_flag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "check", "--phone", "02079460958", "--purpose", "survey")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "no country code" in err and "--region" in err
    assert "Missing or invalid default region" not in err
    code, out, _ = run(
        capsys, "check", "--phone", "02079460958", "--purpose", "survey", "--region", "GB",
        "--at", "2026-03-09T12:00:00Z", "--json",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["region"] == "GB"


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """``dialer rules list | head -1``: the reader leaves early; no traceback follows."""
    child = subprocess.Popen(
        [sys.executable, "-m", "dialer", "rules", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # the reader is gone before the first line is written
    err = child.stderr.read().decode()
    child.stderr.close()
    assert child.wait(timeout=60) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err


async def test_serve_on_a_port_in_use_says_what_to_do_and_starts_nothing(
    fresh_db_url: str,
) -> None:
    """Issue 22: the port is bound first; a port in use is one line and exit 2, before the
    engine has taken a running campaign (no lease, no attempt)."""
    conn = await asyncpg.connect(fresh_db_url)
    try:
        campaign = await conn.fetchval(
            "INSERT INTO campaigns (client_id, name, purpose, dial_mode, caller_id, state) "
            "VALUES ($1, 'left running', 'survey', 'power', '+14155550100', 'running') "
            "RETURNING id",
            DEFAULT_CLIENT_ID,
        )
        await conn.execute(
            "INSERT INTO leads (campaign_id, phone_e164, region) VALUES ($1, '+14155550123', 'US')",
            campaign,
        )
    finally:
        await conn.close()
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        env = {**os.environ, "DIALER_DATABASE_URL": fresh_db_url, "DIALER_PORT": str(port)}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "dialer", "serve", "--host", "127.0.0.1",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    text = err.decode()
    assert proc.returncode == 2, text
    assert out == b"" and text.count("\n") == 1 and "Traceback" not in text
    assert f"port {port}" in text and "in use" in text and "DIALER_PORT" in text
    conn = await asyncpg.connect(fresh_db_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM leases") == 0
        assert await conn.fetchval("SELECT count(*) FROM attempts") == 0
        assert await conn.fetchval("SELECT state FROM campaigns WHERE id = $1", campaign) == (
            "running"
        )
    finally:
        await conn.close()
