"""Manual dial: an agent's typed number reaches that agent only, or is refused with the reason.

The API application here runs no engine (as a `dialer serve` whose runner lives elsewhere):
every accepted dial goes over the agent bus to the engine holding the campaign's lease. The
wall clock stands at 15:00 UTC: 10:00 in New York (callable), 07:00 in San Francisco (not).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any

from tests.integration.conftest import Api
from tests.integration.engine_support import (
    RunningEngine,
    add_agent,
    humans,
    lease_owner,
    make_campaign,
    running_engine,
    start,
    wait_for,
)

NY = "+1 (212) 555-{:04d}"  # typed as an agent would; stored as +1212555....
SF = "+14155550{:03d}"
ANSWERS = humans(ring_min_s=1, ring_max_s=2, talk_s=30.0)


@asynccontextmanager
async def floor(api: Api, engines: int = 1) -> AsyncIterator[dict[str, Any]]:
    """A running campaign with two signed-in agents, dialed by ``engines`` engines."""
    now = api.clock.now()
    async with api.pool.acquire() as conn:
        campaign = await make_campaign(conn, now)
        agent = await add_agent(conn, campaign["id"], now)
        other = await add_agent(conn, campaign["id"], now)
        await start(conn, campaign["id"], now)
    async with AsyncExitStack() as stack:
        running: list[RunningEngine] = [
            await stack.enter_async_context(
                running_engine(api.pool, instance_id=f"e{n}", clock=api.clock, callee=ANSWERS)
            )
            for n in range(engines)
        ]
        owner = await wait_for(lambda: lease_owner(api.pool, campaign["id"], api.clock.now()))
        token = await api.token("agent", agent_id=agent, name=f"desk-{agent}")
        yield {
            "campaign": campaign["id"],
            "agent": agent,
            "other": other,
            "token": token,
            "engines": running,
            "owner": owner,
        }


async def _dial(api: Api, f: dict[str, Any], phone: str, **kw: Any) -> tuple[int, Any]:
    return await api.call(
        "POST",
        f"/api/v1/agents/{f['agent']}/dial",
        as_=kw.pop("as_", f["token"]),
        json={"phone": phone, "campaign_id": f["campaign"], **kw},
    )


async def _attempts(api: Api, campaign_id: int) -> list[dict[str, Any]]:
    rows = await api.pool.fetch(
        "SELECT * FROM attempts WHERE campaign_id = $1 ORDER BY id", campaign_id
    )
    return [dict(r) for r in rows]


async def test_a_manual_dial_is_placed_and_bridged_to_that_agent_only(api: Api) -> None:
    async with floor(api) as f:
        status, body = await _dial(api, f, NY.format(1))
        assert status == 202, body
        assert set(body) >= {"attempt_id", "lead_id"}
        assert body["phone"] == "+12125550001"
        attempt_id = body["attempt_id"]

        async def connected() -> dict[str, Any] | None:
            row = await api.pool.fetchrow("SELECT * FROM attempts WHERE id = $1", attempt_id)
            return dict(row) if row["connected_at"] and row["ended_at"] else None

        row = await wait_for(connected)
        assert row["agent_id"] == f["agent"] and row["mode"] == "manual"
        assert row["agent_guaranteed"] and row["outcome"] != "abandoned"
        assert row["compliance"]["allowed"] and row["compliance"]["agent_guaranteed"]
        assert row["runner"].startswith(f["owner"])  # placed by the lease holder's runner
        others = await api.pool.fetchval(
            "SELECT count(*) FROM agent_state_log WHERE agent_id = $1 AND attempt_id = $2",
            f["other"],
            attempt_id,
        )
        assert others == 0  # the other available agent never got it
        lead = await api.pool.fetchrow("SELECT * FROM leads WHERE id = $1", body["lead_id"])
        listed = await api.pool.fetchrow("SELECT * FROM lead_lists WHERE id = $1", lead["list_id"])
        assert listed["source"] == "manual" and not listed["active"]  # never auto-dialed
        audit = await api.pool.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'agent.manual_dial' AND object_id = $1",
            f["agent"],
        )
        assert audit == 1
        assert len(await _attempts(api, f["campaign"])) == 1


async def test_rules_block_answers_409_with_the_reasons_and_dials_nothing(api: Api) -> None:
    async with floor(api) as f:
        status, body = await _dial(api, f, SF.format(1))
        assert status == 409, body
        assert body["reasons"] and body["rule_ids"] and body["next_allowed_at"]
        assert body["field"] == "phone"
        assert await _attempts(api, f["campaign"]) == []
        assert f["engines"][0].gateway.originated == 0
        state = await api.pool.fetchval("SELECT state FROM agents WHERE id = $1", f["agent"])
        assert state == "available"


async def test_a_number_on_the_dnc_list_answers_409(api: Api) -> None:
    async with floor(api) as f:
        status, _ = await api.call("POST", "/api/v1/dnc", json={"phone": "+12125550002"})
        assert status in (200, 201)
        status, body = await _dial(api, f, NY.format(2))
        assert status == 409, body
        assert any(r.startswith("dnc") for r in body["rule_ids"])
        assert await _attempts(api, f["campaign"]) == []


async def test_a_busy_or_signed_out_agent_answers_409(api: Api) -> None:
    async with floor(api) as f:
        status, first = await _dial(api, f, NY.format(3))
        assert status == 202, first
        status, body = await _dial(api, f, NY.format(4))
        assert status == 409 and body["field"] == "state", body
        assert "busy" in body["error"] or "cannot take" in body["error"]
        async with api.pool.acquire() as conn:
            now = api.clock.now()
            offline = await add_agent(conn, f["campaign"], now, login=False)
        status, body = await api.call(
            "POST",
            f"/api/v1/agents/{offline}/dial",
            json={"phone": NY.format(5), "campaign_id": f["campaign"]},
        )
        assert status == 409 and "log in" in body["error"], body
        assert [a["id"] for a in await _attempts(api, f["campaign"])] == [first["attempt_id"]]


async def test_a_paused_agent_dials_and_returns_to_the_pause(api: Api) -> None:
    async with floor(api) as f:
        status, _ = await api.call(
            "POST", f"/api/v1/agents/{f['agent']}/pause", as_=f["token"], json={"reason": "break"}
        )
        assert status == 200
        status, body = await _dial(api, f, NY.format(6))
        assert status == 202, body
        row = await api.pool.fetchrow("SELECT * FROM agents WHERE id = $1", f["agent"])
        assert (row["state"], row["pending_action"], row["pending_reason"]) == (
            "on_call",
            "pause",
            "break",
        )


async def test_another_client_and_another_agent_cannot_dial(api: Api) -> None:
    async with floor(api) as f:
        status, acme = await api.call("POST", "/api/v1/clients", json={"name": "Manual acme"})
        assert status == 201
        api.tokens["acme-manager"] = await api.token("manager", client_id=acme["id"])
        status, body = await _dial(api, f, NY.format(7), as_="acme-manager")
        assert status == 404, body
        other_token = await api.token("agent", agent_id=f["other"], name="other-desk")
        status, body = await _dial(api, f, NY.format(7), as_=other_token)
        assert status == 403, body
        status, body = await _dial(api, f, "12", as_="manager")
        assert status == 400 and body["field"] == "phone", body
        assert await _attempts(api, f["campaign"]) == []


async def test_the_runner_in_another_engine_places_the_call(api: Api) -> None:
    async with floor(api, engines=2) as f:
        status, body = await _dial(api, f, NY.format(8))
        assert status == 202, body

        async def placed() -> str | None:
            return await api.pool.fetchval(
                "SELECT runner FROM attempts WHERE id = $1 AND connected_at IS NOT NULL",
                body["attempt_id"],
            )

        runner = await wait_for(placed)
        assert runner.startswith(f["owner"])
        by_instance = {e.engine.instance_id: e.gateway.originated for e in f["engines"]}
        assert by_instance[f["owner"]] == 1
        assert sum(by_instance.values()) == 1


async def test_a_dial_no_runner_placed_is_closed_and_its_agent_freed(api: Api) -> None:
    """Accepted while the campaign's lease was held by a process that then died: the next
    holder's recovery closes the attempt (never placed) and frees the agent."""
    now = api.clock.now()
    async with api.pool.acquire() as conn:
        campaign = await make_campaign(conn, now)
        agent = await add_agent(conn, campaign["id"], now)
        await start(conn, campaign["id"], now)
        await conn.execute(
            "INSERT INTO leases (name, owner, expires_at) VALUES ($1, 'gone', $2)",
            f"campaign:{campaign['id']}",
            now + timedelta(seconds=1),
        )
    status, body = await api.call(
        "POST",
        f"/api/v1/agents/{agent}/dial",
        json={"phone": NY.format(9), "campaign_id": campaign["id"]},
    )
    assert status == 202, body
    api.clock.advance(2)  # the dead process's lease lapses
    async with running_engine(api.pool, instance_id="heir", clock=api.clock, callee=ANSWERS):

        async def closed() -> Any:
            return await api.pool.fetchrow(
                "SELECT outcome, runner FROM attempts WHERE id = $1 AND ended_at IS NOT NULL",
                body["attempt_id"],
            )

        row = await wait_for(closed)
        assert row["runner"] == "manual"  # never placed
        state = await wait_for(
            lambda: api.pool.fetchval(
                "SELECT state FROM agents WHERE id = $1 AND state = 'available'", agent
            )
        )
        assert state == "available"


async def test_a_stopping_runner_refuses_new_manual_dials_and_stores_nothing(api: Api) -> None:
    """Once the campaign's runner has begun to stop (its lease marked), a manual dial answers
    409 naming the campaign, and no lead, attempt or held agent is left behind."""
    async with floor(api) as f:
        await api.pool.execute(
            "UPDATE leases SET stopping = true WHERE name = $1", f"campaign:{f['campaign']}"
        )
        status, body = await _dial(api, f, NY.format(7))
        assert status == 409, body
        assert body["field"] == "campaign_id" and "stopping" in body["error"]
        assert await _attempts(api, f["campaign"]) == []
        state = await api.pool.fetchval("SELECT state FROM agents WHERE id = $1", f["agent"])
        assert state == "available"


async def test_a_new_lease_holder_accepts_manual_dials_again(api: Api) -> None:
    """The stopping mark belongs to the runner that set it: a takeover clears it."""
    async with floor(api) as f:
        name = f"campaign:{f['campaign']}"
        await api.pool.execute(
            "UPDATE leases SET stopping = true, owner = 'gone', expires_at = $2 WHERE name = $1",
            name,
            api.clock.now(),
        )
        await wait_for(lambda: lease_owner(api.pool, f["campaign"], api.clock.now()))  # taken over
        status, body = await _dial(api, f, NY.format(8))
        assert status == 202, body


async def test_a_dial_taken_as_its_runner_begins_to_stop_is_closed_not_left_open(
    api: Api,
) -> None:
    """The runner takes a manual dial just as it begins to stop (it no longer places
    calls, but its lease is not yet marked): the attempt is closed as never placed and
    its agent freed at once, not left open for a next lease holder that may never come."""
    async with floor(api) as f:
        runners = f["engines"][0].engine.runners

        async def runner_of() -> Any:  # the lease is taken a moment before it is listed
            return runners.get(f["campaign"])

        runner = await wait_for(runner_of)
        runner.dialing.closed = True  # what ``stop`` does first
        status, body = await _dial(api, f, NY.format(11))
        assert status == 202, body

        async def closed() -> Any:
            return await api.pool.fetchrow(
                "SELECT * FROM attempts WHERE id = $1 AND ended_at IS NOT NULL",
                body["attempt_id"],
            )

        row = await wait_for(closed)
        assert row["outcome"] == "failed" and "stopped before placing" in row["hangup_cause"]
        assert row["connected_at"] is None
        assert f["engines"][0].gateway.originated == 0
        state = await wait_for(
            lambda: api.pool.fetchval(
                "SELECT state FROM agents WHERE id = $1 AND state = 'available'", f["agent"]
            )
        )
        assert state == "available"
        runner.dialing.closed = False


async def test_manual_dials_during_shutdown_are_placed_or_refused_never_left_open(
    api: Api,
) -> None:
    """Agents keep dialing by hand while the engine stops: each request is either refused
    (409) or its attempt is ended and its agent freed once the runner has stopped."""
    now = api.clock.now()
    for round_ in range(4):
        async with api.pool.acquire() as conn:
            campaign = await make_campaign(conn, now)
            desk = [await add_agent(conn, campaign["id"], now) for _ in range(6)]
            await start(conn, campaign["id"], now)
        async with running_engine(
            api.pool, instance_id=f"s{round_}", clock=api.clock, callee=ANSWERS
        ) as running:
            await wait_for(lambda: lease_owner(api.pool, campaign["id"], api.clock.now()))  # noqa: B023
            dials = (
                _dial_after(api, agent, campaign["id"], NY.format(100 + n), yields=n * round_)
                for n, agent in enumerate(desk)
            )
            statuses = await asyncio.gather(running.engine.stop(), *dials)
        assert set(statuses[1:]) <= {202, 409}, statuses
        open_ = await api.pool.fetchval(
            "SELECT count(*) FROM attempts WHERE campaign_id = $1 AND ended_at IS NULL",
            campaign["id"],
        )
        assert open_ == 0, f"round {round_}: {open_} manual dials left open"
        held = await api.pool.fetchval(
            "SELECT count(*) FROM agents WHERE id = ANY($1::bigint[]) AND state = 'on_call'",
            desk,
        )
        assert held == 0


async def _dial_after(api: Api, agent: int, campaign_id: int, phone: str, *, yields: int) -> int:
    """A manual dial sent after ``yields`` turns of the event loop (to stagger requests over
    a shutdown without sleeping); its HTTP status."""
    for _ in range(yields):
        await asyncio.sleep(0)
    status, _ = await api.call(
        "POST", f"/api/v1/agents/{agent}/dial", json={"phone": phone, "campaign_id": campaign_id}
    )
    return status
