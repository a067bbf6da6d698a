"""After a database outage the pacer does not burst: until the ramp is over it launches no
more than the free agents of the picture reloaded from the database allow (issue 23,
item 4: 92 and 109 dials within single seconds for 50 agents after one outage).

A power campaign at 5 lines per free agent is the sharpest case: every call is busy, so
the agents stay free and each decision asks for 5 lines per agent. Through the outage the
runner launches nothing; once the database answers, each step launches at most the free
agents less the calls in flight; after the ramp the pacer's own number applies again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from dialer.clock import FakeClock
from dialer.engine.runner import RunnerOptions
from dialer.sim.model import CalleeModel
from tests.fakes.pgproxy import PgProxy
from tests.integration.engine_support import (
    NOON_SF,
    add_leads,
    running_engine,
    started_campaign,
    us_numbers,
    wait_for,
)

AGENTS = 3
ALL_BUSY = CalleeModel(
    p_human=0.0, p_machine=0.0, p_busy=1.0, p_failed=0.0, ring_min_s=3, ring_max_s=5, talk_s=1
)


async def _history(conn: asyncpg.Connection, campaign_id: int, now: datetime) -> None:
    """A day's 2,000 answered calls without an abandon: the legal windows have the slack
    that lets a power campaign dial ahead of its free agents."""
    (lead_id,) = await add_leads(conn, campaign_id, ["+14155559999"], now)
    await conn.execute("UPDATE leads SET status = 'completed' WHERE id = $1", lead_id)
    await conn.execute(
        "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, answered_at,"
        " ended_at, outcome, answer, compliance)"
        " SELECT $1, $2, '+14155559999', $3::timestamptz - n * interval '30 seconds',"
        " $3::timestamptz - n * interval '30 seconds',"
        " $3::timestamptz - n * interval '29 seconds', 'completed', 'human',"
        " '{}'::jsonb FROM generate_series(1, 2000) n",
        lead_id,
        campaign_id,
        now,
    )


async def test_after_an_outage_no_step_launches_more_than_the_free_agents(
    pools: tuple[PgProxy, asyncpg.Pool, asyncpg.Pool],
) -> None:
    proxy, service, direct = pools
    clock = FakeClock(NOON_SF)
    cid, _, _ = await started_campaign(
        direct, clock.now(), us_numbers(600), agents=AGENTS, dial_mode="power", dial_level=5
    )
    async with direct.acquire() as conn:
        await _history(conn, cid, clock.now())
    options = RunnerOptions(lease_ttl_s=30, tick_s=0.05, shutdown_timeout_s=2)
    # (phase, launched, free agents less calls in flight and waiting, calls in flight)
    steps: list[tuple[str, int, int, int]] = []

    async with running_engine(
        service, clock=clock, callee=ALL_BUSY, speed=10, options=options
    ) as running:

        async def dialing_ahead() -> bool:
            runner = running.engine.runners.get(cid)
            return runner is not None and runner.pacing_state().calls_in_flight > AGENTS

        await wait_for(dialing_ahead, timeout=60)  # 5 lines per agent before the outage
        runner = running.engine.runners[cid]
        submit = runner.launcher.submit
        restored = False

        async def recorded(want: int, mode: str, started: Any, counted: Any = ()) -> None:
            ramp = getattr(runner, "ramp", None)
            state = runner.pacing_state()
            phase = "down" if not restored else "ramp" if ramp and ramp.active else "after"
            free = state.agents_available - state.calls_in_flight - state.calls_waiting
            steps.append((phase, want, free, state.calls_in_flight))
            await submit(want, mode, started, counted)

        runner.launcher.submit = recorded  # type: ignore[method-assign]
        proxy.refuse = True
        proxy.drop()

        async def noticed() -> bool:
            ramp = getattr(runner, "ramp", None)  # (without the guard: the engine noticed)
            return bool(ramp.down) if ramp is not None else running.engine.outage_at is not None

        await wait_for(noticed, timeout=30)
        restored = True
        proxy.refuse = False

        async def ahead_again() -> bool:
            after = [s for s in steps if s[0] == "after"]
            return any(in_flight + n > AGENTS for _, n, _, in_flight in after)

        await wait_for(ahead_again, timeout=60)
    assert not [s for s in steps if s[0] == "down" and s[1] > 0], "launched while down"
    first = [s for s in steps if s[0] != "down"][:5]
    assert all(n <= max(0, free) for _, n, free, _ in first), f"dialed ahead: {first}"
    assert all(phase == "ramp" for phase, *_ in first)
    assert runner.ramp.capped > 0  # the pacer asked for more: the guard held it back
