"""Supervisor monitoring through the API: a manager listens to a live call, whispers, barges,
stops; a monitor ends with its call; agents and viewers may not; everything is audited.

The engine runs on the simulated gateway in this process, whose callees talk until the test
hangs them up; the simulated switch says who hears whom (``SimMonitor.heard_by``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from dialer.clock import FakeClock
from dialer.engine.simsupervisor import SimSupervisorParams, sim_supervisor_hook
from dialer.telephony import LoopTimer
from tests.integration.engine_support import (
    add_leads,
    humans,
    make_campaign,
    running_engine,
    start,
    us_numbers,
    wait_for,
)
from tests.integration.monitor_support import NOON_SF, monitored_floor

ALL_HUMANS = humans(ring_min_s=1, ring_max_s=3, talk_s=20)


async def _audit(pool: asyncpg.Pool, attempt_id: int) -> list[tuple[str, dict]]:
    rows = await pool.fetch(
        "SELECT action, details FROM audit_log WHERE object_type = 'call' AND object_id = $1"
        " ORDER BY id",
        attempt_id,
    )
    return [(r["action"], r["details"]) for r in rows]


async def test_a_manager_listens_whispers_barges_and_stops(epool: asyncpg.Pool) -> None:
    async with monitored_floor(epool) as f:
        call = await f.live_call()
        gateway = f.running.gateway
        status, body = await f.call(
            "POST",
            f"/api/v1/calls/{call['id']}/monitor",
            json={"mode": "listen", "endpoint": "PJSIP/2001"},
        )
        assert status == 201, body
        assert body["live"] and body["mode"] == "listen" and body["agent_id"] == f.agent
        [session] = gateway.listeners(call["gateway_call_id"])
        assert session.endpoint == "PJSIP/2001" and session.heard_by == frozenset()
        # Listening: the agent is told nothing (no agent-bus message, no state change).
        agent = await epool.fetchrow("SELECT * FROM agents WHERE id = $1", f.agent)
        assert agent["state"] == "on_call" and agent["attempt_id"] == call["id"]

        monitor = body["id"]
        path = f"/api/v1/monitors/{monitor}"
        status, body = await f.call("PATCH", path, json={"mode": "whisper"})
        assert status == 200 and body["mode"] == "whisper", body
        assert session.heard_by == {"agent"}
        status, body = await f.call("PATCH", path, json={"mode": "barge"})
        assert status == 200 and body["modes"] == ["listen", "whisper", "barge"], body
        assert session.heard_by == {"agent", "callee"}

        status, live = await f.call("GET", f"/api/v1/calls/live?campaign={f.campaign}")
        assert status == 200 and live["monitoring"], live
        [shown] = [c for c in live["calls"] if c["id"] == call["id"]]
        assert [m["id"] for m in shown["monitors"]] == [monitor]

        status, body = await f.call("DELETE", f"/api/v1/monitors/{monitor}")
        assert status == 200 and not body["live"] and body["end_reason"] == "stopped", body
        assert gateway.listeners(call["gateway_call_id"]) == []
        # The call goes on, unchanged.
        row = await epool.fetchrow("SELECT * FROM attempts WHERE id = $1", call["id"])
        assert row["ended_at"] is None and row["agent_id"] == f.agent
        assert [a for a, _ in await _audit(epool, call["id"])] == [
            "call.monitor",
            "call.monitor_mode",
            "call.monitor_mode",
            "call.monitor_stop",
        ]
        [(_, started), *_] = await _audit(epool, call["id"])
        assert started["mode"] == "listen" and started["endpoint"] == "PJSIP/2001"
        assert started["monitor_id"] == monitor
        status, body = await f.call("DELETE", f"/api/v1/monitors/{monitor}")
        assert status == 409 and body["field"] == "id", body
        await gateway.hangup(call["gateway_call_id"])


async def test_a_monitor_ends_with_its_call(epool: asyncpg.Pool) -> None:
    async with monitored_floor(epool) as f:
        call = await f.live_call()
        status, body = await f.call(
            "POST",
            f"/api/v1/calls/{call['id']}/monitor",
            json={"mode": "whisper", "endpoint": "user/2002"},
        )
        assert status == 201, body
        monitor = body["id"]
        await f.running.gateway.hangup(call["gateway_call_id"])

        async def ended() -> asyncpg.Record | None:
            return await epool.fetchrow(
                "SELECT * FROM call_monitors WHERE id = $1 AND ended_at IS NOT NULL", monitor
            )

        row = await wait_for(ended)
        assert row["end_reason"] == "call_ended"
        assert f.running.gateway.monitors == {}
        status, body = await f.call("GET", f"/api/v1/monitors/{monitor}")
        assert status == 200 and not body["live"], body
        status, body = await f.call("PATCH", f"/api/v1/monitors/{monitor}", json={"mode": "listen"})
        assert status == 409, body
        status, body = await f.call(
            "POST",
            f"/api/v1/calls/{call['id']}/monitor",
            json={"mode": "listen", "endpoint": "user/2002"},
        )
        assert status == 409 and "not live" in body["error"], body

        # Monitoring changed neither the call's record nor its outcome. The monitor's end
        # and the attempt's close are separate writes on the same hang-up: wait for both.
        async def closed_attempt() -> asyncpg.Record | None:
            return await epool.fetchrow(
                "SELECT * FROM attempts WHERE id = $1 AND outcome IS NOT NULL", call["id"]
            )

        closed = await wait_for(closed_attempt)
        assert closed["outcome"] == "completed" and closed["agent_id"] == f.agent


async def test_only_managers_monitor_and_bad_input_names_its_field(epool: asyncpg.Pool) -> None:
    async with monitored_floor(epool) as f:
        call = await f.live_call()
        path = f"/api/v1/calls/{call['id']}/monitor"
        good = {"mode": "listen", "endpoint": "PJSIP/2001"}
        for role in ("agent", "viewer"):
            status, body = await f.call("POST", path, as_=role, json=good)
            assert status == 403, (role, body)
        status, body = await f.call("POST", path, as_="other", json=good)
        assert status == 404, body  # another client's call
        status, body = await f.call("POST", path, json={**good, "mode": "shout"})
        assert status == 400 and body["field"] == "mode", body
        for endpoint in ("", "PJSIP/2001 &park", "user/{x}", "a" * 300, 5):
            status, body = await f.call("POST", path, json={**good, "endpoint": endpoint})
            assert status == 400 and body["field"] == "endpoint", (endpoint, body)
        status, body = await f.call("POST", "/api/v1/calls/999999/monitor", json=good)
        assert status == 404, body
        f.running.gateway.unreachable_endpoints.add("PJSIP/2999")
        status, body = await f.call("POST", path, json={**good, "endpoint": "PJSIP/2999"})
        assert status == 409 and body["field"] == "endpoint", body
        assert f.running.gateway.monitors == {}
        assert await epool.fetchval("SELECT count(*) FROM call_monitors") == 0
        await f.running.gateway.hangup(call["gateway_call_id"])


async def test_a_switch_that_cannot_monitor_answers_409(epool: asyncpg.Pool) -> None:
    async with monitored_floor(epool) as f:
        call = await f.live_call()
        f.running.engine.monitors.gateway = object()  # type: ignore[assignment]
        status, body = await f.call(
            "POST",
            f"/api/v1/calls/{call['id']}/monitor",
            json={"mode": "listen", "endpoint": "PJSIP/2001"},
        )
        assert status == 409 and "cannot monitor" in body["error"], body
        status, live = await f.call("GET", "/api/v1/calls/live")
        assert status == 200 and live["monitoring"] is False
        await f.running.gateway.hangup(call["gateway_call_id"])


async def test_the_simulated_supervisor_listens_without_changing_the_calls(
    epool: asyncpg.Pool,
) -> None:
    clock = FakeClock(NOON_SF)
    async with epool.acquire() as conn:
        campaign = await make_campaign(conn, clock.now())
        await add_leads(conn, campaign["id"], us_numbers(40), clock.now())
        await start(conn, campaign["id"], clock.now())
    hook = sim_supervisor_hook(LoopTimer(50.0), params=SimSupervisorParams(every_s=4, listen_s=3))
    async with running_engine(
        epool, clock=clock, callee=ALL_HUMANS, sim_agents=3, extra_hooks=(hook,)
    ) as running:

        async def listened() -> int:
            return int(
                await epool.fetchval(
                    "SELECT count(*) FROM call_monitors WHERE ended_at IS NOT NULL"
                )
            )

        await wait_for(lambda: _at_least(listened, 2), timeout=60)
        assert running.gateway.monitor_log  # the switch rang the supervisor in
    rows = await epool.fetch("SELECT * FROM call_monitors ORDER BY id")
    assert {r["mode"] for r in rows} == {"listen"} and {r["endpoint"] for r in rows} == {
        "sim/supervisor"
    }
    assert {r["end_reason"] for r in rows if r["ended_at"]} <= {"stopped", "call_ended"}
    monitored = await epool.fetch(
        "SELECT * FROM attempts WHERE id = ANY($1)", [r["attempt_id"] for r in rows]
    )
    # A listened-to call is recorded like any other: connected, talked, completed.
    assert all(a["connected_at"] and a["agent_id"] for a in monitored)
    assert all(a["outcome"] in (None, "completed") for a in monitored)


async def _at_least(count: Callable[[], Awaitable[int]], n: int) -> bool:
    return await count() >= n


async def test_a_monitor_held_by_another_process_is_not_touched(epool: asyncpg.Pool) -> None:
    async with monitored_floor(epool) as f:
        call = await f.live_call()
        good = {"mode": "listen", "endpoint": "PJSIP/2001"}
        status, body = await f.call("POST", f"/api/v1/calls/{call['id']}/monitor", json=good)
        assert status == 201, body
        await epool.execute(
            "UPDATE call_monitors SET instance = 'elsewhere' WHERE id = $1", body["id"]
        )
        for method, payload in (("PATCH", {"mode": "barge"}), ("DELETE", None)):
            status, answer = await f.call(method, f"/api/v1/monitors/{body['id']}", json=payload)
            assert status == 409 and "elsewhere" in answer["error"], answer
        status, still = await f.call("GET", f"/api/v1/monitors/{body['id']}")
        assert still["live"] and still["mode"] == "listen"
        await f.running.gateway.hangup(call["gateway_call_id"])
