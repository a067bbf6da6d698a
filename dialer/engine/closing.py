"""Closing attempts: ended calls, dials the gateway refused, and recovery after a crash.

Every write here is one transaction holding the changes and their webhook events:

* ``close_calls``: a batch of ended calls in one statement (outcome, durations; for a call
  no agent took, the retry plan of the lead; a connected call's lead waits for the agent's
  disposition; its agent goes into wrap-up), then their events in one more
  (``attempt.completed`` and the lead events of the plans).
* a dial the gateway refused (``unplaced``): the attempt is closed ``failed`` with
  ``gateway_unavailable: …`` but the lead is given back as if it had not been dialed.
* number hygiene (``numbers``): after a call that reached nobody, a bad number is retired
  and the lead moves to its next number (or becomes ``invalid``), per campaign policy.
* ``recover``: after a takeover or restart, open attempts become ``unknown`` and their
  leads are rescheduled (never redialed at once); claims and stuck agents are released.

A lead that somebody changed during the call (a CRM callback, a DNC, a pause) keeps that
change: plans apply only to a lead untouched since the dial.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from dialer.agents import store as agents
from dialer.engine.model import CampaignConfig
from dialer.engine.numbers import apply_numbers
from dialer.engine.retry import LeadPlan, after_call
from dialer.outbox import OutboxEvent, enqueue, enqueue_many
from dialer.sql import queries

_Q = queries("dialer.engine")
# A connected call's lead stays claimed this long after the call, awaiting the disposition.
DISPOSITION_WAIT = timedelta(minutes=15)
# Prefix of ``hangup_cause`` for dials the gateway refused (not counted, not a contact).
GATEWAY_UNAVAILABLE = "gateway_unavailable"


@dataclass(frozen=True, slots=True)
class RecordingInfo:
    """A call's stored recording (``recordkeep``)."""

    key: str
    url: str
    duration_s: float
    sha256: str


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What the runner knows when a call ends.

    ``plan``: what becomes of the lead (computed from what the runner knows of it since the
    dial); None for a connected call, whose lead waits for the agent's disposition. It is
    applied only if nobody changed the lead during the call. ``wrap_agent``: the call's
    agent goes into wrap-up. ``restore_status``: the gateway refused the dial (an outage):
    the lead gets this status back and is due again at ``due_at``; the attempt is closed
    but not counted.
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
    restore_status: str | None = None
    due_at: datetime | None = None
    recording_call: str | None = None  # the gateway's call id, when the call was recorded
    recording: RecordingInfo | None = None  # the stored recording (set by recordkeep)
    recording_notice: str | None = None  # why the recording notice played (None: it did not)


def unplaced(
    attempt_id: int, lead_status: str, error: object, *, now: datetime, due_at: datetime
) -> CallRecord:
    """The record of a dial the gateway refused (see ``close_unplaced`` in queries.sql)."""
    return CallRecord(
        attempt_id,
        "failed",
        now,
        hangup_cause=f"{GATEWAY_UNAVAILABLE}: {error}"[:500],
        restore_status=lead_status,
        due_at=due_at,
    )


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
        **_legs(row),
    }


def _legs(row: Any) -> dict[str, Any]:
    """A transfer or conference leg names the attempt it came from (docs/transfers.md)."""
    keys = row.keys() if hasattr(row, "keys") else ()
    if "parent_attempt_id" not in keys or row["parent_attempt_id"] is None:
        return {}
    return {
        "parent_attempt_id": row["parent_attempt_id"],
        "leg": row["leg"],
        "hangup_cause": row["hangup_cause"],
    }


def plan_events(
    campaign: CampaignConfig,
    lead_id: int,
    plan: LeadPlan,
    *,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> list[OutboxEvent]:
    """The lead events a plan emits (``lead.completed``, ``lead.dnc``, ...)."""
    out = []
    for event in plan.events:
        data: dict[str, Any] = {"lead_id": lead_id, "campaign_id": campaign.id, **(extra or {})}
        if event == "lead.callback_scheduled":
            data.update(at=plan.next_attempt_at, agent_id=plan.callback_agent_id)
        out.append(_event(campaign, event, lead_id, now, data))
    return out


def _event(
    campaign: CampaignConfig, event: str, lead_id: int, now: datetime, data: dict[str, Any]
) -> OutboxEvent:
    return OutboxEvent(event, campaign.client_id, data, now, campaign.id, lead_id)


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
    events: bool = True,
) -> None:
    """Write the lead's plan and (unless ``events`` is False: the caller writes
    ``plan_events`` with its own) the lead events it emits, inside the caller's
    transaction."""
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
    if events:
        await enqueue_many(conn, plan_events(campaign, lead_id, plan, now=now, extra=extra))


async def close_calls(
    conn: asyncpg.Connection,
    campaign: CampaignConfig,
    calls: Sequence[CallRecord],
    *,
    runner: str | None = None,
    recovering: bool = False,
) -> list[dict[str, Any] | None]:
    """Write ended calls in one transaction (each: the attempt, its lead, its agent, its
    events). None for an attempt already closed, unless ``runner`` placed it and a process
    that took the campaign over closed it ``unknown`` while this runner was cut off: then
    the real outcome is written back, fenced (``close_calls`` in queries.sql).
    ``recovering``: these are a recovery's ``unknown`` closes (marked so)."""
    ended = [c for c in calls if c.restore_status is None]
    async with conn.transaction():
        found = await _close_ended(conn, campaign, ended, runner, recovering) if ended else {}
        for record in calls:
            if record.restore_status is not None:
                found[record.attempt_id] = await _close_unplaced(conn, campaign, record)
    return [found.get(c.attempt_id) for c in calls]


async def _close_ended(
    conn: asyncpg.Connection,
    campaign: CampaignConfig,
    calls: Sequence[CallRecord],
    runner: str | None,
    recovering: bool,
) -> dict[int, dict[str, Any] | None]:
    plans = [c.plan for c in calls]
    rows = await conn.fetch(
        _Q["close_calls"],
        [c.attempt_id for c in calls],
        [c.ended_at for c in calls],
        [c.outcome for c in calls],
        [c.answer for c in calls],
        [c.answered_at for c in calls],
        [c.ring_s for c in calls],
        [c.wait_s for c in calls],
        [c.talk_s for c in calls],
        [c.hangup_cause for c in calls],
        [p.status if p else None for p in plans],
        [p.next_attempt_at if p else None for p in plans],
        [p.callback_agent_id if p else None for p in plans],
        [c.ended_at + DISPOSITION_WAIT for c in calls],
        [c.wrap_agent for c in calls],
        runner,
        recovering,
    )
    by_id = {row["id"]: row for row in rows}
    hygiene = [
        (by_id[c.attempt_id]["lead_id"], c.outcome, c.hangup_cause)
        for c in calls
        if c.plan is not None and c.attempt_id in by_id and by_id[c.attempt_id]["planned"]
    ]
    await apply_numbers(conn, campaign.alt_phone_policy, hygiene, now=calls[-1].ended_at)
    events: list[OutboxEvent] = []
    for record in calls:  # in the order the calls ended
        row = by_id.get(record.attempt_id)
        if row is None:
            continue
        now = record.ended_at
        data = completed_event(row)
        if row["recovered_at"] is not None and not recovering:
            data["corrects_unknown"] = True  # written back over a recovery's 'unknown'
        if record.recording is not None:
            data.update(await _recording(conn, record.attempt_id, record.recording))
        if record.recording_notice is not None:
            await conn.execute(_Q["attempt_notice"], record.attempt_id, record.recording_notice)
            data["recording_notice"] = record.recording_notice
        events.append(_event(campaign, "attempt.completed", row["lead_id"], now, data))
        if record.plan is not None and row["planned"]:
            events += plan_events(campaign, row["lead_id"], record.plan, now=now)
    await enqueue_many(conn, events)
    return {attempt_id: dict(row) for attempt_id, row in by_id.items()}


async def _recording(
    conn: asyncpg.Connection, attempt_id: int, info: RecordingInfo
) -> dict[str, Any]:
    await conn.execute(
        _Q["attempt_recording"], attempt_id, info.key, info.url, info.duration_s, info.sha256
    )
    return {
        "recording_url": info.url,
        "recording_s": info.duration_s,
        "recording_sha256": info.sha256,
    }


async def _close_unplaced(
    conn: asyncpg.Connection, campaign: CampaignConfig, record: CallRecord
) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        _Q["close_unplaced"],
        record.attempt_id,
        record.ended_at,
        record.hangup_cause,
        record.due_at,
        record.restore_status,
    )
    if row is None:
        return None
    await enqueue(
        conn,
        "attempt.completed",
        client_id=campaign.client_id,
        campaign_id=campaign.id,
        lead_id=row["lead_id"],
        now=record.ended_at,
        data={**completed_event(row), "hangup_cause": row["hangup_cause"], "counted": False},
    )
    return dict(row)


async def recover(
    conn: asyncpg.Connection,
    campaign: CampaignConfig,
    *,
    now: datetime,
    instance_id: str = "",
    grace: timedelta = timedelta(0),
) -> dict[str, int]:
    """Close what a dead (or stopped) runner left open; see the module docstring.

    Every open attempt becomes ``unknown`` and its lead is retried as such, from now (so
    never at once), a connected one too: its disposition is lost with the process.
    Claims are released (not a lead's hold for the disposition of a call that ended) and
    agents held by calls that no longer exist are freed.
    Attempts of another process that is alive (``close_orphans``: its engine lease was live
    within ``grace``) are left to it: its runner outlived a database outage and still
    holds their outcomes. ``held`` counts them.
    """
    closed, held = await close_orphans(
        conn, campaign, now=now, instance_id=instance_id, grace=grace
    )
    released = await conn.execute(_Q["release_campaign_claims"], campaign.id, now)
    freed = 0
    for agent in await conn.fetch(_Q["stuck_agents"], campaign.id):
        await agents.act(conn, agent["id"], "release", scope=None, now=now)
        freed += 1
    return {"closed": closed, "released": int(released.split()[-1]), "agents": freed, "held": held}


async def close_orphans(
    conn: asyncpg.Connection,
    campaign: CampaignConfig,
    *,
    now: datetime,
    instance_id: str = "",
    grace: timedelta = timedelta(0),
    runner_id: str | None = None,
) -> tuple[int, int]:
    """Close as ``unknown`` the open attempts (not ``runner_id``'s own) whose process is
    gone; (closed, held by a live process)."""
    calls = []
    held = 0
    rows = await conn.fetch(_Q["open_attempts"], campaign.id, now - grace, instance_id, runner_id)
    for row in rows:
        if row["held"]:
            held += 1
            continue
        if row["direction"] == "inbound":  # a callback: the lead has no plan to change
            calls.append(CallRecord(row["id"], "unknown", now, hangup_cause="dialer restarted"))
            continue
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
    if not calls:
        return 0, held
    written = {
        c.attempt_id
        for c, r in zip(
            calls, await close_calls(conn, campaign, calls, recovering=True), strict=True
        )
        if r
    }
    for agent in await conn.fetch(_Q["stuck_agents"], campaign.id):
        if agent["attempt_id"] in written:  # on the call that just closed
            await agents.act(conn, agent["id"], "release", scope=None, now=now)
    return len(written), held
