"""``dialer agent dial``: a manual dial from the command line, refused with the rules' reasons
or accepted with the attempt id (the CLI reads the real clock: the test tries numbers in
places around the world and needs one inside its calling hours)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.cli_support import fetchval, run

# New York, Los Angeles, Honolulu, London, Paris, Delhi, Sydney, Nairobi
AROUND_THE_WORLD = (
    "+12125550142",
    "+12135550142",
    "+18085550142",
    "+447911123456",
    "+33612345678",
    "+919876543210",
    "+61412345678",
    "+254712345678",
)


def test_agent_dial_from_the_cli(
    cli_env: None, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"cli-manual-{time.monotonic_ns()}"
    code, out, _ = run(capsys, "campaign", "create", "--name", name, "--caller-id",
                       "+16505550100", "--json")  # fmt: skip
    assert code == 0, out
    campaign_id = json.loads(out)["id"]
    agent = f"desk-{time.monotonic_ns()}"
    agent_id = fetchval(
        db_url,
        "WITH a AS (INSERT INTO agents (client_id, name, state, state_changed_at)"
        " SELECT client_id, $1, 'offline', now() FROM campaigns WHERE id = $2 RETURNING id)"
        " INSERT INTO agent_campaigns (agent_id, campaign_id) SELECT id, $2 FROM a"
        " RETURNING agent_id",
        agent,
        campaign_id,
    )
    argv = ("agent", "dial", "--agent", agent, "--campaign", name)
    code, _, err = run(capsys, *argv, "--phone", AROUND_THE_WORLD[0])
    assert code == 2 and len(err.strip().splitlines()) == 1 and "log in" in err
    fetchval(db_url, "UPDATE agents SET state = 'available' WHERE id = $1", agent_id)
    code, _, err = run(capsys, *argv, "--phone", AROUND_THE_WORLD[0])
    assert code == 2 and "start it first" in err
    # Running, with a runner elsewhere (its lease): the dial is recorded and announced.
    fetchval(db_url, "UPDATE campaigns SET state = 'running' WHERE id = $1", campaign_id)
    fetchval(
        db_url,
        "INSERT INTO leases (name, owner, expires_at) VALUES ($1, 'elsewhere', $2)",
        f"campaign:{campaign_id}",
        datetime.now(UTC) + timedelta(hours=1),
    )
    accepted = None
    for phone in AROUND_THE_WORLD:
        code, out, err = run(capsys, *argv, "--phone", phone, "--json")
        got = json.loads(out)
        if code == 0:
            accepted = got
            break
        assert code == 2 and got["reasons"] and got["rule_ids"], (out, err)
    assert accepted is not None, "no place in calling hours now"
    assert fetchval(db_url, "SELECT mode FROM attempts WHERE id = $1", accepted["attempt_id"]) == (
        "manual"
    )
    code, _, err = run(capsys, *argv, "--phone", AROUND_THE_WORLD[0])
    assert code == 2 and "busy" in err  # the agent is held for the first dial
