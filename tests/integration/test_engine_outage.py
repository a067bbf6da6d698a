"""A switch outage does not burn leads: refused dials are closed but not counted, leads
come back shortly, the engine backs off and probes, and dialing resumes by itself.

The simulated gateway is made to refuse originates (``set_outage``), as the ARI/ESL adapters
do while disconnected; once with the real ARI adapter against a stopped fake Asterisk.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from prometheus_client import REGISTRY

from dialer.agents.bus import AgentBus
from dialer.clock import FakeClock
from dialer.engine import gate
from dialer.engine.dialing import NOT_ATTEMPTED
from dialer.engine.health import GatewayHealth
from dialer.engine.model import CampaignConfig
from dialer.engine.runner import RunnerOptions
from dialer.engine.supervisor import Engine
from dialer.gateway import EventSink, Gateway, GatewayError, OriginateRequest
from dialer.telephony import LoopTimer, SimGatewayParams, SimulatedGateway
from tests.integration.engine_support import (
    NOON_SF,
    LoopPacedClock,
    add_leads,
    humans,
    make_campaign,
    start,
    us_numbers,
    wait_for,
)

ALL_HUMANS = humans(ring_min_s=2, ring_max_s=5, talk_s=5)
LINES = 5


@asynccontextmanager
async def engine_on(
    pool: asyncpg.Pool, gateway: Gateway, timer: LoopTimer, health: GatewayHealth
) -> AsyncIterator[Engine]:
    bus = AgentBus(pool)
    await bus.start()
    engine = Engine(
        pool,
        gateway,
        timer,
        LoopPacedClock(FakeClock(NOON_SF)),
        instance_id="outage",
        bus=bus,
        options=RunnerOptions(lease_ttl_s=5, tick_s=0.05, shutdown_timeout_s=5),
        poll_s=0.2,
        health=health,
    )
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()
        await bus.stop()


async def agentless(pool: asyncpg.Pool, leads: int) -> tuple[int, list[int]]:
    async with pool.acquire() as conn:
        c = await make_campaign(
            conn,
            NOON_SF,
            dial_mode="agentless",
            max_lines=LINES,
            safe_harbor_message="Your parcel arrives tomorrow.",
        )
        ids = await add_leads(conn, c["id"], us_numbers(leads), NOON_SF)
        await start(conn, c["id"], NOON_SF)
    return c["id"], ids


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def _async(value: Any) -> Any:
    return value


async def test_an_outage_burns_no_lead_backs_off_and_recovers(
    epool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    cid, _ = await agentless(epool, 200)
    timer = LoopTimer(50.0)
    gateway = SimulatedGateway(timer, SimGatewayParams(callee=ALL_HUMANS), seed=1)
    gateway.set_outage("connection refused (switch down)")
    health = GatewayHealth(
        base_s=0.2, cap_s=1.0, rng=random.Random(1), name="sim", monotonic=time.monotonic
    )
    errors_before = sample("dialer_gateway_errors_total", campaign=str(cid))
    with caplog.at_level(logging.INFO, logger="dialer.engine.health"):
        async with engine_on(epool, gateway, timer, health) as engine:
            # The first refusal takes the gateway down; the rest of that step's calls are
            # not even tried; then probes, one at a time, are refused.
            await wait_for(lambda: _async(gateway.refused >= 4), timeout=30)
            runner = engine.runners[cid]
            assert sample("dialer_gateway_up") == 0 and not health.up
            # Freeze the outage here (no more probes) so the figures below hold still.
            health.backoff.base_s = health.backoff.cap_s = 3600.0
            await wait_for(lambda: _async(health.retry_at - time.monotonic() > 600), timeout=30)
            await wait_for(
                lambda: epool.fetchval(
                    "SELECT count(*) = $2 FROM attempts WHERE campaign_id = $1"
                    " AND ended_at IS NOT NULL",
                    cid,
                    runner.dialing.refused,
                )
            )
            # Only one call of the first step and the probes reached the switch.
            assert runner.dialing.refused >= LINES and gateway.refused == health.failures
            requested = sample("dialer_pacer_requested_calls_total", campaign=str(cid))
            assert requested > sample("dialer_pacer_launched_calls_total", campaign=str(cid))
            refused = await epool.fetch(
                "SELECT a.*, l.attempts_count, l.status, l.last_outcome, l.next_attempt_at,"
                " l.claimed_by FROM attempts a JOIN leads l ON l.id = a.lead_id"
                " WHERE a.campaign_id = $1",
                cid,
            )
            assert len(refused) == runner.dialing.refused
            causes = {row["hangup_cause"] for row in refused}
            assert causes == {
                "gateway_unavailable: connection refused (switch down)",
                f"gateway_unavailable: {NOT_ATTEMPTED}",
            }
            for row in refused:
                assert row["outcome"] == "failed" and row["ended_at"] is not None
                # The lead is not charged and is due again a minute later.
                assert row["attempts_count"] == 0 and row["last_outcome"] is None
                assert row["status"] == "new" and row["claimed_by"] is None
                assert row["next_attempt_at"] == NOON_SF + timedelta(seconds=60)
            # The calling rules do not see these dials as contacts.
            config = CampaignConfig.from_row(
                await epool.fetchrow("SELECT * FROM campaigns WHERE id = $1", cid)
            )
            phones = [r["phone_e164"] for r in refused]
            assert await gate._history(epool, config, phones, NOON_SF) == {}

            gateway.set_outage(None)  # the switch is back
            health.retry_at = 0.0  # (unfreeze: the next probe is due now)
            await wait_for(
                lambda: epool.fetchval(
                    "SELECT count(*) >= 10 FROM attempts WHERE campaign_id = $1"
                    " AND outcome = 'completed'",
                    cid,
                ),
                timeout=60,
            )
            assert health.up and sample("dialer_gateway_up") == 1
            errors = sample("dialer_gateway_errors_total", campaign=str(cid)) - errors_before
            assert errors == len(refused)
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 2, logged  # down once, up once: not a line per call
    # Each refused dial closed its attempt.started with an attempt.completed (not counted).
    events = await epool.fetch(
        "SELECT payload FROM webhook_outbox WHERE type = 'attempt.completed'"
        " AND payload ->> 'counted' = 'false'"
    )
    assert len(events) == len(refused)
    assert {e["payload"]["outcome"] for e in events} == {"failed"}
    assert not await epool.fetchval("SELECT count(*) FROM attempts WHERE ended_at IS NULL")


async def test_a_guaranteed_call_refused_frees_its_agent_and_keeps_the_callback(
    epool: asyncpg.Pool,
) -> None:
    from tests.integration.engine_support import add_agent

    async with epool.acquire() as conn:
        c = await make_campaign(conn, NOON_SF)
        [lead] = await add_leads(conn, c["id"], us_numbers(1), NOON_SF)
        agent = await add_agent(conn, c["id"], NOON_SF)
        await conn.execute(
            "UPDATE leads SET status = 'callback', callback_agent_id = $2 WHERE id = $1",
            lead,
            agent,
        )
        await start(conn, c["id"], NOON_SF)
    timer = LoopTimer(50.0)
    gateway = SimulatedGateway(timer, SimGatewayParams(callee=ALL_HUMANS), seed=1)
    gateway.set_outage("not connected to Asterisk (reconnecting)")
    health = GatewayHealth(base_s=5.0, cap_s=5.0, rng=random.Random(1), monotonic=time.monotonic)
    async with engine_on(epool, gateway, timer, health):
        await wait_for(
            lambda: epool.fetchval(
                "SELECT count(*) FROM attempts WHERE lead_id = $1 AND ended_at IS NOT NULL", lead
            )
        )
        row = await wait_for(
            lambda: epool.fetchrow(
                "SELECT state, attempt_id FROM agents WHERE id = $1 AND state = 'available'",
                agent,
            )
        )
        assert row["attempt_id"] is None
    lead_row = await epool.fetchrow("SELECT * FROM leads WHERE id = $1", lead)
    assert lead_row["status"] == "callback" and lead_row["callback_agent_id"] == agent
    assert lead_row["attempts_count"] == 0
    assert lead_row["next_attempt_at"] == NOON_SF + timedelta(seconds=60)


async def test_the_ari_adapter_with_asterisk_stopped(epool: asyncpg.Pool) -> None:
    from tests.fakes.ari_server import FakeAsterisk
    from tests.fakes.gateways import ari_gateway

    cid, _ = await agentless(epool, 50)
    fake = FakeAsterisk(time_scale=0.01)
    await fake.start()
    health = GatewayHealth(
        base_s=0.2, cap_s=0.5, rng=random.Random(1), name="ari", monotonic=time.monotonic
    )
    try:
        async with ari_gateway(fake) as gateway:
            await fake.stop()  # Asterisk goes down
            async with engine_on(epool, gateway, LoopTimer(), health):
                await wait_for(
                    lambda: epool.fetchval(
                        "SELECT count(*) > $2 FROM attempts WHERE campaign_id = $1"
                        " AND hangup_cause LIKE 'gateway_unavailable:%'",
                        cid,
                        LINES,
                    ),
                    timeout=30,
                )
                assert not health.up
                charged = await epool.fetchval(
                    "SELECT count(*) FROM leads WHERE campaign_id = $1 AND attempts_count > 0",
                    cid,
                )
                assert charged == 0
                await fake.start()  # back: the adapter reconnects, a probe goes through
                await wait_for(lambda: _async(health.up), timeout=30)
                await wait_for(
                    lambda: epool.fetchval(
                        "SELECT count(*) FROM leads WHERE campaign_id = $1 AND attempts_count > 0",
                        cid,
                    ),
                    timeout=30,
                )
    finally:
        await fake.stop()


class RefusesOneNumber(SimulatedGateway):
    """A switch that is up but refuses one dial string (a 4xx from Asterisk, -ERR from
    FreeSWITCH): that call's own failure, not an outage."""

    def __init__(self, refused_phone: str, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.refused_phone = refused_phone

    async def originate(self, request: OriginateRequest, on_event: EventSink) -> None:
        if request.phone_e164 == self.refused_phone:
            raise GatewayError("Asterisk refused the call (HTTP 400: bad endpoint)")
        await super().originate(request, on_event)


async def test_one_refused_number_is_that_calls_failure_not_an_outage(
    epool: asyncpg.Pool,
) -> None:
    cid, _ = await agentless(epool, 20)
    bad = us_numbers(20)[3]
    timer = LoopTimer(50.0)
    gateway = RefusesOneNumber(bad, timer, SimGatewayParams(callee=ALL_HUMANS), seed=1)
    health = GatewayHealth(
        base_s=5.0, cap_s=5.0, rng=random.Random(1), name="sim", monotonic=time.monotonic
    )
    async with engine_on(epool, gateway, timer, health):
        row = await wait_for(
            lambda: epool.fetchrow(
                "SELECT a.outcome, a.hangup_cause, l.attempts_count FROM attempts a"
                " JOIN leads l ON l.id = a.lead_id"
                " WHERE a.campaign_id = $1 AND a.phone_e164 = $2 AND a.ended_at IS NOT NULL",
                cid,
                bad,
            ),
            timeout=30,
        )
        # Counted like any failed dial (the retry policy and attempt caps apply) ...
        assert row["outcome"] == "failed" and row["attempts_count"] == 1
        assert row["hangup_cause"].startswith("originate: Asterisk refused the call")
        # ... and the other calls go on: the gateway was never marked down.
        await wait_for(
            lambda: epool.fetchval(
                "SELECT count(*) >= 10 FROM attempts WHERE campaign_id = $1"
                " AND outcome = 'completed'",
                cid,
            ),
            timeout=60,
        )
    assert health.up and health.outages == 0
