"""Manual dial: an agent types a number and the call reaches that agent, and only that agent.

``request_dial`` is what the API, console and CLI call, in whichever process took the
request. It normalises the number as a list import does, finds the campaign's lead with
that number or creates one (in the campaign's switched-off "Manual dials" list, so the
engine never dials it on its own), asks the same rules gate the engine uses (with a live
agent guaranteed: the agent is waiting, so the call can never be abandoned), then, in one
transaction, holds the agent, writes the attempt and announces it on the agent bus. The
runner of the campaign, in whatever process holds the campaign's lease, takes the attempt
(``take``) and places it through ``Dialing.dial_reserved`` with the agent reserved: on a
human answer it is bridged to that agent; unanswered, the agent is freed.

The agent must be signed in, assigned to the campaign, and available or paused. A paused
agent dials from the pause and returns to the same pause after the call's wrap-up (the
way desks dial by hand between queued calls). An agent on a call or wrapping up gets 409.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from dialer import audit, leases, metrics
from dialer.agents import store as agents
from dialer.auth.roles import Principal
from dialer.campaigns import store as campaigns
from dialer.compliance import Decision
from dialer.engine import closing, gate, records
from dialer.engine.dialing import Recorded, Trigger
from dialer.engine.model import CampaignConfig, Lead
from dialer.errors import Conflict, ValidationError
from dialer.inputs import check_text
from dialer.leads import phones, push
from dialer.leads import store as lead_store
from dialer.outbox import enqueue
from dialer.sql import queries

if TYPE_CHECKING:
    from dialer.engine.runner import CampaignRunner

log = logging.getLogger(__name__)
_Q = queries("dialer.engine")
EVENT = "manual_dial"  # the agent-bus event the campaign's runner listens for
RUNNER = "manual"  # attempts.runner until the campaign's runner takes the dial


class Refused(Conflict):
    """The calling rules or the DNC list refuse the dial (HTTP 409 with the decision)."""

    def __init__(self, message: str, decision: Decision | None, *, field: str = "phone") -> None:
        super().__init__(message, field=field)
        self.decision = decision

    def to_dict(self) -> dict[str, Any]:
        d = self.decision
        return {
            "error": self.message,
            "field": self.field,
            "reasons": [str(r) for r in d.reasons] if d else ["on the do-not-call list"],
            "rule_ids": list(d.rule_ids) if d else ["dnc"],
            "next_allowed_at": d.next_allowed_at if d else None,
        }


@dataclass(frozen=True, slots=True)
class Request:
    agent_id: int
    campaign_id: int
    phone: str
    lead_id: int | None = None


def parse(agent_id: int, body: dict[str, Any]) -> Request:
    """The body ``{"phone", "campaign_id", "lead_id"?}``; ``ValidationError`` naming the field."""
    unknown = sorted(set(body) - {"phone", "campaign_id", "lead_id"})
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", field=unknown[0])
    phone = body.get("phone")
    if not isinstance(phone, str) or not phone.strip():
        raise ValidationError("phone is required: the number to dial", field="phone")
    check_text(phone, "phone")
    if len(phone) > 100:
        raise ValidationError("phone is too long (at most 100 characters)", field="phone")
    ids: dict[str, int | None] = {}
    for key in ("campaign_id", "lead_id"):
        value = body.get(key)
        if value is None and key == "lead_id":
            ids[key] = None
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
            raise ValidationError(f"{key} must be a positive integer", field=key)
        ids[key] = value
    return Request(agent_id, int(ids["campaign_id"] or 0), phone.strip(), ids["lead_id"])


async def request_dial(
    conn: asyncpg.Connection, req: Request, *, who: Principal, now: datetime
) -> dict[str, Any]:
    """Accept a manual dial (see the module docstring): ``{"attempt_id", "lead_id", ...}``;
    ``NotFound`` for another client's agent, campaign or lead, ``Refused`` when the rules or
    the DNC list say no, ``Conflict`` when the agent cannot take a call now."""
    scope = who.client_id
    agent = await agents.get(conn, req.agent_id, scope)
    row = await campaigns.get(conn, req.campaign_id, scope)
    campaign = CampaignConfig.from_row(row)
    cid = str(campaign.id)
    if await agents.agent_in_campaign(conn, req.agent_id, campaign.id) is None:
        raise ValidationError(
            f"agent {req.agent_id} does not work campaign {campaign.id}", field="campaign_id"
        )
    _check_agent(agent)
    if campaign.state != "running":
        raise _not_dialed(campaign)
    async with conn.transaction():
        lead = await _lead(conn, row, req, now=now)
        if lead.status == "dnc":
            metrics.MANUAL_DIALS.labels(cid, "dnc").inc()
            raise Refused(f"{lead.phone_e164} is on the do-not-call list", None)
        [(_, decision)] = await gate.check(
            conn, campaign, [lead], now=now, agent_guaranteed=True, upto=now
        )
        if not decision.allowed:
            result = "dnc" if any(r.startswith("dnc") for r in decision.rule_ids) else "blocked"
            metrics.MANUAL_DIALS.labels(cid, result).inc()
            raise Refused(f"the calling rules do not allow {lead.phone_e164} now", decision)
        await _check_runner(conn, campaign, now)
        attempt_id = await _start(conn, campaign, lead, decision, req.agent_id, now=now)
        await audit.record(
            conn,
            who,
            "agent.manual_dial",
            "agent",
            req.agent_id,
            {"campaign_id": campaign.id, "lead_id": lead.id, "attempt_id": attempt_id},
            now=now,
        )
        message = {
            "event": EVENT,
            "agent": req.agent_id,
            "client": campaign.client_id,
            "campaign": campaign.id,
            "attempt": attempt_id,
            "lead": lead.id,
        }
        await conn.execute(_Q["manual_announce"], json.dumps(message))
    metrics.MANUAL_DIALS.labels(cid, "accepted").inc()
    return {
        "attempt_id": attempt_id,
        "lead_id": lead.id,
        "agent_id": req.agent_id,
        "campaign_id": campaign.id,
        "phone": lead.phone_e164,
    }


def _not_dialed(campaign: CampaignConfig) -> Conflict:
    return Conflict(
        f"campaign {campaign.id} is not being dialed now (state {campaign.state}): start it first",
        field="campaign_id",
    )


async def _check_runner(conn: asyncpg.Connection, campaign: CampaignConfig, now: datetime) -> None:
    """A runner holds the campaign's lease and is not stopping. The lease row stays locked
    until this transaction ends: a runner that begins to stop waits for it, then its last
    sweep (``cancel_pending``) sees this dial; one that stopped first refuses it here."""
    lease = await conn.fetchrow(_Q["campaign_runner"], f"campaign:{campaign.id}", now)
    if lease is None:
        raise _not_dialed(campaign)
    if lease["stopping"]:
        metrics.MANUAL_DIALS.labels(str(campaign.id), "stopping").inc()
        raise Conflict(
            f"campaign {campaign.id} is stopping its dialing: try again once it runs",
            field="campaign_id",
        )


def _check_agent(agent: dict[str, Any]) -> None:
    state = agent["state"]
    if state == "offline":
        raise Conflict("the agent is not signed in: log in first", field="state")
    if state not in ("available", "paused"):
        raise Conflict(
            f"the agent is busy ({state}): dial when the current call is dispositioned",
            field="state",
        )


async def _lead(
    conn: asyncpg.Connection, campaign: dict[str, Any], req: Request, *, now: datetime
) -> Lead:
    """The campaign's lead for the number, created when there is none (same normalisation
    and DNC rule as a list import or a CRM push)."""
    number = phones.normalise_number(req.phone, campaign.get("default_region"))
    if isinstance(number, phones.Rejection):
        raise ValidationError(f"phone: {number.detail}", field="phone")
    if req.lead_id is not None:
        row = await lead_store.get(conn, req.lead_id, campaign["client_id"])
        if row["campaign_id"] != campaign["id"]:
            raise ValidationError(
                f"lead {req.lead_id} is not in campaign {campaign['id']}", field="lead_id"
            )
        if row["phone_e164"] != number.e164:
            raise ValidationError(
                f"lead {req.lead_id} has number {row['phone_e164']}, not {number.e164}",
                field="phone",
            )
        return Lead.from_row(row, 0.0)
    found = await conn.fetchrow(_Q["manual_find_lead"], campaign["id"], number.e164)
    if found is None:
        await conn.execute(_Q["manual_lock_campaign"], campaign["id"])
        outcome = await push.push(conn, campaign, [{"phone": number.e164}], now=now)
        [item] = outcome["items"]
        if "lead_id" not in item:
            raise ValidationError(f"phone: {item.get('detail', 'not a number')}", field="phone")
        list_id = await conn.fetchval(_Q["manual_list"], campaign["id"], now)
        found = await conn.fetchrow(
            _Q["manual_set_list"], item["lead_id"], list_id
        ) or await conn.fetchrow(_Q["manual_find_lead"], campaign["id"], number.e164)
    return Lead.from_row(found, 0.0)


async def _start(
    conn: asyncpg.Connection,
    campaign: CampaignConfig,
    lead: Lead,
    decision: Decision,
    agent_id: int,
    *,
    now: datetime,
) -> int:
    """Hold the agent and write the attempt (with its ``attempt.started`` event)."""
    if await conn.fetchval(_Q["manual_reserve_agent"], agent_id, now, campaign.id) is None:
        state = (await agents.get(conn, agent_id, None))["state"]
        metrics.MANUAL_DIALS.labels(str(campaign.id), "busy").inc()
        raise Conflict(f"the agent cannot take a call now ({state})", field="state")
    compliance = json.dumps({**decision.to_dict(), "agent_guaranteed": True})
    try:
        row = await conn.fetchrow(
            _Q["manual_start_attempt"],
            lead.id,
            agent_id,
            now,
            now + campaign.unknown_delay(),
            compliance,
            uuid.uuid4().hex,
            campaign.caller_id,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"lead {lead.id} is on a call right now", field="phone") from None
    if row is None:
        raise Conflict(f"lead {lead.id} may not be dialed ({lead.status})", field="phone")
    if not row["linked"]:  # cannot happen: the agent was held just above
        raise Conflict("the agent cannot take a call now", field="state")
    await enqueue(
        conn,
        "attempt.started",
        client_id=campaign.client_id,
        campaign_id=campaign.id,
        lead_id=lead.id,
        now=now,
        data={
            "attempt_id": row["id"],
            "attempt": row["attempts_count"],
            "lead_id": lead.id,
            "campaign_id": campaign.id,
            "phone": lead.phone_e164,
            "started_at": now,
            "mode": "manual",
            "agent_guaranteed": True,
            "agent_id": agent_id,
            "rules": list(decision.rules_applied),
        },
    )
    return int(row["id"])


# -- the campaign's runner places it ----------------------------------------------------------
async def place(runner: CampaignRunner, attempt_id: Any) -> None:
    """Place a manual dial announced on the bus, once, if this runner holds the campaign's
    lease; the agent stays reserved for it (``Dialing.dial_reserved``)."""
    if not isinstance(attempt_id, int) or runner.stopping:
        return
    campaign, now = runner.config, runner.clock.now()
    row = await _take(runner, attempt_id, now)
    if row is None:  # placed already, closed, or the lease moved on
        return
    lead = Lead.from_row(row, 0.0)
    caller_id = runner.dialing.caller_ids.choose(campaign, lead, now) or row["caller_id"]
    if caller_id != row["caller_id"]:
        await runner.pool.execute(_Q["manual_caller_id"], attempt_id, caller_id)
    decision = Decision(
        allowed=True,
        at_utc=row["started_at"],
        purpose=campaign.purpose,
        reasons=(),
        local_times={},
        time_zones=lead.time_zones,
        next_allowed_at=None,
        rules_applied=(),
    )
    recorded = Recorded(
        records.Started(attempt_id, row["attempts_count"], row["status"], row["started_at"]),
        row["gateway_call_id"],
        caller_id or campaign.caller_id or "",
        decision,
    )
    log.info(
        "placing a manual dial",
        extra={"campaign_id": campaign.id, "attempt_id": attempt_id, "agent_id": row["agent_id"]},
    )
    placed = await runner.dialing.dial_reserved(
        row["agent_id"], lead, Trigger(runner.clock.monotonic()), recorded=recorded
    )
    if not placed and not runner.lost:  # it began to stop while taking it: none will place it
        await _close_unplaced(runner, attempt_id, row, runner.clock.now())


async def place_pending(runner: CampaignRunner) -> None:
    """Place the manual dials of the campaign that no runner took yet (their announcement
    may have been missed while the bus reconnected)."""
    for attempt_id in await runner.pool.fetch(_Q["manual_pending"], runner.campaign_id):
        await place(runner, attempt_id["id"])


async def _take(runner: CampaignRunner, attempt_id: int, now: datetime) -> asyncpg.Record | None:
    return await runner.pool.fetchrow(
        _Q["manual_take"],
        attempt_id,
        runner.campaign_id,
        runner.runner_id,
        None,
        runner.lease,
        runner.instance_id,
        now,
    )


async def refuse_new(runner: CampaignRunner) -> None:
    """A runner begins to stop: mark its lease so requests refuse new manual dials (409);
    waits for those being accepted now, which ``cancel_pending`` then closes. Without the
    database the mark is skipped (the next holder's recovery closes what slips through)."""
    if runner.lost:
        return
    try:
        await leases.mark_stopping(runner.pool, runner.lease, runner.instance_id)
    except Exception:
        log.warning("lease not marked stopping", extra={"campaign_id": runner.campaign_id})


async def cancel_pending(runner: CampaignRunner) -> None:
    """A stopping runner, still holding its lease: close the manual dials it will not place
    (accepted as it stopped) as not placed and free their agents, so no agent waits for a
    call until the campaign runs again. Such a dial is not counted and counts for no calling
    rule, like a dial the switch refused. (One accepted after this is closed by the next
    holder's recovery.)"""
    try:
        await _cancel_pending(runner)
    except Exception:  # the lease must still be released
        log.exception("manual dials not closed", extra={"campaign_id": runner.campaign_id})


async def _cancel_pending(runner: CampaignRunner) -> None:
    if runner.lost:
        return
    for pending in await runner.pool.fetch(_Q["manual_pending"], runner.campaign_id):
        now = runner.clock.now()
        row = await _take(runner, pending["id"], now)
        if row is not None:
            await _close_unplaced(runner, pending["id"], row, now)


async def _close_unplaced(
    runner: CampaignRunner, attempt_id: int, row: asyncpg.Record, now: datetime
) -> None:
    """Close a manual dial this stopping runner took but will not place, and free its
    agent: not counted, and it counts for no calling rule (like a dial the switch refused)."""
    why = "the campaign's runner stopped before placing this manual dial"
    record = closing.unplaced(attempt_id, row["status"], why, now=now, due_at=now)
    async with runner.pool.acquire() as conn:
        await closing.close_calls(conn, runner.config, [record])
    await runner.dialing.seats.release(row["agent_id"], attempt_id)
