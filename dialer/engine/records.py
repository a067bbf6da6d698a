"""Attempt records: the dial's row before the call, the connect, the close, and recovery.

Every write here is one transaction holding the change and its webhook event:

* ``start_attempt``: the attempt row and ``attempt.started``, written *before* the call is
  placed, fenced by the campaign lease and the lead's claim. The lead stays claimed until
  its outcome is applied and is pushed out to the ``unknown`` retry time in the same
  statement, so a crash mid-call never leaves it dialable and never loses the record.
* ``close_attempt``: outcome, durations, ``attempt.completed``; for a call no agent took,
  the retry plan for the lead too (a connected call waits for the agent's disposition).
* ``recover``: after a takeover or restart, open attempts become ``unknown`` and their
  leads are rescheduled (never redialed at once); claims and stuck agents are released.

A lead that somebody changed during the call (a CRM callback, a DNC, a pause) keeps that
change: plans apply only to a lead untouched since the dial.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from dialer.agents import store as agents
from dialer.compliance import Decision
from dialer.engine.model import CampaignConfig, Lead
from dialer.engine.retry import LeadPlan, after_call
from dialer.sql import queries
from dialer.webhooks.outbox import enqueue

log = logging.getLogger(__name__)
_Q = queries("dialer.engine")
# A connected call's lead stays claimed this long after the call, awaiting the disposition.
DISPOSITION_WAIT = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Dial:
    """One call about to be placed: the lead, the decision that allows it, its call id."""

    lead: Lead
    decision: Decision
    call_id: str
    mode: str
    agent_id: int | None = None  # an agent held for this call (preview, owned callback)


@dataclass(frozen=True, slots=True)
class Started:
    attempt_id: int
    attempts_count: int
    lead_status: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What the runner knows when a call ends.

    ``plan``: what becomes of the lead (computed from what the runner knows of it since the
    dial); None for a connected call, whose lead waits for the agent's disposition. It is
    applied only if nobody changed the lead during the call. ``wrap_agent``: the call's
    agent goes into wrap-up.
    """

    attempt_id: int
    outcome: str
    ended_at: datetime
    answer: str | None = None
    answered_at: datetime | None = None
    ring_s: float | None = None
    wait_s: float | None = None
    talk_s: float | None = None
    hangup_cause: str | None = None
    plan: LeadPlan | None = None
    wrap_agent: bool = False


async def start_attempts(
    conn: asyncpg.Connection,
    campaign: CampaignConfig,
    dials: Sequence[Dial],
    *,
    lease: str,
    owner: str,
    runner: str,
    now: datetime,
) -> list[Started | None]:
    """Record a batch of dials in one transaction; None for each dial that must not be
    placed (the lease or the lead's claim was lost, or the lead is on a call already)."""
    try:
        async with conn.transaction():
            return [
                await _start_one(
                    conn, campaign, d, lease=lease, owner=owner, runner=runner, now=now
                )
                for d in dials
            ]
    except asyncpg.UniqueViolationError:
        if len(dials) == 1:
            return [None]
    out: list[Started | None] = []
    for dial in dials:  # one lead already has an open attempt: find it, place the others
        out += await start_attempts(
            conn, campaign, [dial], lease=lease, owner=owner, runner=runner, now=now
        )
    return out


async def _start_one(
    conn: asyncpg.Connection,
    campaign: CampaignConfig,
    dial: Dial,
    *,
    lease: str,
    owner: str,
    runner: str,
    now: datetime,
) -> Started | None:
    lead = dial.lead
    row = await conn.fetchrow(
        _Q["start_attempt"],
        lease,
        owner,
        now,
        lead.id,
        now + campaign.unknown_delay(),
        runner,
        dial.decision.to_dict(),
        dial.call_id,
        runner,
        dial.mode,
        dial.agent_id is not None,
        dial.agent_id,
    )
    if row is None:
        return None
    if dial.agent_id is not None:
        await conn.execute(_Q["link_agent"], dial.agent_id, row["id"])
    await enqueue(
        conn,
        "attempt.started",
        client_id=campaign.client_id,
        campaign_id=campaign.id,
        lead_id=lead.id,
        now=now,
        data={
            "attempt_id": row["id"],
            "lead_id": lead.id,
            "campaign_id": campaign.id,
            "phone": lead.phone_e164,
            "attempt": row["attempts_count"],
            "started_at": now,
            "mode": dial.mode,
            "agent_guaranteed": dial.agent_id is not None,
            "rules": list(dial.decision.rules_applied),
        },
    )
    return Started(row["id"], row["attempts_count"], row["status"], now)


async def defer_blocked(
    conn: asyncpg.Connection,
    campaign: CampaignConfig,
    blocked: list[tuple[Lead, Decision]],
    *,
    runner: str,
    now: datetime,
    recheck: timedelta,
) -> int:
    """Reschedule leads the rules block at their next allowed instant (``recheck`` later
    when the rules name none); one ``compliance.blocked`` event each. Returns how many."""
    done = 0
    async with conn.transaction():
        for lead, decision in blocked:
            at = decision.next_allowed_at or now + recheck
            if await conn.fetchval(_Q["defer_lead"], lead.id, runner, at, now) is None:
                continue
            done += 1
            await enqueue(
                conn,
                "compliance.blocked",
                client_id=campaign.client_id,
                campaign_id=campaign.id,
                lead_id=lead.id,
                now=now,
                data={
                    "lead_id": lead.id,
                    "campaign_id": campaign.id,
                    "rule_ids": list(decision.rule_ids),
                    "reasons": [str(r) for r in decision.reasons],
                    "next_attempt_at": at,
                    "decided_at": now,
                },
            )
    return done


async def connect(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    agent_id: int,
    attempt_id: int,
    campaign_id: int,
    now: datetime,
    answered_at: datetime,
    ring_s: float | None,
    wait_s: float,
    reserved: bool,
) -> bool:
    """Give the answered call to the agent (compare-and-set unless already ``reserved``)."""
    if reserved:
        await conn.execute(
            _Q["connect_reserved"], attempt_id, agent_id, now, answered_at, ring_s, wait_s
        )
        return True
    got = await conn.fetchval(
        _Q["connect"], agent_id, attempt_id, now, campaign_id, answered_at, ring_s, wait_s
    )
    return got is not None


def completed_event(row: Any) -> dict[str, Any]:
    return {
        "attempt_id": row["id"],
        "lead_id": row["lead_id"],
        "campaign_id": row["campaign_id"],
        "outcome": row["outcome"],
        "answer": row["answer"],
        "agent_id": row["agent_id"],
        "mode": row["mode"],
        "started_at": row["started_at"],
        "answered_at": row["answered_at"],
        "connected_at": row["connected_at"],
        "ended_at": row["ended_at"],
        "ring_s": row["ring_s"],
        "wait_s": row["wait_s"],
        "talk_s": row["talk_s"],
    }


async def apply_plan(
    conn: asyncpg.Connection,
    campaign: CampaignConfig,
    lead_id: int,
    plan: LeadPlan,
    *,
    outcome: str,
    disposition: str | None,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write the lead's plan and the lead events it emits (inside the caller's transaction)."""
    await conn.execute(
        _Q["apply_plan"],
        lead_id,
        plan.status,
        plan.next_attempt_at,
        plan.callback_agent_id,
        outcome,
        disposition,
        now,
    )
    await _plan_events(conn, campaign, lead_id, plan, now=now, extra=extra)


async def _plan_events(
    conn: asyncpg.Connection,
    campaign: CampaignConfig,
    lead_id: int,
    plan: LeadPlan,
    *,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> None:
    for event in plan.events:
        data: dict[str, Any] = {"lead_id": lead_id, "campaign_id": campaign.id, **(extra or {})}
        if event == "lead.callback_scheduled":
            data.update(at=plan.next_attempt_at, agent_id=plan.callback_agent_id)
        await enqueue(
            conn,
            event,
            client_id=campaign.client_id,
            campaign_id=campaign.id,
            lead_id=lead_id,
            now=now,
            data=data,
        )


async def close_calls(
    conn: asyncpg.Connection, campaign: CampaignConfig, calls: Sequence[CallRecord]
) -> list[dict[str, Any] | None]:
    """Write ended calls in one transaction (each: the attempt, its lead, its agent, its
    events). None for an attempt already closed (recovered by a process that took over)."""
    async with conn.transaction():
        return [await _close_one(conn, campaign, record) for record in calls]


async def _close_one(
    conn: asyncpg.Connection, campaign: CampaignConfig, record: CallRecord
) -> dict[str, Any] | None:
    now, plan = record.ended_at, record.plan
    row = await conn.fetchrow(
        _Q["close_call"],
        record.attempt_id,
        now,
        record.outcome,
        record.answer,
        record.answered_at,
        record.ring_s,
        record.wait_s,
        record.talk_s,
        record.hangup_cause,
        plan.status if plan else None,
        plan.next_attempt_at if plan else None,
        plan.callback_agent_id if plan else None,
        now + DISPOSITION_WAIT,
        record.wrap_agent,
    )
    if row is None:
        return None
    await enqueue(
        conn,
        "attempt.completed",
        client_id=campaign.client_id,
        campaign_id=campaign.id,
        lead_id=row["lead_id"],
        now=now,
        data=completed_event(row),
    )
    if plan is not None and row["planned"]:
        await _plan_events(conn, campaign, row["lead_id"], plan, now=now)
    return dict(row)


async def recover(
    conn: asyncpg.Connection, campaign: CampaignConfig, *, now: datetime
) -> dict[str, int]:
    """Close what a dead (or stopped) runner left open; see the module docstring.

    Every open attempt becomes ``unknown`` and its lead is retried as such, from now (so
    never at once), a connected one too: its disposition is lost with the process.
    Claims are released and agents held by calls that no longer exist are freed.
    """
    calls = []
    for row in await conn.fetch(_Q["open_attempts"], campaign.id):
        plan = after_call(
            "unknown",
            lead_status=row["lead_status"],
            callback_agent_id=row["lead_owner"],
            attempts_count=row["lead_attempts"],
            max_attempts=campaign.max_attempts,
            policy=campaign.retry_policy,
            now=now,
        )
        calls.append(
            CallRecord(row["id"], "unknown", now, hangup_cause="dialer restarted", plan=plan)
        )
    closed = sum(r is not None for r in await close_calls(conn, campaign, calls))
    released = await conn.execute(_Q["release_campaign_claims"], campaign.id)
    freed = 0
    for agent in await conn.fetch(_Q["stuck_agents"], campaign.id):
        await agents.act(conn, agent["id"], "release", scope=None, now=now)
        freed += 1
    return {"closed": closed, "released": int(released.split()[-1]), "agents": freed}
