"""The rules gate: ``compliance.decide`` for a batch of leads right before they are dialed.

For each batch the gate reads, fresh from the database, the DNC entries that apply to the
numbers (entries added after the import count) together with what other registries say of
them (wireless, reassigned, litigator, NCPR preference: ``dnc.lookup.screen_numbers``), the
leads' consent and business relationship as they are now (a revocation recorded after the
claim counts) and the earlier attempts to those numbers from every campaign of the client
within the rules' look-back (caps, cool-downs, Ofcom's 72 hours after an abandoned call),
then asks ``decide`` about each lead at this instant. Three reads per batch, however many
leads (two for the hopper's screen, which skips the history).

``check_lead`` asks the same question for one lead by id at any instant, through the same
reads, for ``dialer check --lead``, the API's ``lead_id`` and the console: the decision then
includes the lead's contact caps and cool-downs, and says when each lapses.
"""

from __future__ import annotations

import asyncio
import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import asyncpg

from dialer import metrics
from dialer.compliance import MAX_LOOKBACK, CallPreference, ContactRecord, Decision, decide
from dialer.compliance.model import LeadInfo
from dialer.dnc.lookup import RegistryFacts, screen_numbers
from dialer.engine.model import CampaignConfig, Lead
from dialer.errors import NotFound
from dialer.leads import store as lead_store
from dialer.sql import queries

_Q = queries("dialer.engine")
YIELD_EVERY = 200  # decisions between two turns of the event loop


async def _history(
    db: asyncpg.Pool | asyncpg.Connection,
    campaign: CampaignConfig,
    phones: list[str],
    now: datetime,
    upto: datetime | None = None,
) -> dict[str, list[ContactRecord]]:
    rows = await db.fetch(
        _Q["history"], phones, campaign.id, campaign.client_id, now - MAX_LOOKBACK
    )
    found: dict[str, list[ContactRecord]] = defaultdict(list)
    for r in rows:
        if upto is not None and r["started_at"] > upto:
            continue
        found[r["phone_e164"]].append(
            ContactRecord(
                at_utc=r["started_at"],
                outcome=r["outcome"],
                same_campaign=r["same_campaign"],
                purpose=r["purpose"],
                conversation=r["conversation"],
                abandoned=r["abandoned"],
                agent_guaranteed=r["agent_guaranteed"],
            )
        )
    return found


async def _nothing() -> dict[str, list[ContactRecord]]:
    return {}


async def _consent(
    db: asyncpg.Pool | asyncpg.Connection, leads: Sequence[Lead]
) -> dict[int, asyncpg.Record]:
    rows = await db.fetch(_Q["lead_consent"], [lead.id for lead in leads])
    return {r["id"]: r for r in rows}


def _info(
    lead: Lead,
    dnc: tuple[str, ...],
    consent: asyncpg.Record | None,
    facts: RegistryFacts | None,
) -> tuple[LeadInfo, CallPreference | None]:
    """The lead as the rules see it now, and its registered preference (if any)."""
    info = lead.info(dnc)
    if consent is None and facts is None:
        return info, None
    changes: dict[str, object] = {}
    if consent is not None:
        changes = {
            "consent_level": consent["consent"],
            "consent_at": consent["consent_at"],
            "consent_revoked_at": consent["consent_revoked_at"],
            "ebr_purchase_at": consent["ebr_purchase_at"],
            "ebr_inquiry_at": consent["ebr_inquiry_at"],
        }
    preference = None
    if facts is not None:
        changes["wireless"] = facts.wireless
        changes["disconnected_at"] = facts.disconnected_at
        changes["litigator_sources"] = facts.litigator_sources
        if facts.categories is not None:
            preference = CallPreference(facts.categories)
    return replace(info, **changes), preference  # type: ignore[arg-type]


def _count(decision: Decision) -> None:
    if decision.allowed:
        metrics.COMPLIANCE_DECISIONS.labels("allowed", "none").inc()
        return
    for rule_id in decision.rule_ids or ("unknown",):
        metrics.COMPLIANCE_DECISIONS.labels("blocked", rule_id).inc()


async def check(
    db: asyncpg.Pool | asyncpg.Connection,
    campaign: CampaignConfig,
    leads: Sequence[Lead],
    *,
    now: datetime,
    agent_guaranteed: bool = False,
    history: bool = True,
    count: bool = True,
    upto: datetime | None = None,
) -> list[tuple[Lead, Decision]]:
    """Each lead with the decision for a dial at ``now`` (in the order given); ``db`` is
    the pool or a connection the caller holds. ``history=False`` skips the attempt history
    (caps and cool-downs): for the hopper's screen, whose survivors are checked in full
    right before their dial anyway. ``count=False``: a look, not a dial decision (not
    counted in the decisions metric); ``upto``: count no attempt started after it."""
    if not leads:
        return []
    phones = sorted({lead.phone_e164 for lead in leads})
    screen = functools.partial(
        screen_numbers,
        phones=phones,
        client_id=campaign.client_id,
        campaign_id=campaign.id,
        now=now,
    )
    found: dict[str, list[ContactRecord]] = {}
    if isinstance(db, asyncpg.Pool):  # a connection each: the reads at once
        history_read = _history(db, campaign, phones, now, upto) if history else _nothing()
        (dnc, facts), consent, found = await asyncio.gather(
            screen(db), _consent(db, leads), history_read
        )
    else:  # one connection (the dialing path's): one after the other
        dnc, facts = await screen(db)
        consent = await _consent(db, leads)
        if history:
            found = await _history(db, campaign, phones, now, upto)
    results = []
    for n, lead in enumerate(leads, 1):
        if n % YIELD_EVERY == 0:
            await asyncio.sleep(0)  # a big screen must not hold up the runners' calls
        info, preference = _info(
            lead,
            tuple(dnc.get(lead.phone_e164, ())),
            consent.get(lead.id),
            facts.get(lead.phone_e164),
        )
        decision = decide(
            info,
            campaign.purpose,
            now,
            found.get(lead.phone_e164, ()),
            schedule=campaign.schedule,
            waived_rules=campaign.waived_rules,
            agent_guaranteed=agent_guaranteed,
            preference=preference,
            category=campaign.category,
        )
        if count:
            _count(decision)
        results.append((lead, decision))
    return results


async def check_lead(
    db: asyncpg.Pool | asyncpg.Connection,
    lead_id: int,
    *,
    at: datetime,
    scope: int | None = None,
) -> tuple[Lead, CampaignConfig, Decision]:
    """The decision the engine would make for lead ``lead_id`` at ``at``: its campaign's
    purpose, schedule and waivers, the DNC entries and the attempts to its number (caps and
    cool-downs, each saying when it lapses). ``scope``: the caller's client (None: any);
    ``NotFound`` for a lead outside it. Attempts after ``at`` are not counted."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            return await check_lead(conn, lead_id, at=at, scope=scope)
    row = await lead_store.get(db, lead_id, scope)
    campaign_row = await db.fetchrow(_Q["campaign"], row["campaign_id"])
    if campaign_row is None:
        raise NotFound(f"lead {lead_id} does not exist")
    campaign = CampaignConfig.from_row(campaign_row)
    lead = Lead.from_row(row, 0.0)
    [(_, decision)] = await check(db, campaign, [lead], now=at, count=False, upto=at)
    return lead, campaign, decision
