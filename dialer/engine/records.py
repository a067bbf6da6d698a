"""Dial records: the attempt rows written before the calls, deferrals, and connects.

* ``start_attempts``: a batch of attempt rows and their ``attempt.started`` events in one
  statement, written *before* the calls are placed, fenced by the campaign lease and each
  lead's claim. A lead stays claimed until its outcome is applied and is pushed out to the
  ``unknown`` retry time in the same statement, so a crash mid-call never leaves it
  dialable and never loses the record. One round trip for the whole batch: this is the
  only database work between a pacing decision's gate check and its originates. It also
  checks, under a row lock, that the agents the decision counted as free have not paused
  since (``AgentsGone``; docs/engine.md "Held pause").
* ``defer_blocked``: leads the calling rules block, rescheduled with ``compliance.blocked``.
* ``connect``: an answered call given to an agent; ``connect_seated``: the same, written
  later for a call seated from the runner's own picture while the database was away.

How attempts are closed (and recovered after a crash) is in ``closing``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from dialer.compliance import Decision
from dialer.engine.model import CampaignConfig, Lead
from dialer.outbox import enqueue, payload_json
from dialer.sql import queries

_Q = queries("dialer.engine")


@dataclass(frozen=True, slots=True)
class Dial:
    """One call about to be placed: the lead, the decision that allows it, its call id."""

    lead: Lead
    decision: Decision
    call_id: str
    mode: str
    agent_id: int | None = None  # an agent held for this call (preview, owned callback)
    caller_id: str | None = None  # the number presented (picked from the campaign's pool)


class NotWritten(Exception):
    """Nothing (more) was written. ``written``: the first dials of the batch, written
    before it was found (only when a batch had to be written one dial at a time)."""

    def __init__(self, message: str, rows: list[dict[str, Any]], written: list[Started | None]):
        super().__init__(message)
        self.rows = rows
        self.written = written


class LeaseLapsed(NotWritten):
    """The campaign's lease was not this runner's when the batch was written: it expired
    before a renewal (a stalled process, a long outage), or another process took it."""

    def __init__(self, written: list[Started | None]) -> None:
        super().__init__("the campaign's lease lapsed: dials not written", [], written)


class AgentsGone(NotWritten):
    """Agents the pacing decision counted as free are not any more (a pause or logout, held
    or not, or a deletion the runner has not heard of yet). ``rows``: those agents as they
    are now (``id``, ``state``, ``pending_action``, ...)."""

    def __init__(self, rows: list[dict[str, Any]], written: list[Started | None]) -> None:
        super().__init__(f"agents no longer free: {[r['id'] for r in rows]}", rows, written)


@dataclass(frozen=True, slots=True)
class Started:
    attempt_id: int
    attempts_count: int
    lead_status: str
    started_at: datetime


async def start_attempts(
    conn: asyncpg.Connection,
    campaign: CampaignConfig,
    dials: Sequence[Dial],
    *,
    lease: str,
    owner: str,
    runner: str,
    now: datetime,
    counted: Sequence[int] = (),
) -> list[Started | None]:
    """Record a batch of dials in one statement; None for each dial that must not be
    placed (the lease or the lead's claim was lost, or the lead is on a call already).

    ``counted``: the agents the decision to place these calls counted as free. If one of
    them is not free any more (a pause, held or not; a logout), nothing is written and
    ``AgentsGone`` says who; their rows are locked meanwhile, so a pause asked for while
    this statement runs waits for it and then counts these calls (``agents.holds``)."""
    if not dials:
        return []
    try:
        rows = await conn.fetch(
            _Q["start_attempts"],
            lease,
            owner,
            now,
            [d.lead.id for d in dials],
            runner,
            [_compliance(d) for d in dials],
            [d.call_id for d in dials],
            [d.mode for d in dials],
            [d.agent_id for d in dials],
            now + campaign.unknown_delay(),
            [payload_json(_started_event(campaign, d, now)) for d in dials],
            campaign.client_id,
            [d.caller_id or campaign.caller_id for d in dials],
            list(counted),
        )
    except asyncpg.UniqueViolationError:
        if len(dials) == 1:
            return [None]
        out: list[Started | None] = []
        for dial in dials:  # one lead already has an open attempt: find it, place the others
            try:
                out += await start_attempts(
                    conn,
                    campaign,
                    [dial],
                    lease=lease,
                    owner=owner,
                    runner=runner,
                    now=now,
                    counted=counted,
                )
            except AgentsGone as exc:
                raise AgentsGone(exc.rows, out) from None
            except LeaseLapsed:
                raise LeaseLapsed(out) from None
        return out
    if any(r["lapsed"] for r in rows):
        raise LeaseLapsed([])
    gone = [r["gone"] for r in rows if r["gone"] is not None]
    if gone:
        raise AgentsGone(gone, [])
    by_lead = {r["lead_id"]: Started(r["id"], r["attempts_count"], r["status"], now) for r in rows}
    return [by_lead.get(d.lead.id) for d in dials]


def _compliance(dial: Dial) -> str:
    """The decision stored with the attempt, with the one input ``decide`` had that the
    decision itself does not show: whether a live agent was guaranteed (preview, owned
    callback), which lifts Ofcom's pause after an abandoned call."""
    return json.dumps({**dial.decision.to_dict(), "agent_guaranteed": dial.agent_id is not None})


def _started_event(campaign: CampaignConfig, dial: Dial, now: datetime) -> dict[str, Any]:
    """``attempt.started`` without the attempt's id and count (the statement adds them)."""
    return {
        "lead_id": dial.lead.id,
        "campaign_id": campaign.id,
        "phone": dial.lead.phone_e164,
        "started_at": now,
        "mode": dial.mode,
        "agent_guaranteed": dial.agent_id is not None,
        "rules": list(dial.decision.rules_applied),
    }


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


async def connect_seated(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    agent_id: int,
    attempt_id: int,
    campaign_id: int,
    connected_at: datetime,
    answered_at: datetime,
    ring_s: float | None,
    wait_s: float,
    runner: str,
) -> bool | None:
    """Write a connect the runner made without the database (idempotent, fenced: see the
    query). True: the agent is on the call in the table too; False: the attempt recorded
    it but the agent was taken meanwhile; None: the attempt is no longer this runner's."""
    row = await conn.fetchrow(
        _Q["connect_seated"],
        agent_id,
        attempt_id,
        connected_at,
        campaign_id,
        answered_at,
        ring_s,
        wait_s,
        runner,
    )
    return None if row is None else bool(row["seated"])
