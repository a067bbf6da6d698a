"""Campaign figures over HTTP: the stats report, list penetration and the streamed call
detail export, on known attempt records in a real database."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import aiohttp
import asyncpg
import pytest

from dialer.stats.export import COLUMNS, ROWS_PER_CHUNK
from tests.integration.conftest import Api
from tests.integration.test_stats_support import (
    EXPECTED,
    EXPECTED_LEADS,
    EXPECTED_OUTCOMES,
    FORMULA,
    H,
    Seeded,
    add_attempt,
    make_campaign,
    make_client,
    make_leads,
    seed,
)


@pytest.fixture(scope="module")
async def seeded(api: Api) -> Seeded:
    async with api.pool.acquire() as conn:
        return await seed(conn, api.clock.now())


@pytest.fixture(scope="module")
async def other_client(api: Api) -> tuple[int, str]:
    """A campaign of another client, and a manager token limited to that client."""
    async with api.pool.acquire() as conn:
        client_id = await make_client(conn)
        campaign_id = await make_campaign(conn, api.clock.now(), client_id=client_id)
    return campaign_id, await api.token("manager", client_id=client_id, name="other-manager")


def _iso(moment: Any) -> str:
    return moment.isoformat()


async def _copies(conn: asyncpg.Connection, attempt_id: int, n: int) -> None:
    """``n`` copies of an attempt, each a second after the one before."""
    await conn.execute(
        "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, ended_at,"
        " outcome, compliance, mode)"
        " SELECT lead_id, campaign_id, phone_e164, started_at + i * interval '1 second',"
        " ended_at + i * interval '1 second', outcome, compliance, mode"
        " FROM attempts, generate_series(1, $2) AS i WHERE id = $1",
        attempt_id,
        n,
    )


async def test_stats_of_the_last_24_hours_by_default(api: Api, seeded: Seeded) -> None:
    status, body = await api.call("GET", f"/api/v1/campaigns/{seeded.campaign_id}/stats")
    assert status == 200, body
    for key, value in EXPECTED.items():
        assert body[key] == value, key
    assert body["outcomes"] == EXPECTED_OUTCOMES
    assert body["dials_by_mode"]["predictive"] == 6
    assert body["dials_by_mode"]["progressive"] == 1
    assert body["leads"] == EXPECTED_LEADS
    now = api.clock.now()
    assert body["window"] == {"from": _iso(now - 24 * H), "to": _iso(now)}
    assert body["campaign"]["id"] == seeded.campaign_id
    assert body["max_abandon_rate"] == 0.03


async def test_legal_abandon_windows_end_at_the_window_end(api: Api, seeded: Seeded) -> None:
    _, body = await api.call("GET", f"/api/v1/campaigns/{seeded.campaign_id}/stats")
    legal = body["abandon_rate_legal"]
    assert legal["24h"]["human_answers"] == 3 and legal["24h"]["abandons"] == 1
    # 30 days: plus the abandon of 30 hours ago and the sale of 10 days ago; not 40 days.
    assert legal["30d"]["human_answers"] == 5 and legal["30d"]["abandons"] == 2
    assert legal["30d"]["abandon_rate"] == 0.4


async def test_a_chosen_window(api: Api, seeded: Seeded) -> None:
    now = api.clock.now()
    since, until = now - 31 * H, now - 29 * H  # only the abandon of 30 hours ago
    status, body = await api.call(
        "GET",
        f"/api/v1/campaigns/{seeded.campaign_id}/stats",
        params={"from": since.isoformat(), "to": until.isoformat()},
    )
    assert status == 200, body
    assert body["dials"] == 1 and body["abandons"] == 1 and body["abandon_rate"] == 1.0
    assert body["connects"] == 0 and body["answer_rate"] == 1.0
    assert body["blocked_by_rules"] == {"deferrals": 0, "by_rule": {}}
    # The 24h legal window now ends 29 hours ago: the abandon is its only live answer.
    assert body["abandon_rate_legal"]["24h"]["abandon_rate"] == 1.0
    assert body["agent_occupancy"] == 0.0  # logged in, not talking


async def test_an_empty_window_gives_zeros_and_no_rates(api: Api, seeded: Seeded) -> None:
    now = api.clock.now()
    status, body = await api.call(
        "GET",
        f"/api/v1/campaigns/{seeded.campaign_id}/stats",
        params={"from": (now + H).isoformat(), "to": (now + 2 * H).isoformat()},
    )
    assert status == 200, body
    assert body["dials"] == 0 and set(body["outcomes"].values()) == {0}
    assert body["answer_rate"] is None and body["abandon_rate"] is None
    assert body["agent_occupancy"] is None  # the window lies in the future: no agent time


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-01-05T10:00:00"}, "to"),  # no UTC offset
        ({"from": "2026-01-05T10:00:00Z", "to": "2026-01-05T09:00:00Z"}, "from"),
        ({"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "from"),  # > 400 days
    ],
)
async def test_bad_windows_are_refused_with_the_field(
    api: Api, seeded: Seeded, params: dict[str, str], field: str
) -> None:
    status, body = await api.call(
        "GET", f"/api/v1/campaigns/{seeded.campaign_id}/stats", params=params
    )
    assert status == 400
    assert body["field"] == field and body["error"]


async def test_other_clients_see_nothing_and_roles_are_checked(
    api: Api, seeded: Seeded, other_client: tuple[int, str]
) -> None:
    other_campaign, other_token = other_client
    for path in ("stats", "penetration", "attempts.csv"):
        status, _ = await api.call(
            "GET", f"/api/v1/campaigns/{seeded.campaign_id}/{path}", as_=other_token
        )
        assert status == 404, path
        status, _ = await api.call(
            "GET", f"/api/v1/campaigns/{other_campaign}/{path}", as_=other_token
        )
        assert status == 200, path
    for role in ("viewer", "manager", "crm"):
        status, _ = await api.call("GET", f"/api/v1/campaigns/{seeded.campaign_id}/stats", as_=role)
        assert status == 200, role
    status, _ = await api.call("GET", f"/api/v1/campaigns/{seeded.campaign_id}/stats", as_=None)
    assert status == 401
    status, _ = await api.call("GET", "/api/v1/campaigns/999999/stats")
    assert status == 404


async def test_penetration(api: Api, seeded: Seeded) -> None:
    status, body = await api.call("GET", f"/api/v1/campaigns/{seeded.campaign_id}/penetration")
    assert status == 200 and body == EXPECTED_LEADS


async def _csv(api: Api, campaign_id: int, **params: str) -> tuple[Any, list[dict[str, str]]]:
    resp = await api.client.get(
        f"/api/v1/campaigns/{campaign_id}/attempts.csv",
        params=params,
        headers={"Authorization": f"Bearer {api.tokens['viewer']}"},
    )
    text = await resp.text()
    assert resp.status == 200, text
    rows = list(csv.DictReader(io.StringIO(text)))
    return resp, rows


async def test_the_export_has_every_attempt_with_its_decision(api: Api, seeded: Seeded) -> None:
    resp, rows = await _csv(api, seeded.campaign_id)
    assert resp.content_type == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    assert list(rows[0]) == list(COLUMNS)
    assert len(rows) == len(seeded.attempt_ids)  # no window: every attempt ever
    starts = [r["started_at"] for r in rows]
    assert starts == sorted(starts)  # oldest first
    by_id = {int(r["attempt_id"]): r for r in rows}
    sale = by_id[seeded.attempt_ids["sale"]]
    now = api.clock.now()
    assert sale["started_at"] == (now - H).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert sale["outcome"] == "completed" and sale["answer"] == "human"
    assert sale["disposition"] == "sale" and sale["agent_id"] == str(seeded.agent_id)
    assert sale["wait_s"] == "0.800" and sale["talk_s"] == "120.000"
    assert sale["connected_at"].endswith("Z") and sale["ended_at"].endswith("Z")
    assert sale["compliance_allowed"] == "true"
    assert sale["compliance_packs"] == "default;us" and sale["compliance_rules"] == ""
    assert sale["phone"].startswith("+1415555")
    still_open = by_id[seeded.attempt_ids["open"]]
    assert still_open["ended_at"] == "" and still_open["outcome"] == ""
    # Text typed by a person never reaches a spreadsheet as a formula.
    assert by_id[seeded.attempt_ids["formula"]]["disposition"] == "'" + FORMULA


async def test_the_export_window(api: Api, seeded: Seeded) -> None:
    now = api.clock.now()
    _, rows = await _csv(
        api,
        seeded.campaign_id,
        **{"from": (now - 24 * H).isoformat(), "to": (now - 45 * timedelta(minutes=1)).isoformat()},
    )
    expected = {seeded.attempt_ids[k] for k in ("no_answer", "busy", "sale", "abandoned")}
    assert {int(r["attempt_id"]) for r in rows} == expected
    status, body = await api.call(
        "GET",
        f"/api/v1/campaigns/{seeded.campaign_id}/attempts.csv",
        params={"from": now.isoformat(), "to": (now - H).isoformat()},
    )
    assert status == 400 and body["field"] == "from"


async def test_a_large_export_is_streamed_in_chunks(api: Api) -> None:
    now = api.clock.now()
    count = ROWS_PER_CHUNK * 3 + 7
    async with api.pool.acquire() as conn:
        cid = await make_campaign(conn, now)
        (lead,) = await make_leads(conn, cid, [("completed", count)], now)
        first = await add_attempt(conn, cid, lead, now - 30 * H, outcome="no_answer")
        await _copies(conn, first, count - 1)
    resp, rows = await _csv(api, cid)
    assert resp.headers.get("Transfer-Encoding") == "chunked"
    assert len(rows) == count
    ids = [int(r["attempt_id"]) for r in rows]
    assert ids[0] == first and len(set(ids)) == count


async def test_the_routes_are_documented(api: Api) -> None:
    _, doc = await api.call("GET", "/api/v1/openapi.json", as_=None)
    paths = doc["paths"]
    for path in ("stats", "penetration", "attempts.csv"):
        assert f"/api/v1/campaigns/{{id}}/{path}" in paths


async def test_an_export_cut_by_the_database_ends_incomplete_not_short(api: Api) -> None:
    """If the database goes away mid-export the client must not get a well-formed but short
    file: the connection is cut, so the download fails."""
    now = api.clock.now()
    count = 60_000  # more than the socket buffers hold, so the server is mid-stream
    async with api.pool.acquire() as conn:
        cid = await make_campaign(conn, now)
        (lead,) = await make_leads(conn, cid, [("completed", 1)], now)
        first = await add_attempt(conn, cid, lead, now - 30 * H, outcome="no_answer")
        await _copies(conn, first, count - 1)
    resp = await api.client.get(
        f"/api/v1/campaigns/{cid}/attempts.csv",
        headers={"Authorization": f"Bearer {api.tokens['viewer']}"},
    )
    assert resp.status == 200
    received = await resp.content.read(1024)  # the export is under way
    async with api.pool.acquire() as conn:
        killed = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE pid <> pg_backend_pid() AND datname = current_database()"
            " AND query LIKE '%ORDER BY a.started_at, a.id%'"
        )
    assert killed == 1
    with pytest.raises(aiohttp.ClientPayloadError):
        while chunk := await resp.content.read(65536):
            received += chunk
    assert received.count(b"\r\n") < count
