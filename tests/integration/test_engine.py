"""The engine end to end on a real database: dialing, rules, agents, modes, shutdown.

The simulated gateway runs sped up; conditions are polled with a timeout, never slept on.
The wall clock is a ``FakeClock`` standing at a known instant, so which places are inside
their calling hours does not depend on when the tests run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import asyncpg
import pytest

from dialer.clock import FakeClock
from dialer.engine.runner import RunnerOptions
from dialer.telephony import OriginateRequest, SimulatedGateway
from tests.integration.engine_support import (
    NOON_SF,  # Monday 2 March 2026, 20:00 UTC: noon in San Francisco, 20:00 in London
    humans,
    running_engine,
    started_campaign,
    us_numbers,
    wait_for,
)

# 12:00 UTC: 04:00 in San Francisco (closed), noon in London (open).
NIGHT_SF = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ALL_HUMANS = humans(ring_min_s=2, ring_max_s=5, talk_s=10)


async def _count(pool: asyncpg.Pool, sql: str, *args: Any) -> int:
    return int(await pool.fetchval(sql, *args))


async def _closed(pool: asyncpg.Pool, campaign_id: int) -> int:
    return await _count(
        pool,
        "SELECT count(*) FROM attempts WHERE campaign_id = $1 AND ended_at IS NOT NULL",
        campaign_id,
    )


async def _assert_nothing_left_open(pool: asyncpg.Pool, campaign_id: int) -> None:
    assert (
        await _count(
            pool,
            "SELECT count(*) FROM attempts WHERE campaign_id = $1 AND ended_at IS NULL",
            campaign_id,
        )
        == 0
    )
    assert (
        await _count(
            pool,
            "SELECT count(*) FROM leads WHERE campaign_id = $1 AND claimed_by IS NOT NULL",
            campaign_id,
        )
        == 0
    )
    assert await _count(pool, "SELECT count(*) FROM leases WHERE name LIKE 'campaign:%'") == 0


async def test_calls_are_placed_connected_recorded_and_shut_down_cleanly(
    epool: asyncpg.Pool,
) -> None:
    clock = FakeClock(NOON_SF)
    cid, _, _ = await started_campaign(epool, clock.now(), us_numbers(120))
    async with running_engine(epool, clock=clock, sim_agents=5) as env:
        await wait_for(lambda: _closed(epool, cid), timeout=60)
        await wait_for(
            lambda: _count(
                epool,
                "SELECT count(*) FROM attempts WHERE campaign_id = $1 AND disposition IS NOT NULL",
                cid,
            ),
            timeout=60,
        )
        runner = env.engine.runners[cid]
        assert runner.dialing.dials > 0
    await _assert_nothing_left_open(epool, cid)
    rows = await epool.fetch("SELECT * FROM attempts WHERE campaign_id = $1", cid)
    for row in rows:
        assert row["compliance"]["allowed"] is True
        assert row["compliance"]["agent_guaranteed"] is False
        assert row["gateway_call_id"] and row["runner"].startswith("test#")
        assert row["outcome"] is not None and row["ended_at"] >= row["started_at"]
        if row["connected_at"] is not None:
            assert row["agent_id"] is not None and row["answer"] == "human"
    # Every dial wrote attempt.started before its call, and attempt.completed after it.
    started = await _count(
        epool, "SELECT count(*) FROM webhook_outbox WHERE type = 'attempt.started'"
    )
    completed = await _count(
        epool, "SELECT count(*) FROM webhook_outbox WHERE type = 'attempt.completed'"
    )
    assert started == completed == len(rows)
    # The simulated agents logged out.
    states = await epool.fetch("SELECT DISTINCT state FROM agents")
    assert {r["state"] for r in states} == {"offline"}


class RecordingGateway(SimulatedGateway):
    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.requests: list[OriginateRequest] = []

    async def originate(self, request: OriginateRequest, on_event: Any) -> None:
        self.requests.append(request)
        await super().originate(request, on_event)


async def test_a_lead_outside_its_calling_hours_is_never_originated(
    epool: asyncpg.Pool,
) -> None:
    clock = FakeClock(NIGHT_SF)
    sf = us_numbers(15)
    london = [f"+4420794600{i:02d}" for i in range(15)]
    cid, _, _ = await started_campaign(
        epool, clock.now(), sf + london, agents=0, dial_mode="agentless", max_lines=5
    )
    async with running_engine(epool, clock=clock, gateway_cls=RecordingGateway) as env:
        recorder = env.gateway
        assert isinstance(recorder, RecordingGateway)
        await wait_for(
            lambda: _count(
                epool,
                "SELECT count(*) FROM leads WHERE campaign_id = $1 AND attempts_count > 0",
                cid,
            ),
            timeout=60,
        )
        await wait_for(
            lambda: _count(
                epool,
                "SELECT count(*) = 15 FROM leads WHERE campaign_id = $1 "
                "AND phone_e164 LIKE '+1415%' AND next_attempt_at > $2",
                cid,
                NIGHT_SF,
            )
        )
    dialed = await epool.fetch(
        "SELECT DISTINCT phone_e164 FROM attempts WHERE campaign_id = $1", cid
    )
    assert dialed and all(r["phone_e164"].startswith("+44") for r in dialed)
    assert not any(r.phone_e164.startswith("+1") for r in recorder.requests)
    # Blocked leads wait for 08:00 in San Francisco (16:00 UTC), each with an event.
    rows = await epool.fetch(
        "SELECT next_attempt_at, attempts_count FROM leads WHERE phone_e164 = ANY($1)", sf
    )
    assert {r["next_attempt_at"] for r in rows} == {datetime(2026, 3, 2, 16, 0, tzinfo=UTC)}
    assert {r["attempts_count"] for r in rows} == {0}
    blocked = await epool.fetch(
        "SELECT payload FROM webhook_outbox WHERE type = 'compliance.blocked' AND campaign_id = $1",
        cid,
    )
    assert len(blocked) == 15
    assert all("us.hours" in b["payload"]["rule_ids"] for b in blocked)


async def test_two_runners_never_claim_the_same_lead(epool: asyncpg.Pool) -> None:
    import asyncio

    from dialer.engine.hopper import Hopper

    clock = FakeClock(NOON_SF)
    cid, leads, _ = await started_campaign(epool, clock.now(), us_numbers(600))
    hoppers = [Hopper(epool, cid, f"r{n}", clock, min_size=10) for n in range(4)]
    claimed: list[list[int]] = [[] for _ in hoppers]

    async def drain(n: int) -> None:
        while True:
            got = await hoppers[n].take(7)
            if not got:
                return
            claimed[n] += [lead.id for lead in got]

    for n, hopper in enumerate(hoppers):  # every runner holds a claim before they race
        claimed[n] += [lead.id for lead in await hopper.take(7)]
    await asyncio.gather(*(drain(n) for n in range(len(hoppers))))
    flat = [x for part in claimed for x in part]
    assert len(flat) == len(set(flat)) == len(leads)
    assert all(part for part in claimed)


async def test_only_the_lease_holder_holding_the_claim_can_record_a_dial(
    epool: asyncpg.Pool,
) -> None:
    from dialer import leases
    from dialer.compliance import LeadInfo, decide
    from dialer.engine import records
    from dialer.engine.hopper import Hopper
    from dialer.engine.model import CampaignConfig

    clock = FakeClock(NOON_SF)
    cid, _, _ = await started_campaign(epool, clock.now(), us_numbers(2))
    config = CampaignConfig.from_row(
        await epool.fetchrow("SELECT * FROM campaigns WHERE id = $1", cid)
    )
    hopper = Hopper(epool, cid, "a#1", clock)
    lead = (await hopper.take(1))[0]
    decision = decide(LeadInfo.from_phone(lead.phone_e164), "telemarketing", clock.now())
    ttl = timedelta(seconds=15)
    dial = records.Dial(lead, decision, "x", "progressive")

    async def record(conn: asyncpg.Connection, runner: str) -> records.Started | None:
        [got] = await records.start_attempts(
            conn,
            config,
            [dial],
            lease=f"campaign:{cid}",
            owner="a",
            runner=runner,
            now=clock.now(),
        )
        return got

    async with epool.acquire() as conn:
        with pytest.raises(records.LeaseLapsed):  # no lease: refused, and the caller told why
            await record(conn, "a#1")
        assert await leases.acquire(conn, f"campaign:{cid}", "a", now=clock.now(), ttl=ttl)
        assert await record(conn, "a#2") is None  # the lease, but another runner's claim
        assert await record(conn, "a#1") is not None
        # The same lead again (on a call, next attempt pushed out): refused.
        assert await record(conn, "a#1") is None
        with pytest.raises(asyncpg.UniqueViolationError):  # the last line of defence
            await conn.execute(
                "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, compliance)"
                " VALUES ($1, $2, $3, $4, '{}')",
                lead.id,
                cid,
                lead.phone_e164,
                clock.now(),
            )


async def test_the_abandon_budget_forces_progressive_until_back_under(
    epool: asyncpg.Pool,
) -> None:
    clock = FakeClock(NOON_SF)
    cid, leads, _ = await started_campaign(
        epool, clock.now(), us_numbers(300), dial_mode="predictive"
    )
    earlier = clock.now() - timedelta(hours=1)
    await epool.executemany(
        "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, answered_at,"
        " ended_at, outcome, answer, compliance)"
        " VALUES ($1, $2, 'x', $3, $3, $3, $4, 'human', '{}')",
        [(leads[0], cid, earlier, "abandoned")] + [(leads[0], cid, earlier, "completed")] * 9,
    )
    options = RunnerOptions(lease_ttl_s=5, tick_s=0.05, budget_every_s=0.2)
    async with running_engine(epool, clock=clock, sim_agents=4, options=options) as env:
        runner = await wait_for(lambda: _runner(env, cid))
        await wait_for(lambda: _mode(epool, cid, "progressive"))
        assert runner.budget.at_limit()
        # Enough live answers since: 1 abandon in 40 answers is 2.5 %, back under 3 %.
        await epool.executemany(
            "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, answered_at,"
            " ended_at, outcome, answer, compliance)"
            " VALUES ($1, $2, 'x', $3, $3, $3, 'completed', 'human', '{}')",
            [(leads[0], cid, earlier)] * 30,
        )
        await wait_for(lambda: _async(not runner.budget.at_limit()))
        await wait_for(lambda: _mode(epool, cid, "predictive"))


async def _async(value: Any) -> Any:
    return value


async def _runner(env: Any, cid: int) -> Any:
    return env.engine.runners.get(cid)


async def _mode(pool: asyncpg.Pool, cid: int, mode: str) -> bool:
    return bool(
        await pool.fetchval(
            "SELECT count(*) FROM attempts WHERE campaign_id = $1 AND mode = $2", cid, mode
        )
    )


async def test_preview_agents_choose_their_calls(epool: asyncpg.Pool) -> None:
    clock = FakeClock(NOON_SF)
    cid, _, _ = await started_campaign(epool, clock.now(), us_numbers(30), dial_mode="preview")
    async with running_engine(epool, clock=clock, sim_agents=3, callee=ALL_HUMANS):
        await wait_for(
            lambda: _count(
                epool,
                "SELECT count(*) >= 3 FROM attempts WHERE campaign_id = $1 AND ended_at IS NOT"
                " NULL",
                cid,
            ),
            timeout=60,
        )
    rows = await epool.fetch("SELECT * FROM attempts WHERE campaign_id = $1", cid)
    assert rows and all(r["agent_guaranteed"] and r["agent_id"] for r in rows)
    # The stored decision says it was taken for a guaranteed call (rules it lifts).
    assert all(r["compliance"]["agent_guaranteed"] is True for r in rows)
    assert all(r["compliance"]["allowed"] is True for r in rows)
    assert all(r["outcome"] != "abandoned" for r in rows)
    await _assert_nothing_left_open(epool, cid)


async def test_agentless_campaigns_stay_within_their_lines(epool: asyncpg.Pool) -> None:
    clock = FakeClock(NOON_SF)
    cid, _, _ = await started_campaign(
        epool,
        clock.now(),
        us_numbers(80),
        dial_mode="agentless",
        max_lines=4,
        safe_harbor_message="Your parcel arrives tomorrow.",
    )
    async with running_engine(epool, clock=clock, callee=ALL_HUMANS) as env:
        await wait_for(
            lambda: _count(
                epool,
                "SELECT count(*) >= 12 FROM attempts WHERE campaign_id = $1 AND outcome ="
                " 'completed'",
                cid,
            ),
            timeout=60,
        )
        assert env.gateway.peak_calls <= 4
    leads = await epool.fetch(
        "SELECT DISTINCT status FROM leads l WHERE campaign_id = $1 AND attempts_count > 0", cid
    )
    assert "completed" in {r["status"] for r in leads}


async def test_an_agent_owned_callback_is_dialed_for_its_agent_only(
    epool: asyncpg.Pool,
) -> None:
    clock = FakeClock(NOON_SF)
    _, leads, agent_ids = await started_campaign(epool, clock.now(), us_numbers(1), agents=2)
    owner = agent_ids[1]
    await epool.execute(
        "UPDATE leads SET status = 'callback', callback_agent_id = $2 WHERE id = $1",
        leads[0],
        owner,
    )
    async with running_engine(epool, clock=clock, callee=ALL_HUMANS):
        row = await wait_for(
            lambda: epool.fetchrow(
                "SELECT * FROM attempts WHERE lead_id = $1 AND connected_at IS NOT NULL", leads[0]
            ),
            timeout=60,
        )
    assert row["agent_guaranteed"] and row["agent_id"] == owner


async def test_a_paused_campaign_stops_dialing_and_lets_calls_finish(
    epool: asyncpg.Pool,
) -> None:
    from dialer.campaigns import store as campaigns

    clock = FakeClock(NOON_SF)
    cid, _, _ = await started_campaign(epool, clock.now(), us_numbers(200))
    async with running_engine(epool, clock=clock, sim_agents=3) as env:
        await wait_for(lambda: _runner(env, cid))
        await wait_for(lambda: _closed(epool, cid))
        async with epool.acquire() as conn:
            await campaigns.transition(conn, cid, "pause", scope=None, now=clock.now())
        await wait_for(lambda: _async(cid not in env.engine.runners), timeout=30)
        await wait_for(lambda: _async(not env.engine._stopping), timeout=30)
        dialed = await _count(epool, "SELECT count(*) FROM attempts WHERE campaign_id = $1", cid)
        await _assert_nothing_left_open(epool, cid)
        await env.engine.reconcile()  # a paused campaign gets no runner
        assert cid not in env.engine.runners
        assert (
            await _count(epool, "SELECT count(*) FROM attempts WHERE campaign_id = $1", cid)
            == dialed
        )


async def test_engines_share_the_campaigns_and_take_over_a_stopped_ones(
    epool: asyncpg.Pool,
) -> None:
    clock = FakeClock(NOON_SF)
    ids = [
        (await started_campaign(epool, clock.now(), us_numbers(5, 100 * n)))[0] for n in range(4)
    ]
    options = RunnerOptions(lease_ttl_s=5, tick_s=0.05, shutdown_timeout_s=2)
    async with running_engine(epool, clock=clock, instance_id="one", options=options) as one:
        await wait_for(lambda: _async(len(one.engine.runners) == 4))
        # A second process starts later: the first hands campaigns over until both have 2.
        async with running_engine(
            epool, clock=clock, instance_id="two", options=options, seed=2
        ) as two:
            await wait_for(
                lambda: _async(len(one.engine.runners) == len(two.engine.runners) == 2),
                timeout=30,
            )
            mine = set(two.engine.runners)
            assert not mine & set(one.engine.runners)
        # "two" stopped (its leases released): "one" runs everything.
        await wait_for(lambda: _async(set(one.engine.runners) == set(ids)), timeout=30)
        assert mine <= set(one.engine.runners)


@pytest.mark.parametrize("manual_leftover", [False, True])
async def test_a_campaign_whose_leads_ran_out_is_completed(
    epool: asyncpg.Pool, manual_leftover: bool
) -> None:
    """``manual_leftover``: a number an agent dialed by hand is still to be retried in the
    campaign's switched-off "Manual dials" list, which the engine never dials: it does not
    keep the campaign running."""
    clock = FakeClock(NOON_SF)
    cid, _, _ = await started_campaign(epool, clock.now(), us_numbers(4), max_attempts=1)
    if manual_leftover:
        list_id = await epool.fetchval(
            "INSERT INTO lead_lists (campaign_id, name, source, active, created_at)"
            " VALUES ($1, 'Manual dials', 'manual', false, $2) RETURNING id",
            cid,
            clock.now(),
        )
        await epool.execute(
            "INSERT INTO leads (campaign_id, list_id, phone_e164, status)"
            " VALUES ($1, $2, '+12125550999', 'retry')",
            cid,
            list_id,
        )
    options = RunnerOptions(lease_ttl_s=5, tick_s=0.05, complete_every_s=0.2)

    async def completed() -> Any:
        clock.advance(0.1)  # the runner's upkeep runs on the injected clock
        return await epool.fetchrow(
            "SELECT state, state_reason FROM campaigns WHERE id = $1 AND state = 'completed'", cid
        )

    async with running_engine(epool, clock=clock, sim_agents=2, options=options):
        row = await wait_for(completed, timeout=60)
    assert row["state_reason"] == "exhausted"
    statuses = await epool.fetch("SELECT DISTINCT status FROM leads WHERE campaign_id = $1", cid)
    assert {r["status"] for r in statuses} <= {
        "completed",
        "exhausted",
        "dnc",
        "callback",
        *(["retry"] if manual_leftover else []),
    }


async def test_a_previewing_agent_can_skip_the_lead(epool: asyncpg.Pool) -> None:
    from dialer.agents import store as agents

    clock = FakeClock(NOON_SF)
    cid, _, [agent_id] = await started_campaign(
        epool, clock.now(), us_numbers(3), agents=1, dial_mode="preview"
    )

    async def previewing() -> Any:
        return await epool.fetchval(
            "SELECT preview_lead_id FROM agents WHERE id = $1 AND state = 'on_call'"
            " AND attempt_id IS NULL",
            agent_id,
        )

    async with running_engine(epool, clock=clock):
        first = await wait_for(previewing, timeout=30)
        async with epool.acquire() as conn:
            await agents.preview_choice(conn, agent_id, "skip", scope=None)
        second = await wait_for(lambda: _async_previewing_other(epool, agent_id, first), timeout=30)
        assert second != first
    row = await epool.fetchrow(
        "SELECT next_attempt_at, attempts_count FROM leads WHERE id = $1", first
    )
    assert row["attempts_count"] == 0 and row["next_attempt_at"] == NOON_SF + timedelta(minutes=10)
    assert not await _count(epool, "SELECT count(*) FROM attempts WHERE campaign_id = $1", cid)


async def _async_previewing_other(pool: asyncpg.Pool, agent_id: int, first: int) -> Any:
    lead = await pool.fetchval(
        "SELECT preview_lead_id FROM agents WHERE id = $1 AND state = 'on_call'", agent_id
    )
    return lead if lead not in (None, first) else None


async def test_campaign_series_follow_a_rename_and_go_when_the_runner_stops(
    epool: asyncpg.Pool,
) -> None:
    from prometheus_client import REGISTRY

    from dialer.campaigns import store as campaigns

    def series() -> list[tuple[str, dict[str, str]]]:
        return [
            (sample.name, dict(sample.labels))
            for family in REGISTRY.collect()
            for sample in family.samples
            if sample.labels.get("campaign") == str(cid)
        ]

    def info() -> set[str]:
        return {labels["name"] for name, labels in series() if name == "dialer_campaign_info"}

    clock = FakeClock(NOON_SF)
    cid, _, _ = await started_campaign(
        epool, clock.now(), us_numbers(50), dial_mode="agentless", max_lines=2
    )
    options = RunnerOptions(lease_ttl_s=5, tick_s=0.05, config_every_s=0.1)
    async with running_engine(epool, clock=clock, options=options, callee=ALL_HUMANS) as env:
        await wait_for(lambda: _runner(env, cid))
        old = (await epool.fetchrow("SELECT name FROM campaigns WHERE id = $1", cid))["name"]
        assert info() == {old}
        # Counters exist at zero from the start (no abandon can happen here).
        assert ("dialer_abandons_total", {"campaign": str(cid)}) in series()
        await epool.execute("UPDATE campaigns SET name = 'Renamed' WHERE id = $1", cid)
        await wait_for(lambda: _async(info() == {"Renamed"}))
        async with epool.acquire() as conn:
            await campaigns.transition(conn, cid, "pause", scope=None, now=clock.now())
        await wait_for(lambda: _async(cid not in env.engine.runners and not env.engine._stopping))
    # Every series the runner wrote is gone; the pause that stopped it stays to be scraped.
    # (Other tests' campaigns of the same id may have left state changes too, and manual
    # dial or monitor requests taken while no runner of theirs ran in this process.)
    assert {name for name, _ in series()} <= {
        "dialer_campaign_state_changes_total",
        "dialer_campaign_state_changes_created",
        "dialer_manual_dials_total",
        "dialer_manual_dials_created",
        "dialer_monitor_sessions_total",
        "dialer_monitor_sessions_created",
    }
    changes = {(labels["state"], labels["reason"]) for _, labels in series() if "state" in labels}
    assert ("paused", "manual") in changes


class _SeesAgents(SimulatedGateway):
    """The simulated switch, remembering which agent each call was placed for."""

    placed_for: ClassVar[dict[str, int | None]] = {}

    async def originate(self, request: OriginateRequest, on_event: Any) -> None:
        self.placed_for[request.call_id] = request.agent.agent_id if request.agent else None
        await super().originate(request, on_event)


async def test_a_preview_call_is_placed_with_its_agent_for_homing(epool: asyncpg.Pool) -> None:
    """The engine tells the gateway which agent a preview call is for, so a multi-switch
    gateway can place it on that agent's home switch (test_multi_switch)."""
    clock = FakeClock(NOON_SF)
    cid, _, _ = await started_campaign(epool, clock.now(), us_numbers(10), dial_mode="preview")
    _SeesAgents.placed_for.clear()
    async with running_engine(
        epool, clock=clock, sim_agents=2, callee=ALL_HUMANS, gateway_cls=_SeesAgents
    ):
        await wait_for(
            lambda: _count(
                epool,
                "SELECT count(*) >= 2 FROM attempts WHERE campaign_id = $1 AND ended_at IS NOT"
                " NULL",
                cid,
            ),
            timeout=60,
        )
    rows = await epool.fetch(
        "SELECT gateway_call_id AS call_id, agent_id FROM attempts"
        " WHERE campaign_id = $1 AND gateway_call_id IS NOT NULL",
        cid,
    )
    assert rows
    assert all(_SeesAgents.placed_for[r["call_id"]] == r["agent_id"] for r in rows)
