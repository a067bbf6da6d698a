"""After a call: dispositions, callbacks at the lead's local time, DNC requests, events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dialer.engine import closing, records
from tests.integration.conftest import Api
from tests.integration.engine_support import add_agent, add_leads, make_campaign


async def _connected_call(api: Api, *, phone: str, ended: bool = True) -> dict[str, Any]:
    """A lead dialed, answered, connected to an agent and (optionally) hung up."""
    now = api.clock.now()
    async with api.pool.acquire() as conn:
        campaign = await make_campaign(conn, now)
        [lead_id] = await add_leads(conn, campaign["id"], [phone], now)
        agent_id = await add_agent(conn, campaign["id"], now)
        # As the runner records a dial: the lead pushed out, its updated_at = the dial.
        attempt_id = await conn.fetchval(
            "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, compliance)"
            " VALUES ($1, $2, $3, $4, '{}') RETURNING id",
            lead_id,
            campaign["id"],
            phone,
            now,
        )
        await conn.execute(
            "UPDATE leads SET status = 'retry', attempts_count = 1, last_attempt_at = $2,"
            " next_attempt_at = $2::timestamptz + interval '1 hour', updated_at = $2,"
            " claimed_by = 'test', claimed_until = 'infinity' WHERE id = $1",
            lead_id,
            now,
        )
        assert await records.connect(
            conn,
            agent_id=agent_id,
            attempt_id=attempt_id,
            campaign_id=campaign["id"],
            now=now,
            answered_at=now,
            ring_s=4.0,
            wait_s=0.1,
            reserved=False,
        )
        if ended:
            from dialer.engine.model import CampaignConfig

            config = CampaignConfig.from_row(
                await conn.fetchrow("SELECT * FROM campaigns WHERE id = $1", campaign["id"])
            )
            await closing.close_calls(
                conn,
                config,
                [
                    closing.CallRecord(
                        attempt_id,
                        "completed",
                        now,
                        answer="human",
                        talk_s=60.0,
                        wrap_agent=True,
                    )
                ],
            )
    token = await api.token("agent", agent_id=agent_id, name=f"desk-{agent_id}")
    return {
        "campaign": campaign["id"],
        "lead": lead_id,
        "agent": agent_id,
        "call": attempt_id,
        "token": token,
    }


async def _lead(api: Api, lead_id: int) -> dict[str, Any]:
    row = await api.pool.fetchrow("SELECT * FROM leads WHERE id = $1", lead_id)
    return dict(row)


async def _events(api: Api, lead_id: int) -> list[str]:
    rows = await api.pool.fetch(
        "SELECT type FROM webhook_outbox WHERE lead_id = $1 ORDER BY id", lead_id
    )
    return [r["type"] for r in rows]


async def _agent_state(api: Api, agent_id: int) -> str:
    return str(await api.pool.fetchval("SELECT state FROM agents WHERE id = $1", agent_id))


async def _dispose(api: Api, c: dict[str, Any], body: dict[str, Any]) -> tuple[int, Any]:
    """The agent of call ``c`` sets its disposition (``body``)."""
    return await api.call(
        "POST", f"/api/v1/calls/{c['call']}/disposition", as_=c["token"], json=body
    )


async def test_a_sale_completes_the_lead_and_frees_the_agent(api: Api) -> None:
    c = await _connected_call(api, phone="+14155551001")
    assert await _agent_state(api, c["agent"]) == "wrap_up"
    status, body = await _dispose(api, c, {"disposition": "sale", "notes": "gold plan"})
    assert status == 200, body
    assert body["disposition"] == "sale" and body["notes"] == "gold plan"
    lead = await _lead(api, c["lead"])
    assert (lead["status"], lead["last_disposition"]) == ("completed", "sale")
    assert await _agent_state(api, c["agent"]) == "available"
    assert await _events(api, c["lead"]) == [
        "attempt.completed",
        "lead.completed",
        "lead.disposition",
    ]


async def test_a_callback_at_local_time_is_scheduled_for_the_agent(api: Api) -> None:
    c = await _connected_call(api, phone="+14155551002")  # San Francisco
    status, _ = await _dispose(
        api, c, {"disposition": "callback", "callback_at": "2026-01-07T10:00"}
    )
    assert status == 200
    lead = await _lead(api, c["lead"])
    assert lead["status"] == "callback" and lead["callback_agent_id"] == c["agent"]
    # 10:00 in Los Angeles (PST, UTC-8) is 18:00 UTC.
    assert lead["next_attempt_at"] == datetime(2026, 1, 7, 18, 0, tzinfo=UTC)
    assert "lead.callback_scheduled" in await _events(api, c["lead"])


async def test_a_callback_for_anyone_has_no_owner(api: Api) -> None:
    c = await _connected_call(api, phone="+14155551003")
    status, _ = await _dispose(
        api,
        c,
        {
            "disposition": "callback",
            "callback_at": "2026-01-08T09:30:00+00:00",
            "callback_owner": "anyone",
        },
    )
    assert status == 200
    lead = await _lead(api, c["lead"])
    assert lead["callback_agent_id"] is None
    assert lead["next_attempt_at"] == datetime(2026, 1, 8, 9, 30, tzinfo=UTC)


async def test_a_dnc_request_lists_the_number_for_the_whole_client(api: Api) -> None:
    c = await _connected_call(api, phone="+14155551004")
    status, _ = await _dispose(api, c, {"disposition": "other", "dnc": True})
    assert status == 200
    assert (await _lead(api, c["lead"]))["status"] == "dnc"
    entry = await api.pool.fetchrow(
        "SELECT client_id, campaign_id, source FROM dnc_entries WHERE phone_e164 = $1",
        "+14155551004",
    )
    assert dict(entry) == {"client_id": 1, "campaign_id": None, "source": "internal"}
    assert "lead.dnc" in await _events(api, c["lead"])


async def test_an_amd_miss_is_retried_like_a_machine(api: Api) -> None:
    c = await _connected_call(api, phone="+14155551005")
    status, _ = await _dispose(api, c, {"disposition": "machine"})
    assert status == 200
    lead = await _lead(api, c["lead"])
    assert lead["status"] == "retry"
    assert lead["next_attempt_at"] == api.clock.now() + timedelta(days=1)


async def test_disposition_errors(api: Api) -> None:
    live = await _connected_call(api, phone="+14155551006", ended=False)
    path = f"/api/v1/calls/{live['call']}/disposition"
    status, body = await api.call("POST", path, as_=live["token"], json={"disposition": "x"})
    assert status == 409 and "in progress" in body["error"]
    done = await _connected_call(api, phone="+14155551007")
    path = f"/api/v1/calls/{done['call']}/disposition"
    for bad, field in [
        ({}, "disposition"),
        ({"disposition": "x", "dnc": "yes"}, "dnc"),
        ({"disposition": "x", "callback_at": "tomorrow"}, "callback_at"),
        ({"disposition": "x", "callback_at": "2020-01-01T10:00:00Z"}, "callback_at"),
        ({"disposition": "x", "mood": "happy"}, "mood"),
    ]:
        status, body = await api.call("POST", path, as_=done["token"], json=bad)
        assert status == 400 and body["field"] == field, (bad, body)
    # Another agent's call is invisible to this agent's token.
    status, _ = await api.call("POST", path, as_=live["token"], json={"disposition": "x"})
    assert status == 404
    status, _ = await api.call("POST", path, as_=done["token"], json={"disposition": "other"})
    assert status == 200
    status, body = await api.call("POST", path, as_=done["token"], json={"disposition": "other"})
    assert status == 409 and body["field"] == "disposition"


async def test_a_crm_callback_while_the_call_is_on_wins_over_the_retry_plan(api: Api) -> None:
    c = await _connected_call(api, phone="+14155551008")
    api.clock.advance(1)
    status, body = await api.call(
        "POST",
        f"/api/v1/leads/{c['lead']}/callback",
        as_="crm",
        json={"local_time": "2026-01-09T11:00"},
    )
    assert status == 200, body
    status, _ = await _dispose(api, c, {"disposition": "sale"})
    assert status == 200
    lead = await _lead(api, c["lead"])
    assert lead["status"] == "callback" and lead["last_disposition"] == "sale"
    assert lead["next_attempt_at"] == datetime(2026, 1, 9, 19, 0, tzinfo=UTC)


async def test_the_callback_api(api: Api) -> None:
    now = api.clock.now()
    async with api.pool.acquire() as conn:
        campaign = await make_campaign(conn, now)
        other = await make_campaign(conn, now)
        ids = await add_leads(conn, campaign["id"], ["+442079460001", "+14155551010"], now)
        agent_id = await add_agent(conn, campaign["id"], now)
        stranger = await add_agent(conn, other["id"], now)
    london, sf = ids
    path = f"/api/v1/leads/{london}/callback"
    status, body = await api.call(
        "POST", path, as_="crm", json={"local_time": "2026-01-06T09:00", "agent_id": agent_id}
    )
    assert status == 200 and body["agent_id"] == agent_id
    assert body["callback_at"] == "2026-01-06T09:00:00+00:00"  # London in winter: UTC
    status, body = await api.call(
        "POST",
        f"/api/v1/leads/{sf}/callback",
        as_="manager",
        json={"at": "2026-01-06T09:00:00-08:00"},
    )
    assert status == 200 and body["callback_at"] == "2026-01-06T17:00:00+00:00"
    for bad, field in [
        ({}, "at"),
        ({"at": "2026-01-06T09:00:00Z", "local_time": "2026-01-06T09:00"}, "at"),
        ({"at": "2026-01-06T09:00"}, "at"),
        ({"local_time": "2026-01-06T09:00", "agent_id": stranger}, "agent_id"),
        ({"local_time": "soon"}, "local_time"),
    ]:
        status, body = await api.call("POST", path, as_="crm", json=bad)
        assert status == 400 and body["field"] == field, (bad, body)
    status, _ = await api.call("POST", path, as_="viewer", json={"at": "2026-01-06T09:00Z"})
    assert status == 403
    status, _ = await api.call(
        "POST", "/api/v1/leads/999999/callback", as_="crm", json={"at": "2026-01-06T09:00Z"}
    )
    assert status == 404
