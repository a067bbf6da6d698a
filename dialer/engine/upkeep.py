"""A runner's upkeep, on a short tick: its lease, settings, budget, agents, hopper, metrics.

Every tick (a fraction of a second) the runner renews its lease when a third of its life has
passed (and stops at once if it was lost), re-reads its campaign every few seconds (a
PATCH or a pause takes effect without a restart), reloads the abandon budget and its agents
now and then (the bus keeps them current in between), applies its agents' held pauses
once the calls they were held for are gone (``dialer.agents.holds``), keeps the hopper
filled for a few seconds of dialing, completes the campaign when no lead is left to dial,
and refreshes its metrics. Then it kicks the pacing loop, so time-based pacing decisions
happen even when no event arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from dialer import leases, metrics
from dialer.agents import store as agents
from dialer.campaigns import store as campaigns
from dialer.db import DB_ERRORS, OUTAGE_ERRORS
from dialer.engine import closing, series
from dialer.engine.budget import WINDOWS
from dialer.engine.model import CampaignConfig
from dialer.errors import DialerError
from dialer.sql import queries

if TYPE_CHECKING:
    from dialer.engine.runner import CampaignRunner

log = logging.getLogger(__name__)
_Q = queries("dialer.engine")


async def tick_loop(runner: CampaignRunner) -> None:
    o = runner.options
    jobs = {
        "config": (o.config_every_s, reload_config),
        "budget": (o.budget_every_s, reload_budget),
        "agents": (o.agents_every_s, reload_agents),
        "shared": (o.shared_every_s, reload_shared),
        "complete": (o.complete_every_s, complete_if_done),
        "orphans": (o.orphans_every_s, close_orphans),
    }
    due = dict.fromkeys(jobs, runner.clock.monotonic())
    while not runner.stopping:
        await asyncio.sleep(o.tick_s)
        if runner.stopping:
            return
        try:
            if runner.ramp.down:
                await resync_after_outage(runner)
            if not await renew(runner):
                return
            now = runner.clock.monotonic()
            for key, (every, job) in jobs.items():
                if now >= due[key]:
                    due[key] = now + every
                    await job(runner)
            await settle_holds(runner)
            await fill_hopper(runner)
            export(runner)
        except DB_ERRORS as exc:
            log.warning("runner tick failed: %s", exc, extra={"campaign_id": runner.campaign_id})
            if isinstance(exc, OUTAGE_ERRORS):
                runner.ramp.failed()
        except Exception:  # the lease must keep being renewed whatever one job does
            metrics.LOOP_ERRORS.labels("runner").inc()
            log.exception("runner tick failed", extra={"campaign_id": runner.campaign_id})
        runner.kick(trigger=False)


async def renew(runner: CampaignRunner) -> bool:
    """Renew the lease every third of its life; stop the runner if another took it.

    A database that cannot be reached is not a lost lease: nobody can take the lease
    without the database either, and no dial can be written past its expiry (the fence in
    ``start_attempts``). So the runner keeps following its calls and holding their
    outcomes through an outage, and writes them when the database is back; it stops only
    when the database says another process holds the lease, and then gracefully (calls
    in progress finish and are recorded: nobody talking to an agent is cut off)."""
    ttl = runner.options.lease_ttl_s
    now = runner.clock.monotonic()
    if now - runner.renewed < ttl / 3:
        return True
    try:
        held = await leases.acquire(
            runner.pool,
            runner.lease,
            runner.instance_id,
            now=runner.clock.now(),
            ttl=timedelta(seconds=ttl),
        )
    except DB_ERRORS as exc:
        log.warning(
            "lease not renewed: database unreachable (%s); calls in progress go on",
            exc,
            extra={"campaign_id": runner.campaign_id},
        )
        runner.ramp.failed()
        return True
    if held:
        runner.renewed = now
        if runner.dialing.lapsed:  # a launch found it lapsed: dialing resumes now
            log.warning(
                "campaign lease renewed after it lapsed (no dial was written meanwhile)",
                extra={"campaign_id": runner.campaign_id},
            )
            runner.dialing.lapsed = False
            runner.kick()
        return True
    log.error(
        "campaign lease taken by another process: stopping",
        extra={"campaign_id": runner.campaign_id},
    )
    runner.lost = True
    runner.spawn(runner.stop())
    return False


async def resync_after_outage(runner: CampaignRunner) -> None:
    """The database answers again: the picture the pacer starts from is the tables' (agents
    by their stored state, other runners' calls still open counted in flight), then the
    ramp (``engine.ramp``) lets it dial, no further ahead than the free agents at first."""
    await reload_agents(runner)
    others = await runner.pool.fetchval(_Q["others_open"], runner.campaign_id, runner.runner_id)
    runner.inherited = max(runner.inherited, int(others))
    runner.ramp.answered()
    log.warning(
        "database back: picture reloaded (%s calls of other runners open); dialing no further"
        " ahead than free agents for %.0f s",
        others,
        runner.ramp.ramp_s,
        extra={"campaign_id": runner.campaign_id},
    )


async def recover(runner: CampaignRunner) -> None:
    """What a previous holder left: see ``closing.recover``."""
    async with runner.pool.acquire() as conn:
        runner.recovered = await closing.recover(
            conn,
            runner.config,
            now=runner.clock.now(),
            instance_id=runner.instance_id,
            grace=timedelta(seconds=runner.takeover_grace_s),
        )
    runner.inherited = runner.recovered["held"]
    if runner.recovered["closed"] or runner.inherited:
        log.warning(
            "closed %s attempts left open by a previous runner as unknown; %s still followed "
            "by a live process",
            runner.recovered["closed"],
            runner.inherited,
            extra={"campaign_id": runner.campaign_id},
        )


async def close_orphans(runner: CampaignRunner) -> None:
    """Close the calls a live process still held when this runner started, once that
    process is gone (its engine lease expired); until then count them as in flight."""
    if not runner.inherited:
        return
    async with runner.pool.acquire() as conn:
        closed, runner.inherited = await closing.close_orphans(
            conn,
            runner.config,
            now=runner.clock.now(),
            instance_id=runner.instance_id,
            grace=timedelta(seconds=runner.takeover_grace_s),
            runner_id=runner.runner_id,
        )
    if closed:
        log.warning(
            "closed %s attempts of a process that died as unknown",
            closed,
            extra={"campaign_id": runner.campaign_id},
        )
        await reload_agents(runner)


async def reload_config(runner: CampaignRunner) -> None:
    row = await runner.pool.fetchrow(_Q["campaign"], runner.campaign_id)
    if row is None:
        runner.config = replace(runner.config, state="deleted")
        return
    old, runner.config = runner.config, CampaignConfig.from_row(row)
    chooser = runner.dialing.caller_ids
    before = chooser.numbers
    await chooser.reload(runner.pool, runner.campaign_id, runner.clock.now())
    series.campaign_changed(old, runner.config)
    if chooser.numbers != before:
        series.caller_ids(runner.config, chooser.numbers)
    runner.pacing.update(runner.config)
    runner.budget.max_rate = runner.config.max_abandon_rate


async def reload_budget(runner: CampaignRunner) -> None:
    """Abandon-budget counts of both legal windows, from the attempt records."""
    now = runner.clock.now()
    runner.budget.begin_reload()
    row = await runner.pool.fetchrow(
        _Q["budget_counts"],
        runner.campaign_id,
        now - timedelta(seconds=WINDOWS["24h"]),
        now - timedelta(seconds=WINDOWS["30d"]),
    )
    runner.budget.finish_reload(
        {
            "24h": (row["humans_24h"], row["abandoned_24h"]),
            "30d": (row["humans_30d"], row["abandoned_30d"]),
        }
    )


async def reload_shared(runner: CampaignRunner) -> None:
    """Calls that other engine processes' campaigns have ringing for agents this campaign
    shares (this process's own runners are counted from ``runner.peers``)."""
    runner.shared_elsewhere = int(
        await runner.pool.fetchval(
            _Q["shared_open_elsewhere"], runner.campaign_id, runner.instance_id, runner.clock.now()
        )
    )


async def reload_agents(runner: CampaignRunner) -> None:
    rows = await agents.campaign_agents(runner.pool, runner.campaign_id)
    for change in runner.view.load(rows, runner.timer.now()):
        runner.agent_changed(change)


def giving_calls(runner: CampaignRunner) -> list[int]:
    """Agents this runner is giving a call (in its picture only, so far)."""
    view = runner.view
    return [s.id for s in view.agents.values() if s.reserving] + list(view.pinned)


async def settle_holds(runner: CampaignRunner) -> None:
    """While one of the campaign's free agents holds a pause (``dialer.agents.holds``),
    apply it as soon as the calls it waits for are gone, or at its deadline; from the rows,
    so a hold the API set in another process ends here too."""
    view = runner.view
    if not any(s.holding for s in view.agents.values()):
        return
    async with runner.pool.acquire() as conn:
        rows = await agents.settle_holds(
            conn, runner.clock.now(), campaign_id=runner.campaign_id, skip=giving_calls(runner)
        )
    for row in rows:
        change = view.load_one(row, runner.timer.now())
        if change is not None:
            runner.agent_changed(change)


def agents_seen(runner: CampaignRunner, rows: list[dict[str, Any]]) -> None:
    """Agents a launch found no longer free (``records.AgentsGone``), as their rows are
    now: the view follows at once (the bus may bring older news later; a launch that counts
    an agent wrongly again is refused again), and the pacer decides again."""
    view, t = runner.view, runner.timer.now()
    for row in rows:
        if row.get("deleted_at") is not None:
            change = view.apply({"event": "state", "agent": row["id"], "deleted": True}, t)
        else:
            change = view.load_one(row, t)
        if change is not None:
            runner.agent_changed(change)
    runner.kick(trigger=False)


async def fill_hopper(runner: CampaignRunner) -> None:
    """Keep a few seconds of leads claimed (and the callbacks of agents who are free)."""
    if runner.config.state != "running":
        return
    runner.hopper.set_rate(runner.dialing.rate())
    owners = [s.id for s in runner.view.available()]
    if runner.hopper.needs_refill() or owners:
        await runner.hopper.refill(owners=owners)


async def complete_if_done(runner: CampaignRunner) -> None:
    """Complete the campaign when no lead is left to dial, ever."""
    if runner.flow.calls or len(runner.hopper) or runner.dialing.offers:
        return
    if runner.config.state != "running":
        return
    row = await runner.pool.fetchrow(_Q["pending_leads"], runner.campaign_id)
    if not row["total"] or row["pending"]:
        return
    async with runner.pool.acquire() as conn:
        with contextlib.suppress(DialerError):
            await campaigns.transition(
                conn,
                runner.campaign_id,
                "complete",
                scope=None,
                now=runner.clock.now(),
                reason="exhausted",
                expect=frozenset({"running"}),
            )
    log.info("campaign completed: no leads left", extra={"campaign_id": runner.campaign_id})


def export(runner: CampaignRunner) -> None:
    cid = str(runner.campaign_id)
    metrics.CALLS_IN_FLIGHT.labels(cid).set(len(runner.flow.calls))
    for state, n in runner.view.counts().items():
        metrics.AGENTS.labels(cid, state).set(n)
    runner.view.integrate(runner.timer.now())
    metrics.AGENT_OCCUPANCY.labels(cid).set(runner.view.occupancy())
    for window in WINDOWS:
        metrics.ABANDON_RATE.labels(cid, window).set(runner.budget.rate(window))
    metrics.HOPPER_LEADS.labels(cid).set(len(runner.hopper))
