"""Transfers and conferences through the API, carried out by the engine on the simulated
gateway: blind, warm (complete and cancel), conference and leave, a campaign with nobody free
(bounded wait, then the fallback), and numbers the calling rules or the DNC list refuse.

Each test starts a call the usual way an agent gets one here (a manual dial that is answered
and bridged), then asks for the transfer as that agent. The wall clock stands at 15:00 UTC:
10:00 in New York (callable), 07:00 in San Francisco (not).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from time import monotonic_ns as now_ns
from typing import Any

from dialer.agents import store as agents
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

NY = "+1212555{:04d}"
ANSWERS = humans(ring_min_s=1, ring_max_s=2, talk_s=1e6)


@asynccontextmanager
async def floor(api: Api, *, closers: bool = False) -> AsyncIterator[dict[str, Any]]:
    """A running campaign with two signed-in agents (and, with ``closers``, a running second
    campaign whose one agent is on a break), dialed by one engine."""
    now = api.clock.now()
    f: dict[str, Any] = {}
    async with api.pool.acquire() as conn:
        campaign = await make_campaign(conn, now)
        f["campaign"] = campaign["id"]
        f["agent"] = await add_agent(conn, campaign["id"], now)
        f["other"] = await add_agent(conn, campaign["id"], now)
        await start(conn, campaign["id"], now)
        if closers:
            closing = await make_campaign(conn, now, name=f"Closers {now_ns()}", transfer_wait_s=5)
            f["closers"] = closing["id"]
            f["closer"] = await add_agent(conn, closing["id"], now)
            await agents.act(conn, f["closer"], "pause", scope=None, now=now, reason="break")
            await start(conn, closing["id"], now)
    async with running_engine(api.pool, clock=api.clock, callee=ANSWERS) as engine:
        f["engine"] = engine
        for campaign_id in (f["campaign"], f.get("closers")):
            if campaign_id is not None:
                await wait_for(lambda c=campaign_id: lease_owner(api.pool, c, api.clock.now()))
        f["token"] = await api.token("agent", agent_id=f["agent"], name=f"desk-{f['agent']}")
        yield f


async def _live_call(api: Api, f: dict[str, Any], n: int) -> dict[str, Any]:
    status, body = await api.call(
        "POST",
        f"/api/v1/agents/{f['agent']}/dial",
        as_=f["token"],
        json={"phone": NY.format(n), "campaign_id": f["campaign"]},
    )
    assert status == 202, body

    async def connected() -> dict[str, Any] | None:
        row = await api.pool.fetchrow("SELECT * FROM attempts WHERE id = $1", body["attempt_id"])
        return dict(row) if row["connected_at"] and row["runner"] != "manual" else None

    return await wait_for(connected)


async def _ask(api: Api, f: dict[str, Any], path: str, **body: Any) -> tuple[int, Any]:
    return await api.call("POST", f"/api/v1/calls/{path}", as_=f["token"], json=body)


async def _attempt(api: Api, attempt_id: int) -> dict[str, Any]:
    return dict(await api.pool.fetchrow("SELECT * FROM attempts WHERE id = $1", attempt_id))


async def _leg_is(api: Api, leg_id: int, **want: Any) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        row = await _attempt(api, leg_id)
        ok = all((row[k] is not None) if v is ... else row[k] == v for k, v in want.items())
        return row if ok else None

    return await wait_for(check)


async def _agent(api: Api, agent_id: int) -> dict[str, Any]:
    return dict(await api.pool.fetchrow("SELECT * FROM agents WHERE id = $1", agent_id))


def _gateway(f: dict[str, Any]) -> Any:
    engine: RunningEngine = f["engine"]
    return engine.gateway


async def _hang_up(f: dict[str, Any], call: dict[str, Any]) -> None:
    await _gateway(f).hangup(call["gateway_call_id"])


async def test_blind_transfer_hands_the_callee_to_the_agent_and_wraps_up_the_first(
    api: Api,
) -> None:
    async with floor(api) as f:
        call = await _live_call(api, f, 1)
        status, body = await _ask(
            api, f, f"{call['id']}/transfer", to={"agent_id": f["other"]}, mode="blind"
        )
        assert status == 202, body
        assert body["leg"] == "blind" and body["state"] == "requested"
        leg = await _leg_is(api, body["leg_id"], leg_state="completed", connected_at=...)
        assert leg["parent_attempt_id"] == call["id"] and leg["agent_id"] == f["other"]
        assert leg["lead_id"] == call["lead_id"] and leg["answer"] is None
        parent = await _attempt(api, call["id"])
        assert parent["ended_at"] is not None and parent["outcome"] == "completed"
        assert parent["hangup_cause"] == "transferred"
        assert (await _agent(api, f["agent"]))["state"] == "wrap_up"
        second = await _agent(api, f["other"])
        assert (second["state"], second["attempt_id"]) == ("on_call", leg["id"])
        await _hang_up(f, call)
        leg = await _leg_is(api, leg["id"], outcome="completed")
        assert leg["talk_s"] is not None
        assert (await _agent(api, f["other"]))["state"] == "wrap_up"
        events = await api.pool.fetch(
            "SELECT type, payload FROM webhook_outbox WHERE lead_id = $1 ORDER BY id",
            call["lead_id"],
        )
        kinds = [e["type"] for e in events]
        assert "call.transferred" in kinds
        legs = [
            e["payload"]
            for e in events
            if e["type"] == "attempt.completed"
            and e["payload"].get("parent_attempt_id") == call["id"]
        ]
        assert len(legs) == 1 and legs[0]["leg"] == "blind"
        audit = await api.pool.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'call.transfer' AND object_id = $1",
            call["id"],
        )
        assert audit == 1


async def _consulting(api: Api, f: dict[str, Any], n: int) -> tuple[dict[str, Any], Any]:
    """A live call (the ``n``-th number) whose agent asked a warm transfer to the other
    agent, now consulting them: (the call, the transfer's answer)."""
    call = await _live_call(api, f, n)
    status, body = await _ask(
        api, f, f"{call['id']}/transfer", to={"agent_id": f["other"]}, mode="warm"
    )
    assert status == 202, body
    await _leg_is(api, body["leg_id"], leg_state="consulting")
    return call, body


async def test_warm_transfer_consults_then_completes(api: Api) -> None:
    async with floor(api) as f:
        call, body = await _consulting(api, f, 2)
        assert _gateway(f).on_hold(call["gateway_call_id"])  # the callee hears music
        assert (await _attempt(api, call["id"]))["ended_at"] is None  # agent 1 still on it
        status, done = await _ask(api, f, f"{call['id']}/transfer/complete")
        assert status == 202, done
        await _leg_is(api, body["leg_id"], leg_state="completed")
        parent = await _leg_is(api, call["id"], outcome="completed")
        assert parent["hangup_cause"] == "transferred"
        assert not _gateway(f).on_hold(call["gateway_call_id"])
        status, again = await _ask(api, f, f"{call['id']}/transfer/complete")
        assert status == 409, again  # the first agent's call is over


async def test_warm_transfer_cancelled_brings_the_callee_back(api: Api) -> None:
    async with floor(api) as f:
        call, body = await _consulting(api, f, 3)
        status, done = await _ask(api, f, f"{call['id']}/transfer/cancel")
        assert status == 202, done
        leg = await _leg_is(api, body["leg_id"], leg_state="cancelled", ended_at=...)
        assert leg["hangup_cause"] == "transfer cancelled"
        await wait_for(lambda: _state_is(api, f["other"], "available"))
        assert not _gateway(f).on_hold(call["gateway_call_id"])
        parent = await _attempt(api, call["id"])
        assert parent["ended_at"] is None and parent["agent_id"] == f["agent"]
        await _hang_up(f, call)
        parent = await _leg_is(api, call["id"], outcome="completed")
        assert parent["hangup_cause"] != "transferred"


async def _state_is(api: Api, agent_id: int, state: str) -> bool:
    return (await _agent(api, agent_id))["state"] == state


async def test_conference_then_the_agent_leaves(api: Api) -> None:
    async with floor(api) as f:
        call = await _live_call(api, f, 4)
        status, body = await _ask(api, f, f"{call['id']}/conference", to={"agent_id": f["other"]})
        assert status == 202 and body["leg"] == "conference", body
        await _leg_is(api, body["leg_id"], leg_state="joined")
        assert not _gateway(f).on_hold(call["gateway_call_id"])  # all three talk
        status, again = await _ask(
            api, f, f"{call['id']}/transfer", to={"agent_id": f["other"]}, mode="warm"
        )
        assert status == 409 and again["field"] == "call", again  # one leg at a time
        status, done = await _ask(api, f, f"{call['id']}/leave")
        assert status == 202, done
        await _leg_is(api, body["leg_id"], leg_state="completed")
        parent = await _leg_is(api, call["id"], outcome="completed")
        assert parent["hangup_cause"] == "left the conference"
        assert await _state_is(api, f["other"], "on_call")


async def test_a_campaign_with_nobody_free_falls_back_after_its_wait(api: Api) -> None:
    async with floor(api, closers=True) as f:
        call = await _live_call(api, f, 5)
        status, body = await _ask(
            api, f, f"{call['id']}/transfer", to={"campaign_id": f["closers"]}, mode="warm"
        )
        assert status == 202, body
        await _leg_is(api, body["leg_id"], leg_state="queued")
        leg = await _leg_is(api, body["leg_id"], ended_at=...)
        assert leg["leg_state"] == "failed" and leg["campaign_id"] == f["closers"]
        assert "back to the transferring agent" in leg["hangup_cause"]
        assert _gateway(f).legs_dialed == 0  # nobody was free: nothing was dialed
        parent = await _attempt(api, call["id"])
        assert parent["ended_at"] is None  # warm: the callee is back with the first agent
        assert not _gateway(f).on_hold(call["gateway_call_id"])
        # blind: the first agent is wrapping up, so the callee hears the abandon message
        status, body = await _ask(
            api, f, f"{call['id']}/transfer", to={"campaign_id": f["closers"]}, mode="blind"
        )
        assert status == 202, body
        leg = await _leg_is(api, body["leg_id"], ended_at=...)
        assert "abandon message" in leg["hangup_cause"]
        await wait_for(lambda: _gone(f, call))
        assert (await _agent(api, f["closer"]))["state"] == "paused"


async def _gone(f: dict[str, Any], call: dict[str, Any]) -> bool:
    return call["gateway_call_id"] not in _gateway(f)._calls


async def test_a_campaign_transfer_reaches_its_free_agent(api: Api) -> None:
    async with floor(api, closers=True) as f:
        call = await _live_call(api, f, 6)
        await api.call("POST", f"/api/v1/agents/{f['closer']}/ready", json={})
        await wait_for(lambda: _state_is(api, f["closer"], "available"))
        status, body = await _ask(
            api, f, f"{call['id']}/transfer", to={"campaign_id": f["closers"]}, mode="blind"
        )
        assert status == 202, body
        leg = await _leg_is(api, body["leg_id"], leg_state="completed")
        assert leg["agent_id"] == f["closer"] and leg["campaign_id"] == f["closers"]
        assert await _state_is(api, f["closer"], "on_call")


async def test_numbers_the_rules_or_the_dnc_list_refuse_are_not_dialed(api: Api) -> None:
    async with floor(api) as f:
        call = await _live_call(api, f, 7)
        path = f"{call['id']}/transfer"
        status, body = await _ask(api, f, path, to={"phone": "+14155550123"}, mode="blind")
        assert status == 409 and body["field"] == "to.phone", body
        assert body["reasons"] and body["rule_ids"]  # 07:00 in San Francisco
        status, _ = await api.call("POST", "/api/v1/dnc", json={"phone": "+12125559999"})
        assert status in (200, 201)
        status, body = await _ask(api, f, path, to={"phone": "+1 (212) 555-9999"}, mode="warm")
        assert status == 409 and any(r.startswith("dnc") for r in body["rule_ids"]), body
        status, body = await _ask(api, f, path, to={"phone": "12"}, mode="warm")
        assert status == 400 and body["field"] == "to.phone", body
        legs = await api.pool.fetchval(
            "SELECT count(*) FROM attempts WHERE parent_attempt_id = $1", call["id"]
        )
        assert legs == 0 and _gateway(f).legs_dialed == 0
        assert (await _attempt(api, call["id"]))["ended_at"] is None


async def test_an_allowed_number_is_dialed_as_a_leg(api: Api) -> None:
    async with floor(api) as f:
        call = await _live_call(api, f, 8)
        status, body = await _ask(
            api, f, f"{call['id']}/transfer", to={"phone": "+12125550777"}, mode="blind"
        )
        assert status == 202, body
        leg = await _leg_is(api, body["leg_id"], leg_state="completed")
        assert leg["phone_e164"] == "+12125550777" and leg["agent_id"] is None
        assert leg["compliance"]["allowed"]


async def test_bad_requests_and_other_agents(api: Api) -> None:
    async with floor(api) as f:
        call = await _live_call(api, f, 9)
        path = f"{call['id']}/transfer"
        for body, field in (
            ({}, "to"),
            ({"to": {"agent_id": f["other"]}, "mode": "sideways"}, "mode"),
            ({"to": {"agent_id": "x"}}, "to.agent_id"),
            ({"to": {"agent_id": 1, "phone": "+12125550001"}}, "to"),
            ({"to": {"agent_id": f["agent"]}}, "to.agent_id"),
        ):
            status, got = await _ask(api, f, path, **body)
            assert status == 400 and got["field"] == field, (body, got)
        status, got = await _ask(api, f, "999999999/transfer", to={"agent_id": f["other"]})
        assert status == 404, got
        other = await api.token("agent", agent_id=f["other"], name="other-desk")
        status, got = await api.call(
            "POST", f"/api/v1/calls/{path}", as_=other, json={"to": {"agent_id": f["other"]}}
        )
        assert status == 403, got
        await api.call("POST", f"/api/v1/agents/{f['other']}/pause", json={"reason": "break"})
        status, got = await _ask(api, f, path, to={"agent_id": f["other"]})
        assert status == 409 and got["field"] == "to.agent_id", got
        status, got = await _ask(api, f, f"{call['id']}/transfer/complete")
        assert status == 409, got


async def test_the_cli_transfers_a_live_call(
    api: Api, db_url: str, monkeypatch: Any, capsys: Any
) -> None:
    from dialer.cli import main

    monkeypatch.setenv("DIALER_DATABASE_URL", db_url)
    async with floor(api) as f:
        call = await _live_call(api, f, 10)
        code = await asyncio.to_thread(main, ["call", "complete", "--call", str(call["id"])])
        assert code != 0 and "no warm transfer to complete" in capsys.readouterr().err
        argv = ["call", "transfer", "--call", str(call["id"]), "--to-agent", str(f["other"])]
        code = await asyncio.to_thread(main, [*argv, "--mode", "warm", "--json"])
        out = capsys.readouterr().out
        assert code == 0, out
        leg_id = json.loads(out)["leg_id"]
        await _leg_is(api, leg_id, leg_state="consulting")
        code = await asyncio.to_thread(main, ["call", "cancel", "--call", str(call["id"])])
        assert code == 0
        await _leg_is(api, leg_id, leg_state="cancelled")
        audit = await api.pool.fetchval(
            "SELECT count(*) FROM audit_log WHERE object_id = $1 AND action LIKE 'call.%'",
            call["id"],
        )
        assert audit == 2  # the transfer and its cancel


async def test_a_transferred_call_can_be_transferred_again(api: Api) -> None:
    async with floor(api) as f:
        call = await _live_call(api, f, 11)
        status, first = await _ask(
            api, f, f"{call['id']}/transfer", to={"agent_id": f["other"]}, mode="blind"
        )
        assert status == 202, first
        await _leg_is(api, first["leg_id"], leg_state="completed")
        # the second agent (a manager acting here) hands it on to an outside number
        status, second = await api.call(
            "POST",
            f"/api/v1/calls/{first['leg_id']}/transfer",
            json={"to": {"phone": "+12125550779"}, "mode": "blind"},
        )
        assert status == 202, second
        leg = await _leg_is(api, second["leg_id"], leg_state="completed")
        assert leg["parent_attempt_id"] == first["leg_id"]
        assert leg["carrier_campaign_id"] == f["campaign"]  # still the first runner's call
        assert (await _attempt(api, first["leg_id"]))["hangup_cause"] == "transferred"
