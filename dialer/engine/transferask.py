"""Asking for a transfer or a conference: what the API, console and CLI call.

Like a manual dial (``engine.manual``), the request is checked and written by whichever
process took it, and carried out by the runner holding the call (the lease holder of the
call's campaign), told over the agent bus (event ``transfer``, see ``engine.transfer``).

Checked here, before anything is dialed: the call is live (connected, not ended) and has no
leg in progress; the caller is the agent on it or a manager; the target agent is signed in
and available (held at once for the call, else 409); a target campaign is running; a
target number is normalised like an import and passes the calling rules for its place and
the DNC lists through the same gate the engine dials through (409 with reasons/rule_ids
otherwise). The leg is an attempt of its own (``parent_attempt_id``), audited.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from dialer import audit, metrics
from dialer.agents import store as agents
from dialer.auth.roles import Principal
from dialer.campaigns import store as campaigns
from dialer.compliance.place import resolve_place
from dialer.engine import gate
from dialer.engine.manual import Refused
from dialer.engine.model import CampaignConfig, Lead
from dialer.errors import Conflict, Forbidden, NotFound, ValidationError
from dialer.inputs import check_text
from dialer.leads import phones
from dialer.sql import queries

_Q = queries("dialer.engine", "transfers.sql")
EVENT = "transfer"  # the agent-bus event the call's runner listens for
MODES = ("blind", "warm")
TARGETS = ("agent_id", "campaign_id", "phone")
OPS = ("complete", "cancel", "leave")


@dataclass(frozen=True, slots=True)
class Target:
    agent_id: int | None = None
    campaign_id: int | None = None
    phone: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in (
                ("agent_id", self.agent_id),
                ("campaign_id", self.campaign_id),
                ("phone", self.phone),
            )
            if v is not None
        }


def notes(body: dict[str, Any]) -> str | None:
    """What the transferring agent writes for the target (shown in the target's pop)."""
    value = body.get("notes")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 2000:
        raise ValidationError("notes must be text of at most 2000 characters", field="notes")
    check_text(value, "notes")
    return value


def parse(body: dict[str, Any], *, conference: bool) -> tuple[Target, str]:
    """``{"to": {...}, "mode"?, "notes"?}`` → the target and the leg (blind, warm or
    conference)."""
    allowed = {"to", "notes"} if conference else {"to", "mode", "notes"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", field=unknown[0])
    leg = "conference"
    if not conference:
        leg = body.get("mode", "blind")
        if leg not in MODES:
            raise ValidationError("mode must be blind or warm", field="mode")
    to = body.get("to")
    if not isinstance(to, dict) or len(to) != 1 or next(iter(to)) not in TARGETS:
        raise ValidationError(
            'to must name one target: {"agent_id": n}, {"campaign_id": n} or {"phone": "..."}',
            field="to",
        )
    [(key, value)] = to.items()
    if key == "phone":
        if not isinstance(value, str) or not value.strip() or len(value) > 100:
            raise ValidationError("to.phone must be a phone number", field="to.phone")
        check_text(value, "to.phone")
        return Target(phone=value.strip()), leg
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
        raise ValidationError(f"to.{key} must be a positive integer", field=f"to.{key}")
    return (Target(agent_id=value) if key == "agent_id" else Target(campaign_id=value)), leg


async def _call(conn: asyncpg.Connection, call_id: int, who: Principal) -> asyncpg.Record:
    row = await conn.fetchrow(_Q["call_for_transfer"], call_id)
    if row is None or not who.sees_client(row["client_id"]):
        raise NotFound(f"call {call_id} does not exist")
    if who.agent_id is not None and row["agent_id"] != who.agent_id:
        raise Forbidden("only the agent on the call or a manager may transfer it")
    if row["connected_at"] is None or row["ended_at"] is not None:
        raise Conflict(f"call {call_id} is not live (not connected, or ended)", field="call")
    return row


async def request(
    conn: asyncpg.Connection,
    call_id: int,
    body: dict[str, Any],
    *,
    who: Principal,
    now: datetime,
    conference: bool = False,
) -> dict[str, Any]:
    """Accept a transfer (or conference) of live call ``call_id`` (see the module docstring):
    ``{"call_id", "leg_id", "leg", "to", "state"}``."""
    target, leg = parse(body, conference=conference)
    note = notes(body)
    async with conn.transaction():
        call = await _call(conn, call_id, who)
        if call["open_leg"] is not None:
            raise Conflict(f"call {call_id} already has a transfer in progress", field="call")
        campaign = CampaignConfig.from_row(await campaigns.get(conn, call["campaign_id"], None))
        label = str(campaign.id)
        campaign_id, phone, compliance = campaign.id, call["phone_e164"], {"transfer": True}
        if target.phone is not None:
            phone, compliance = await _check_phone(conn, campaign, target.phone, leg, now=now)
        elif target.campaign_id is not None:
            campaign_id = await _check_campaign(conn, target.campaign_id, call["client_id"], who)
        else:
            assert target.agent_id is not None
            await _hold_agent(conn, target.agent_id, call, campaign, leg, who=who, now=now)
        leg_id = await conn.fetchval(
            _Q["start_leg"],
            call_id,
            campaign_id,
            phone,
            now,
            json.dumps(compliance),
            uuid.uuid4().hex,
            target.agent_id,
            leg,
            json.dumps(target.to_dict()),
            note,
        )
        if target.agent_id is not None:
            await conn.fetchval(_Q["link_agent"], target.agent_id, leg_id)
        details = {"leg_id": leg_id, "leg": leg, "to": target.to_dict()}
        action = "call.conference" if conference else "call.transfer"
        await audit.record(conn, who, action, "call", call_id, details, now=now)
        await _announce(conn, call["carrier_campaign_id"], call_id, leg_id, "start")
    metrics.TRANSFERS.labels(label, leg, "requested").inc()
    return {
        "call_id": call_id,
        "leg_id": leg_id,
        "leg": leg,
        "to": target.to_dict(),
        "state": "requested",
    }


async def _announce(
    conn: asyncpg.Connection, campaign_id: int, call_id: int, leg_id: int, op: str
) -> None:
    message = {"event": EVENT, "op": op, "campaign": campaign_id, "attempt": call_id, "leg": leg_id}
    await conn.execute(_Q["announce"], json.dumps(message))


async def _hold_agent(
    conn: asyncpg.Connection,
    agent_id: int,
    call: asyncpg.Record,
    campaign: CampaignConfig,
    leg: str,
    *,
    who: Principal,
    now: datetime,
) -> None:
    try:
        agent = await agents.get(conn, agent_id, who.client_id)
    except NotFound:
        raise ValidationError(f"agent {agent_id} does not exist", field="to.agent_id") from None
    if agent["client_id"] != call["client_id"]:
        raise ValidationError(f"agent {agent_id} does not exist", field="to.agent_id")
    if agent_id == call["agent_id"]:
        raise ValidationError("the agent is already on this call", field="to.agent_id")
    if agent["state"] == "offline":
        raise Conflict(f"agent {agent_id} is not signed in", field="to.agent_id")
    if await conn.fetchval(_Q["hold_agent"], agent_id, now, campaign.id) is None:
        metrics.TRANSFERS.labels(str(campaign.id), leg, "busy").inc()
        raise Conflict(f"agent {agent_id} is busy ({agent['state']})", field="to.agent_id")


async def _check_campaign(
    conn: asyncpg.Connection, campaign_id: int, client_id: int, who: Principal
) -> int:
    try:
        row = await campaigns.get(conn, campaign_id, who.client_id)
    except NotFound:
        row = None
    if row is None or row["client_id"] != client_id:
        raise ValidationError(f"campaign {campaign_id} does not exist", field="to.campaign_id")
    if row["state"] != "running":
        raise Conflict(
            f"campaign {campaign_id} is not running (state {row['state']})",
            field="to.campaign_id",
        )
    return campaign_id


async def _check_phone(
    conn: asyncpg.Connection, campaign: CampaignConfig, raw: str, leg: str, *, now: datetime
) -> tuple[str, dict[str, Any]]:
    """The number as E.164 and the decision allowing it; ``Refused`` when the calling rules
    for its place or the DNC lists say no (nothing is dialed)."""
    region = await conn.fetchval("SELECT default_region FROM campaigns WHERE id = $1", campaign.id)
    number = phones.normalise_number(raw, region)
    if isinstance(number, phones.Rejection):
        raise ValidationError(f"to.phone: {number.detail}", field="to.phone")
    place = resolve_place(number.e164)
    lead = Lead(
        0, number.e164, place.region, place.subdivision, None, place.time_zones, "new", 0, None
    )
    [(_, decision)] = await gate.check(
        conn, campaign, [lead], now=now, agent_guaranteed=True, upto=now
    )
    if not decision.allowed:
        metrics.TRANSFERS.labels(str(campaign.id), leg, "blocked").inc()
        raise Refused(
            f"the calling rules do not allow {number.e164} now", decision, field="to.phone"
        )
    return number.e164, {**decision.to_dict(), "agent_guaranteed": True, "transfer": True}


async def control(
    conn: asyncpg.Connection, call_id: int, op: str, *, who: Principal, now: datetime
) -> dict[str, Any]:
    """Complete or cancel a warm transfer, or leave a conference: ``{"call_id", "leg_id",
    "op"}`` once the call's runner is told; 409 when the call has no such leg now."""
    async with conn.transaction():
        call = await _call(conn, call_id, who)
        leg = call["open_leg"]
        if isinstance(leg, str):
            leg = json.loads(leg)
        wanted = {
            "complete": ("warm", ("consulting",)),
            "cancel": ("warm", ("requested", "queued", "ringing", "consulting")),
            "leave": ("conference", ("joined",)),
        }[op]
        if leg is None or leg["leg"] != wanted[0] or leg["leg_state"] not in wanted[1]:
            what = "warm transfer" if wanted[0] == "warm" else "conference"
            state = "" if leg is None else f" (its {leg['leg']} leg is {leg['leg_state']})"
            raise Conflict(f"call {call_id} has no {what} to {op}{state}", field="call")
        await audit.record(
            conn,
            who,
            f"call.transfer_{op}" if op != "leave" else "call.leave",
            "call",
            call_id,
            {"leg_id": leg["id"]},
            now=now,
        )
        await _announce(conn, call["carrier_campaign_id"], call_id, leg["id"], op)
    return {"call_id": call_id, "leg_id": leg["id"], "op": op}
