"""A decision for a stored lead includes its contact history: the FTSA cap (Fla. Stat.
501.616(6)(b), 3 calls per 24 h on the same subject) is named, with when it lapses, by the
API's ``lead_id``, by ``dialer check --lead`` (through the same ``check_lead``), and the
campaign's purpose is used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from dialer.engine.gate import check_lead
from dialer.errors import NotFound
from tests.integration.conftest import Api
from tests.integration.engine_support import add_agent, add_leads, make_campaign

# Wednesday 2 December 2026, 15:00 UTC = 10:00 in Miami: inside every Florida window.
AT = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
PHONE = "+13055550177"


async def _lead_with_attempts(pool: asyncpg.Pool, phone: str, hours_ago: list[float]) -> int:
    async with pool.acquire() as conn:
        campaign = await make_campaign(conn, AT - timedelta(days=2), purpose="telemarketing")
        [lead_id] = await add_leads(conn, campaign["id"], [phone], AT - timedelta(days=2))
        for hours in hours_ago:
            await conn.execute(
                "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, ended_at,"
                " outcome, compliance) VALUES ($1, $2, $3, $4, $4, 'no_answer', '{}')",
                lead_id,
                campaign["id"],
                phone,
                AT - timedelta(hours=hours),
            )
    return lead_id


async def test_api_names_the_florida_cap_and_when_it_lapses(api: Api) -> None:
    lead_id = await _lead_with_attempts(api.pool, PHONE, [20, 5, 1])
    status, body = await api.call(
        "GET", f"/api/v1/rules/check?lead_id={lead_id}&at=2026-12-02T15:00:00Z", as_="viewer"
    )
    assert status == 200, body
    assert body["allowed"] is False and body["lead_id"] == lead_id
    [cap] = [r for r in body["reason_details"] if r["rule_id"] == "us-fl.24h-cap"]
    assert cap["until"] == "2026-12-02T19:00:00Z"  # the oldest of the three + 24 h
    assert body["next_allowed_at"] == "2026-12-02T19:00:00Z"  # 14:00 in Miami: in the window


async def test_a_number_check_knows_no_history_but_the_lead_check_does(api: Api) -> None:
    lead_id = await _lead_with_attempts(api.pool, "+13055550178", [3, 2, 1])
    _s, by_number = await api.call(
        "GET",
        "/api/v1/rules/check?phone=%2B13055550178&purpose=telemarketing&at=2026-12-02T15:00:00Z",
        as_="viewer",
    )
    assert by_number["allowed"] is True
    async with api.pool.acquire() as conn:
        _lead, campaign, decision = await check_lead(conn, lead_id, at=AT)
    assert campaign.purpose == "telemarketing"
    assert decision.rule_ids == ("us-fl.24h-cap",)
    # Attempts after the instant asked about are not counted: at 08:30 in Miami two were made.
    _lead, _c, earlier = await check_lead(api.pool, lead_id, at=AT - timedelta(minutes=90))
    assert earlier.allowed is True


async def test_lead_check_errors_name_the_field_and_respect_the_client(api: Api) -> None:
    lead_id = await _lead_with_attempts(api.pool, "+13055550179", [1])
    cases = [
        (f"lead_id={lead_id}&purpose=survey", 400, "purpose"),
        ("lead_id=abc", 400, "lead_id"),
        (f"lead_id={lead_id}&at=tomorrow", 400, "at"),
        ("lead_id=987654321", 404, None),
    ]
    for query, status, field in cases:
        got, body = await api.call("GET", f"/api/v1/rules/check?{query}", as_="viewer")
        assert got == status, (query, body)
        if field:
            assert body["field"] == field
    async with api.pool.acquire() as conn:
        other = await conn.fetchval("INSERT INTO clients (name) VALUES ('other') RETURNING id")
    token = await api.token("viewer", client_id=other, name="other-viewer")
    got, _body = await api.call("GET", f"/api/v1/rules/check?lead_id={lead_id}", as_=token)
    assert got == 404
    async with api.pool.acquire() as conn:
        campaign_id = await conn.fetchval("SELECT campaign_id FROM leads WHERE id = $1", lead_id)
        agent_id = await add_agent(conn, campaign_id, AT, login=False)
    agent_token = await api.token("agent", agent_id=agent_id, name="agent-no-leads")
    got, _body = await api.call("GET", f"/api/v1/rules/check?lead_id={lead_id}", as_=agent_token)
    assert got == 403
    try:
        await check_lead(api.pool, lead_id, at=AT, scope=other)
    except NotFound:
        pass
    else:
        raise AssertionError("a lead of another client must not be visible")
