"""Dispositions and callbacks: what an agent (or the CRM) decides about a lead.

``record_disposition`` is what an agent desktop's ``POST /api/v1/calls/{id}/disposition``
and the simulated agents call after a conversation. The code must be one of the
campaign's dispositions (``campaigns.codes``; 400 listing them otherwise). In one
transaction it stores the disposition on the attempt, applies the retry plan that the
disposition's action gives to the lead (``engine.retry``), adds
the number to the client's DNC list when the callee asked, writes ``lead.disposition``
(and ``lead.callback_scheduled`` / ``lead.completed`` / ``lead.dnc``), and ends the agent's
wrap-up.

``schedule_callback`` (``POST /api/v1/leads/{id}/callback``) and a disposition's
``callback_at`` share one rule for *when*: an ISO 8601 instant with an offset, or a local
wall-clock time (no offset) read in the lead's own time zone.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import asyncpg

from dialer.agents import store as agents
from dialer.auth.roles import Principal
from dialer.campaigns.codes import dispositions, find_disposition
from dialer.engine.closing import apply_plan, plan_events
from dialer.engine.model import CampaignConfig
from dialer.engine.retry import LeadPlan, after_disposition, local_to_utc
from dialer.errors import Conflict, NotFound, ValidationError
from dialer.outbox import OutboxEvent, enqueue, enqueue_many
from dialer.sql import queries

_Q = queries("dialer.engine")
DISPOSITION_FIELDS = {"disposition", "callback_at", "callback_owner", "dnc", "notes"}
CALLBACK_FIELDS = {"at", "local_time", "agent_id"}


def _unknown(body: dict[str, Any], allowed: set[str]) -> None:
    for key in body:
        if key not in allowed:
            raise ValidationError(f"unknown field {key!r}", field=key)


def parse_when(value: Any, zones: tuple[str, ...], *, field: str, now: datetime) -> datetime:
    """An instant from ISO 8601 with an offset, or from a local time in the lead's zone."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field} must be an ISO 8601 date-time", field=field)
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise ValidationError(
            f"{field} must be an ISO 8601 date-time, e.g. 2026-12-01T10:00 or "
            "2026-12-01T10:00:00+01:00",
            field=field,
        ) from None
    if parsed.tzinfo is None:
        try:
            parsed = local_to_utc(parsed, zones)
        except ValueError:
            raise ValidationError(
                f"{field}: the lead has no known time zone; give an offset", field=field
            ) from None
    if parsed <= now:
        raise ValidationError(f"{field} must be in the future", field=field)
    return parsed.astimezone(UTC)


def _text(body: dict[str, Any], key: str, limit: int, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValidationError(
            f"{key} must be a non-empty string of at most {limit} characters", field=key
        )
    return value.strip()


@dataclass(frozen=True)
class DispositionInput:
    """A disposition request, checked: what the agent decided about the call."""

    disposition: str
    notes: str | None
    dnc: bool  # the callee asked not to be called again
    callback_owner: str  # agent (the same agent calls back) or anyone
    callback_at: Any  # raw: read in the lead's time zone once the lead is known


def parse_disposition(body: dict[str, Any]) -> DispositionInput:
    """Check a disposition body (pure); raises ``ValidationError`` naming the field."""
    _unknown(body, DISPOSITION_FIELDS)
    disposition = _text(body, "disposition", 100, required=True)
    assert disposition is not None
    dnc = body.get("dnc", False)
    if not isinstance(dnc, bool):
        raise ValidationError("dnc must be true or false", field="dnc")
    owner = body.get("callback_owner", "agent")
    if owner not in ("agent", "anyone"):
        raise ValidationError("callback_owner must be agent or anyone", field="callback_owner")
    return DispositionInput(
        disposition, _text(body, "notes", 4000), dnc, owner, body.get("callback_at")
    )


def _check_dispositionable(att: asyncpg.Record | None, attempt_id: int, who: Principal) -> None:
    """The caller may disposition this call now: theirs (or visible), connected, ended, once."""
    if att is None or not who.sees_client(att["client_id"]):
        raise NotFound(f"call {attempt_id} does not exist")
    if who.agent_id is not None and att["agent_id"] != who.agent_id:
        raise NotFound(f"call {attempt_id} does not exist")
    if att["connected_at"] is None:
        raise Conflict("only calls connected to an agent take a disposition", field="call")
    if att["ended_at"] is None:
        raise Conflict("the call is still in progress: hang up first", field="call")
    if att["disposition"] is not None:
        raise Conflict(f"call {attempt_id} already has a disposition", field="disposition")


async def record_disposition(
    conn: asyncpg.Connection,
    attempt_id: int,
    body: dict[str, Any],
    *,
    who: Principal,
    now: datetime,
) -> dict[str, Any]:
    """Disposition a connected call (see the module docstring); returns the attempt."""
    entry = parse_disposition(body)
    async with conn.transaction():
        att = await conn.fetchrow(_Q["attempt_for_disposition"], attempt_id)
        _check_dispositionable(att, attempt_id, who)
        assert att is not None
        callback_at = None
        if entry.callback_at is not None:
            zones = tuple(att["lead_time_zones"] or ())
            callback_at = parse_when(entry.callback_at, zones, field="callback_at", now=now)
        campaign = CampaignConfig.from_row(att["campaign"])
        chosen = find_disposition(await dispositions(conn, campaign.id), entry.disposition)
        if chosen.action == "dnc":
            entry = replace(entry, dnc=True)
        plan = after_disposition(
            entry.disposition,
            dnc=entry.dnc,
            callback_at=callback_at,
            callback_agent_id=att["agent_id"] if entry.callback_owner == "agent" else None,
            attempts_count=att["lead_attempts"],
            max_attempts=chosen.max_attempts or campaign.max_attempts,
            policy=campaign.retry_policy,
            now=now,
            action=chosen.action,
            retry_after_s=chosen.retry_after_s,
        )
        row = await conn.fetchrow(
            _Q["set_disposition"], attempt_id, entry.disposition, entry.notes, now
        )
        await _settle_lead(conn, att, campaign, plan, entry, callback_at, now=now)
        if att["agent_id"] is not None:
            with contextlib.suppress(Conflict):  # the agent is no longer wrapping it up
                await agents.act(
                    conn, att["agent_id"], "finish", scope=None, now=now, expect_attempt=attempt_id
                )
    return dict(row)


async def _settle_lead(
    conn: asyncpg.Connection,
    att: asyncpg.Record,
    campaign: CampaignConfig,
    plan: LeadPlan,
    entry: DispositionInput,
    callback_at: datetime | None,
    *,
    now: datetime,
) -> None:
    """The lead after a disposition: DNC when asked, the retry plan (unless the lead was
    changed meanwhile), and its events in the outbox (the plan's, then lead.disposition)."""
    lead_id = att["lead_id"]
    extra = {"attempt_id": att["id"], "disposition": entry.disposition}
    if entry.dnc:
        await conn.execute(
            _Q["add_dnc"], att["phone_e164"], campaign.client_id, "asked during a call", now
        )
    applied = att["untouched"] or entry.dnc
    events = []
    if applied:
        await apply_plan(
            conn,
            campaign,
            lead_id,
            plan,
            outcome="completed",
            disposition=entry.disposition,
            now=now,
            events=False,
        )
        events = plan_events(campaign, lead_id, plan, now=now, extra=extra)
    else:
        await conn.execute(_Q["note_outcome"], lead_id, "completed", entry.disposition)
    data = {
        **extra,
        "lead_id": lead_id,
        "campaign_id": campaign.id,
        "agent_id": att["agent_id"],
        "notes": entry.notes,
        "dnc": entry.dnc,
        "callback_at": callback_at,
        "lead_status": plan.status if applied else att["lead_status"],
    }
    events.append(
        OutboxEvent("lead.disposition", campaign.client_id, data, now, campaign.id, lead_id)
    )
    await enqueue_many(conn, events)


async def schedule_callback(
    conn: asyncpg.Connection,
    lead_id: int,
    body: dict[str, Any],
    *,
    who: Principal,
    now: datetime,
) -> dict[str, Any]:
    """Make a lead a callback at a given instant or local time, for anyone or one agent."""
    _unknown(body, CALLBACK_FIELDS)
    if ("at" in body) == ("local_time" in body):
        raise ValidationError("give exactly one of at or local_time", field="at")
    agent_id = body.get("agent_id")
    if agent_id is not None and (isinstance(agent_id, bool) or not isinstance(agent_id, int)):
        raise ValidationError("agent_id must be an agent id", field="agent_id")
    async with conn.transaction():
        lead = await conn.fetchrow(_Q["lead_for_callback"], lead_id, who.client_id)
        if lead is None:
            raise NotFound(f"lead {lead_id} does not exist")
        if lead["status"] == "dnc":
            raise Conflict("the lead is on the do-not-call list", field="status")
        if "at" in body:
            raw = body["at"]
            if isinstance(raw, str) and datetime_has_no_offset(raw):
                raise ValidationError(
                    "at needs a UTC offset (or use local_time for the lead's own time)",
                    field="at",
                )
            at = parse_when(raw, (), field="at", now=now)
        else:
            at = parse_when(
                body["local_time"], tuple(lead["time_zones"]), field="local_time", now=now
            )
        if agent_id is not None and not await conn.fetchval(
            _Q["agent_works_campaign"], agent_id, lead["campaign_id"]
        ):
            raise ValidationError(
                f"agent {agent_id} does not work this lead's campaign", field="agent_id"
            )
        await conn.execute(_Q["set_callback"], lead_id, at, agent_id, now)
        await enqueue(
            conn,
            "lead.callback_scheduled",
            client_id=lead["client_id"],
            campaign_id=lead["campaign_id"],
            lead_id=lead_id,
            now=now,
            data={
                "lead_id": lead_id,
                "campaign_id": lead["campaign_id"],
                "at": at,
                "agent_id": agent_id,
                "by": who.actor,
            },
        )
    return {"lead_id": lead_id, "status": "callback", "callback_at": at, "agent_id": agent_id}


def datetime_has_no_offset(text: str) -> bool:
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    return parsed.tzinfo is None
