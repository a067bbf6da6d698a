"""Blended agents and a campaign's callbacks over HTTP and the CLI: ``PATCH`` sets
``blended`` (a bad value is a 400 naming the field), ``GET /campaigns/{id}/inbound`` pages
the inbound calls, the stats count them apart from dials."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from dialer.cli import main
from tests.integration.conftest import Api
from tests.integration.engine_support import add_leads, make_campaign


async def _campaign(api: Api) -> int:
    async with api.pool.acquire() as conn:
        row = await make_campaign(conn, api.clock.now())
    return int(row["id"])


async def _inbound(api: Api, cid: int, lead: int | None, caller: str) -> int:
    return int(
        await api.pool.fetchval(
            "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, ended_at,"
            " outcome, answer, answered_at, compliance, mode, direction, dialed)"
            " VALUES ($1, $2, $3, $4, $4, 'completed', 'human', $4, '{}', 'inbound',"
            " 'inbound', '+14155550100') RETURNING id",
            lead,
            cid,
            caller,
            api.clock.now() - timedelta(minutes=1),
        )
    )


async def test_an_agent_is_made_blended_and_bad_values_are_refused(api: Api) -> None:
    cid = await _campaign(api)
    status, agent = await api.call(
        "POST", "/api/v1/agents", json={"name": "Blend", "campaigns": [cid], "blended": True}
    )
    assert status == 201 and agent["blended"] is True
    path = f"/api/v1/agents/{agent['id']}"
    status, changed = await api.call("PATCH", path, json={"blended": False})
    assert status == 200 and changed["blended"] is False
    status, error = await api.call("PATCH", path, json={"blended": "yes"})
    assert status == 400 and error["field"] == "blended"
    status, kept = await api.call("GET", path)
    assert kept["blended"] is False  # nothing stored was lost
    audit = await api.pool.fetch(
        "SELECT details FROM audit_log WHERE action = 'agent.blended' AND object_id = $1",
        agent["id"],
    )
    assert [a["details"]["blended"] for a in audit] == [False]  # who changed it, when


async def test_a_campaigns_callbacks_are_listed_and_counted_apart(api: Api) -> None:
    cid = await _campaign(api)
    async with api.pool.acquire() as conn:
        [lead] = await add_leads(conn, cid, ["+14155550142"], api.clock.now())
    first = await _inbound(api, cid, lead, "+14155550142")
    second = await _inbound(api, cid, None, "+14155550999")
    status, page = await api.call("GET", f"/api/v1/campaigns/{cid}/inbound?limit=1")
    assert status == 200 and [c["id"] for c in page["items"]] == [first]
    assert page["items"][0]["lead_id"] == lead and page["next_after"] == first
    status, rest = await api.call("GET", f"/api/v1/campaigns/{cid}/inbound?after={first}")
    assert [(c["id"], c["lead_id"], c["caller"]) for c in rest["items"]] == [
        (second, None, "+14155550999")
    ]
    status, error = await api.call("GET", f"/api/v1/campaigns/{cid}/inbound?limit=0")
    assert status == 400 and error["field"] == "limit"
    status, _ = await api.call("GET", "/api/v1/campaigns/999999/inbound")
    assert status == 404
    status, stats = await api.call("GET", f"/api/v1/campaigns/{cid}/stats")
    assert stats["dials"] == 0 and stats["human_answers"] == 0  # callbacks are not dials
    assert stats["inbound"] == {"calls": 2, "to_agent": 0, "message": 2, "matched": 1}


def test_dialer_agent_blended_from_the_cli(
    cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(*argv: str) -> tuple[int, Any, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = run("agent", "blended", "--agent", "no-such-agent", "on")
    assert code != 0 and len(err.strip().splitlines()) == 1 and "no-such-agent" in err

    async def make() -> None:
        conn = await asyncpg.connect(os.environ["DIALER_DATABASE_URL"])
        try:
            await conn.execute(
                "INSERT INTO agents (client_id, name, state, state_changed_at)"
                " VALUES (1, 'cli-blend', 'offline', now()) ON CONFLICT DO NOTHING"
            )
        finally:
            await conn.close()

    asyncio.run(make())
    code, out, _ = run("agent", "blended", "--agent", "cli-blend", "on", "--json")
    assert code == 0 and json.loads(out)["blended"] is True
    code, out, _ = run("agent", "blended", "--agent", "cli-blend", "off")
    assert code == 0 and "outbound calls only" in out
