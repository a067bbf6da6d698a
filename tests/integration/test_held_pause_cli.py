"""``dialer agent pause|ready``: one line saying whether the pause applied or is held (and
until when); a pause code none of the agent's campaigns has exits 2 with one line."""

from __future__ import annotations

import json
import time

import pytest

from tests.cli_support import fetchval, run


def test_a_pause_from_the_cli_says_it_is_held_and_until_when(
    cli_env: None, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"cli-hold-{time.monotonic_ns()}"
    code, out, _ = run(capsys, "campaign", "create", "--name", name, "--caller-id",
                        "+16505550100", "--json")  # fmt: skip
    assert code == 0, out
    campaign_id = json.loads(out)["id"]
    agent = f"desk-{time.monotonic_ns()}"
    fetchval(
        db_url,
        "WITH a AS (INSERT INTO agents (client_id, name, state, state_changed_at)"
        " SELECT client_id, $1, 'available', now() FROM campaigns WHERE id = $2 RETURNING id)"
        " INSERT INTO agent_campaigns (agent_id, campaign_id) SELECT id, $2 FROM a",
        agent,
        campaign_id,
    )
    code, _, err = run(capsys, "agent", "pause", "--agent", agent, "--reason", "nap")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "pause code" in err
    # a call rings for the campaign and nobody else is free: the pause is held
    fetchval(
        db_url,
        "WITH l AS (INSERT INTO leads (campaign_id, phone_e164) VALUES ($1, '+16505550177')"
        " RETURNING id, campaign_id, phone_e164)"
        " INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, compliance)"
        " SELECT id, campaign_id, phone_e164, now(), '{}' FROM l",
        campaign_id,
    )
    code, out, _ = run(capsys, "agent", "pause", "--agent", agent, "--reason", "lunch")
    assert code == 0 and len(out.strip().splitlines()) == 1
    assert "stays available" in out and "(lunch) is held until" in out and "UTC" in out
    code, out, _ = run(capsys, "agent", "ready", "--agent", agent, "--json")
    assert code == 0 and (json.loads(out)["state"], json.loads(out)["pending_action"]) == (
        "available",
        None,
    )
    # the call is over: a pause applies at once
    fetchval(db_url, "UPDATE attempts SET ended_at = now() WHERE campaign_id = $1", campaign_id)
    code, out, _ = run(capsys, "agent", "pause", "--agent", agent, "--reason", "lunch")
    assert code == 0 and out.strip().endswith("is paused (lunch)")
