"""``GET /api/v1/reports/agents``: per-agent time in each state (pause by code), calls,
dispositions and connects per hour over a window, from a state log built by driving real
agents with a fake clock; CSV with formulas neutralised; client scoping; 400s."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from dialer.agents import store as agents
from dialer.clock import FakeClock
from tests.integration.conftest import Api
from tests.integration.test_stats_support import (
    add_attempt,
    make_campaign,
    make_client,
    make_leads,
)

S = timedelta(seconds=1)


@dataclass
class Floor:
    client_id: int
    campaign: int
    other_campaign: int
    agent_id: int
    t0: datetime


async def _floor(api: Api) -> Floor:
    """One agent of a fresh client, working two campaigns, driven through a shift:
    wait 600, a 120 s call of the first campaign with 30 s wrap-up, wait 300, break 900,
    wait 60, lunch 1800, wait 90, log out."""
    clock = FakeClock(api.clock.now() - timedelta(hours=10))
    t0 = clock.now()
    async with api.pool.acquire() as conn:
        client_id = await make_client(conn)
        cid = await make_campaign(conn, t0, client_id=client_id)
        other = await make_campaign(conn, t0, client_id=client_id)
        lead = (await make_leads(conn, cid, [("new", 0)], t0))[0]
        agent_id: int = await conn.fetchval(
            "INSERT INTO agents (client_id, name, state_changed_at) VALUES ($1, $2, $3)"
            " RETURNING id",
            client_id,
            f"=HYPERLINK({uuid.uuid4().hex[:6]})",
            t0 - timedelta(days=1),
        )
        await conn.executemany(
            "INSERT INTO agent_campaigns VALUES ($1, $2)", [(agent_id, cid), (agent_id, other)]
        )

        async def act(action: str, after: float, reason: str | None = None, **kw: Any) -> None:
            clock.advance(after)
            await agents.act(conn, agent_id, action, scope=None, now=clock.now(), reason=reason,
                             **kw)  # fmt: skip

        await act("login", 0)
        clock.advance(600)
        call = await add_attempt(
            conn, cid, lead, clock.now() - 10 * S, outcome="completed", answer="human",
            connected=True, wait_s=0.0, talk_s=120.0, agent_id=agent_id, disposition="SALE",
        )  # fmt: skip
        assert await agents.reserve(
            conn, agent_id, now=clock.now(), attempt_id=call, campaign_id=cid
        )
        await act("hangup", 120, expect_attempt=call)
        await act("finish", 30, expect_attempt=call)
        await act("pause", 300, "BREAK")
        await act("ready", 900)
        await act("pause", 60, "=LUNCH")
        await act("ready", 1800)
        await act("logout", 90)
    return Floor(client_id, cid, other, agent_id, t0)


def _q(since: datetime, until: datetime, **extra: Any) -> dict[str, str]:
    return {"from": since.isoformat(), "to": until.isoformat(), **extra}


@pytest.fixture
async def floor(api: Api) -> Floor:
    return await _floor(api)


@pytest.mark.parametrize(
    ("start", "end", "campaign", "expected"),
    [
        # The whole shift.
        (0, 7200, None, {"calls": 1, "wait_s": 1050.0, "talk_s": 120.0, "wrap_up_s": 30.0,
                         "pause_s": 2700.0, "logged_in_s": 3900.0,
                         "pause_by_code": {"=LUNCH": 1800.0, "BREAK": 900.0},
                         "dispositions": {"SALE": 1}, "connects_per_hour": 0.923}),
        # A window cut through the waiting, the call and the wrap-up.
        (300, 735, None, {"calls": 1, "wait_s": 300.0, "talk_s": 120.0, "wrap_up_s": 15.0,
                          "pause_s": 0.0, "logged_in_s": 435.0, "pause_by_code": {},
                          "dispositions": {"SALE": 1}, "connects_per_hour": 8.276}),
        # Inside the break only: the agent's state at the window's start is carried in.
        (1500, 1600, None, {"calls": 0, "wait_s": 0.0, "talk_s": 0.0, "wrap_up_s": 0.0,
                            "pause_s": 100.0, "logged_in_s": 100.0,
                            "pause_by_code": {"BREAK": 100.0}, "dispositions": {},
                            "connects_per_hour": 0.0}),
        # The other campaign: its agent, without the first campaign's call and wrap-up.
        (0, 7200, "other", {"calls": 0, "wait_s": 1050.0, "talk_s": 0.0, "wrap_up_s": 0.0,
                            "pause_s": 2700.0, "logged_in_s": 3750.0,
                            "dispositions": {}, "connects_per_hour": 0.0}),
        # After the logout.
        (5000, 7200, None, {"calls": 0, "logged_in_s": 0.0, "connects_per_hour": None}),
    ],
)  # fmt: skip
async def test_agent_time_and_calls_over_a_window(
    api: Api, floor: Floor, start: int, end: int, campaign: str | None, expected: dict[str, Any]
) -> None:
    extra = {"campaign": str(floor.other_campaign)} if campaign else {}
    status, body = await api.call(
        "GET", "/api/v1/reports/agents",
        params=_q(floor.t0 + start * S, floor.t0 + end * S, **extra),
    )  # fmt: skip
    assert status == 200, body
    [line] = [a for a in body["agents"] if a["agent_id"] == floor.agent_id]
    assert {k: line[k] for k in expected} == expected


async def test_a_manager_sees_only_their_clients_agents(api: Api, floor: Floor) -> None:
    other = await _floor(api)
    token = await api.token("manager", client_id=floor.client_id)
    params = _q(floor.t0, floor.t0 + 7200 * S)
    status, body = await api.call("GET", "/api/v1/reports/agents", as_=token, params=params)
    assert status == 200
    assert [a["agent_id"] for a in body["agents"]] == [floor.agent_id]
    status, body = await api.call(
        "GET", "/api/v1/reports/agents", as_=token,
        params={**params, "campaign": str(other.campaign)},
    )  # fmt: skip
    assert status == 404
    agent = await api.token("agent", client_id=floor.client_id, agent_id=floor.agent_id)
    status, _ = await api.call("GET", "/api/v1/reports/agents", as_=agent, params=params)
    assert status == 403


async def test_the_csv_has_a_row_per_agent_and_no_formulas(api: Api, floor: Floor) -> None:
    params = _q(floor.t0, floor.t0 + 7200 * S, campaign=str(floor.campaign))
    for path, headers in (
        ("/api/v1/reports/agents.csv", {}),
        ("/api/v1/reports/agents", {"Accept": "text/csv"}),
    ):
        resp = await api.client.get(
            path, params=params,
            headers={"Authorization": f"Bearer {api.tokens['viewer']}", **headers},
        )  # fmt: skip
        assert resp.status == 200 and resp.content_type == "text/csv"
        rows = list(csv.DictReader(io.StringIO(await resp.text())))
        [row] = rows
        assert row["agent_id"] == str(floor.agent_id)
        assert row["agent_name"].startswith("'=HYPERLINK(")
        assert row["pause_s:BREAK"] == "900.0" and row["pause_s:=LUNCH"] == "1800.0"
        assert row["disposition:SALE"] == "1" and row["talk_s"] == "120.0"
        assert not any(v.startswith(("=", "+", "@")) for v in row.values())
        assert not any(k.startswith(("=", "+", "@")) for k in row)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-01-05T10:00:00"}, "to"),
        ({"from": "2026-01-05T10:00:00Z", "to": "2026-01-05T09:00:00Z"}, "from"),
        ({"campaign": "x"}, "campaign"),
    ],
)
async def test_a_bad_window_is_a_400_naming_the_field(
    api: Api, params: dict[str, str], field: str
) -> None:
    status, body = await api.call("GET", "/api/v1/reports/agents", params=params)
    assert status == 400 and body["field"] == field, body
