"""What ``dialer demo`` sets up and reports: a campaign, leads from nine countries, a summary.

The leads are spread over places whose calling hours differ (US from Hawaii to New York,
Canada, the UK, France, India, Kenya, Bangladesh, Tanzania, Australia), so at any hour the
rules visibly allow some and defer others. They are inserted with ``insert_leads`` (place
and time zones from ``compliance.resolve_place``), a small loader for generated numbers;
real lists go through the lead importer.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import phonenumbers

from dialer.auth.roles import SYSTEM
from dialer.auth.tokens import create_token
from dialer.campaigns import callerids
from dialer.campaigns import store as campaigns
from dialer.compliance import resolve_place

COUNTRIES = ("US", "GB", "FR", "IN", "KE", "BD", "TZ", "AU", "CA")
# NANP area codes across time zones: New York, Miami, Chicago, Denver, Los Angeles,
# Honolulu, Anchorage; Toronto, Vancouver, Halifax.
AREAS = {"US": ("212", "305", "312", "303", "213", "808", "907"), "CA": ("416", "604", "902")}
FIRST_NAMES = ("Ana", "Ben", "Chen", "Dia", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo")


def _number(region: str, rng: random.Random) -> str | None:
    if region in AREAS:
        digits = f"+1{rng.choice(AREAS[region])}555{rng.randrange(10000):04d}"
    else:
        ex = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        if ex is None:
            return None
        national = str(ex.national_number)
        digits = f"+{ex.country_code}{national[:-4]}{rng.randrange(10000):04d}"
    number = phonenumbers.parse(digits)
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def generate_leads(count: int, *, seed: int = 7) -> list[tuple[str, dict[str, Any]]]:
    """``count`` distinct numbers spread evenly over ``COUNTRIES``, with a few CRM fields."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[tuple[str, dict[str, Any]]] = []
    tries = 0
    while len(out) < count and tries < count * 20:
        tries += 1
        region = COUNTRIES[len(out) % len(COUNTRIES)]
        phone = _number(region, rng)
        if phone is None or phone in seen:
            continue
        seen.add(phone)
        name = f"{rng.choice(FIRST_NAMES)} {chr(65 + rng.randrange(26))}."
        out.append((phone, {"name": name, "country": region, "account": f"A{len(out):05d}"}))
    return out


async def insert_leads(
    conn: asyncpg.Connection,
    campaign_id: int,
    leads: Sequence[tuple[str, dict[str, Any]]],
    *,
    now: datetime,
) -> int:
    """Insert E.164 numbers with their place and time zones; duplicates are skipped."""
    records = []
    for phone, fields in leads:
        place = resolve_place(phone)
        records.append(
            (
                campaign_id,
                phone,
                place.region,
                place.subdivision,
                list(place.time_zones),
                fields,
                now,
            )
        )
    before = await conn.fetchval("SELECT count(*) FROM leads WHERE campaign_id = $1", campaign_id)
    await conn.executemany(
        """
        INSERT INTO leads (campaign_id, phone_e164, region, subdivision, time_zones, fields,
                           next_attempt_at, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7)
        ON CONFLICT (campaign_id, phone_e164) DO NOTHING
        """,
        records,
    )
    after = await conn.fetchval("SELECT count(*) FROM leads WHERE campaign_id = $1", campaign_id)
    return int(after - before)


async def create_demo_campaign(
    conn: asyncpg.Connection, *, leads: int, now: datetime, mode: str = "predictive"
) -> dict[str, Any]:
    """A running demo campaign (named after the instant) with generated leads."""
    row = await campaigns.create(
        conn,
        {
            "name": f"demo {now:%Y-%m-%d %H:%M:%S}.{now.microsecond // 1000:03d}",
            "purpose": "telemarketing",
            "dial_mode": mode,
            "caller_id": "+14155550100",
            "ring_timeout_s": 20,
            "max_lines": 400,
            "record": "connected",
            "voicemail_message": "sound:dialer/voicemail-offer",
            "recording_retention_days": 30,
            "opt_out": "always",  # simulated callees press 9 on the abandon message
            "category": "1",
        },
        SYSTEM,
        now=now,
    )
    await insert_leads(conn, row["id"], generate_leads(leads, seed=row["id"]), now=now)
    await conn.execute(_ALTERNATES, row["id"])
    await conn.execute(_CONSENT, row["id"], now)
    await callerids.put_pool(conn, row["id"], DEMO_POOL, SYSTEM, now=now)
    started, _ = await campaigns.transition(conn, row["id"], "start", scope=None, now=now)
    return started


# The demo's own records: campaigns named "demo <instant>" as create_demo_campaign names
# them, and its admin token (demos before issue 22 named theirs "demo-<YYYYmmddHHMMSS>").
DEMO_TOKEN = "dialer demo"
_LEFT_RUNNING = r"""
SELECT id FROM campaigns
WHERE state = 'running' AND deleted_at IS NULL
  AND name ~ '^demo [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{3})?( closers)?$'
"""
_REVOKE_LEFT = r"""
UPDATE api_tokens SET revoked_at = $2
WHERE revoked_at IS NULL AND role = 'admin' AND (name = $1 OR name ~ '^demo-[0-9]{14}$')
"""
_REVOKE = "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL"


async def begin_demo(
    conn: asyncpg.Connection, *, leads: int, now: datetime, mode: str
) -> tuple[dict[str, Any], str, int]:
    """The demo's running campaign, its admin token and the token's id. What an earlier
    demo killed before its end left behind (its running campaign, its valid token) is
    stopped and revoked first; nothing else in the database is touched."""
    for row in await conn.fetch(_LEFT_RUNNING):
        await campaigns.transition(conn, row["id"], "stop", scope=None, now=now)
    await conn.execute(_REVOKE_LEFT, DEMO_TOKEN, now)
    campaign = await create_demo_campaign(conn, leads=leads, now=now, mode=mode)
    closers = await create_closers(conn, campaign["name"], now=now)
    token, stored = await create_token(conn, name=DEMO_TOKEN, role="admin", now=now)
    return {**campaign, "closers_id": closers["id"]}, token, stored["id"]


async def create_closers(conn: asyncpg.Connection, name: str, *, now: datetime) -> dict[str, Any]:
    """The demo's second campaign, "Closers": no leads of its own (preview: it dials
    nothing); its agents take the calls the first campaign's agents transfer to it."""
    row = await campaigns.create(
        conn,
        {
            "name": f"{name} closers",
            "purpose": "telemarketing",
            "dial_mode": "preview",
            "caller_id": "+14155550100",
            "transfer_wait_s": 30,
        },
        SYSTEM,
        now=now,
    )
    started, _ = await campaigns.transition(conn, row["id"], "start", scope=None, now=now)
    return started


async def end_demo(
    conn: asyncpg.Connection, campaign_id: int, token_id: int, *, now: datetime
) -> None:
    """Stop the demo's campaign and revoke its token: nothing of the demo goes on."""
    await conn.execute(_REVOKE, token_id, now)
    await campaigns.transition(
        conn, campaign_id, "stop", scope=None, now=now, expect=frozenset({"running", "paused"})
    )
    name = await conn.fetchval("SELECT name FROM campaigns WHERE id = $1", campaign_id)
    closers = await conn.fetchval(
        "SELECT id FROM campaigns WHERE name = $1 AND state = 'running' AND deleted_at IS NULL",
        f"{name} closers",
    )
    if closers is not None:
        await campaigns.transition(conn, closers, "stop", scope=None, now=now)


# Local presence in four US states; carriers flag the Miami number as spam in the simulated
# network (SimGatewayParams.demo), so its answer rate and rejections stand out.
DEMO_POOL = {
    "items": [
        {"number": n} for n in ("+14155550100", "+12125550100", "+13055550100", "+13125550101")
    ],
    "local_presence": True,
    "daily_cap": 5000,
}

# Every fifth demo lead has a second number (the same line, other last four digits), dialed
# when the first turns out not to exist.
_ALTERNATES = """
UPDATE leads
SET alt_phones = ARRAY[left(phone_e164, -4)
                       || lpad(((right(phone_e164, 4)::int + 5000) % 10000)::text, 4, '0')]
WHERE campaign_id = $1 AND id % 5 = 0
"""

# Some leads carry consent and a business relationship, so the calling rules use them: a third
# gave written consent a month ago, some an inquiry last month, one in 17 revoked (blocked).
_CONSENT = """
UPDATE leads
SET consent = CASE WHEN id % 17 = 0 THEN 'revoked'
                   WHEN id % 3 = 0 THEN 'express_written'
                   WHEN id % 7 = 0 THEN 'express' ELSE 'none' END,
    consent_at = CASE WHEN id % 3 = 0 OR id % 7 = 0 OR id % 17 = 0
                      THEN $2::timestamptz - interval '30 days' END,
    consent_source = CASE WHEN id % 3 = 0 OR id % 7 = 0 OR id % 17 = 0
                          THEN 'demo web form' END,
    consent_revoked_at = CASE WHEN id % 17 = 0 THEN $2::timestamptz END,
    ebr_inquiry_at = CASE WHEN id % 4 = 0 THEN $2::timestamptz - interval '40 days' END
WHERE campaign_id = $1
"""

_SUMMARY = """
SELECT count(*) AS attempts,
       count(*) FILTER (WHERE connected_at IS NOT NULL) AS connected,
       count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned,
       count(*) FILTER (WHERE answer = 'human') AS human_answers,
       count(*) FILTER (WHERE ended_at IS NULL) AS open,
       count(*) FILTER (WHERE mode = 'manual') AS manual_dials
FROM attempts WHERE campaign_id = $1 AND direction = 'outbound'
"""
_INBOUND = """
SELECT count(*) FROM attempts WHERE campaign_id = $1 AND direction = 'inbound'
"""
_OUTCOMES = """
SELECT coalesce(outcome, 'in_progress') AS outcome, count(*) AS n
FROM attempts WHERE campaign_id = $1 AND direction = 'outbound' GROUP BY 1 ORDER BY 1
"""
_LEADS = "SELECT status, count(*) AS n FROM leads WHERE campaign_id = $1 GROUP BY 1 ORDER BY 1"
_CALLER_IDS = """
SELECT caller_id, count(*) AS dials, count(*) FILTER (WHERE answer = 'human') AS humans,
       count(*) FILTER (WHERE hangup_cause IN ('unwanted', 'identity_rejected')) AS rejected
FROM attempts WHERE campaign_id = $1 AND caller_id IS NOT NULL GROUP BY 1 ORDER BY 1
"""
_VOICEMAILS = """
SELECT count(*) FILTER (WHERE hangup_cause = 'voicemail_left') AS left,
       count(*) FILTER (WHERE hangup_cause LIKE 'voicemail\\_barred:%') AS barred,
       count(recording_notice) AS recording_notices
FROM attempts WHERE campaign_id = $1
"""
_OPT_OUTS = """
SELECT count(*) FROM audit_log
WHERE action = 'dnc.opt_out' AND object_id IN (SELECT id FROM leads WHERE campaign_id = $1)
"""
_MONITORED = "SELECT count(DISTINCT attempt_id) FROM call_monitors WHERE campaign_id = $1"
_TRANSFERS = """
SELECT count(*) FROM attempts l JOIN attempts p ON p.id = l.parent_attempt_id
WHERE p.campaign_id = $1
"""
_RECORDINGS = """
SELECT count(*) AS recordings, coalesce(round(sum(recording_s)::numeric, 1), 0)::float AS seconds
FROM attempts WHERE campaign_id = $1 AND recording_url IS NOT NULL
"""
_HYGIENE = """
SELECT count(*) FILTER (WHERE cardinality(retired_phones) > 0) AS numbers_retired,
       count(*) FILTER (WHERE cardinality(retired_phones) > 0 AND status <> 'invalid')
           AS moved_to_alternate
FROM leads WHERE campaign_id = $1
"""


async def summary(
    conn: asyncpg.Connection,
    campaign_id: int,
    *,
    duration_s: float,
    occupancy: float,
    blocked_by_rules: int,
) -> dict[str, Any]:
    """The demo's figures, from the attempt records."""
    row = await conn.fetchrow(_SUMMARY, campaign_id)
    outcomes = {r["outcome"]: r["n"] for r in await conn.fetch(_OUTCOMES, campaign_id)}
    leads = {r["status"]: r["n"] for r in await conn.fetch(_LEADS, campaign_id)}
    humans = row["human_answers"]
    caller_ids = {
        r["caller_id"]: {
            "dials": r["dials"],
            "answer_rate": round(r["humans"] / r["dials"], 4) if r["dials"] else 0.0,
            "robocall_rejections": r["rejected"],
        }
        for r in await conn.fetch(_CALLER_IDS, campaign_id)
    }
    hygiene = dict(await conn.fetchrow(_HYGIENE, campaign_id))
    return {
        "campaign_id": campaign_id,
        "attempts": row["attempts"],
        "outcomes": outcomes,
        "connected": row["connected"],
        "abandoned": row["abandoned"],
        "human_answers": humans,
        "abandon_rate": round(row["abandoned"] / humans, 4) if humans else 0.0,
        "agent_occupancy": round(occupancy, 4),
        "blocked_by_rules": blocked_by_rules,
        "open_attempts": row["open"],
        "manual_dials": row["manual_dials"],
        "leads": leads,
        "caller_ids": caller_ids,
        "number_hygiene": hygiene,
        "recordings": dict(await conn.fetchrow(_RECORDINGS, campaign_id)),
        **_conduct(await conn.fetchrow(_VOICEMAILS, campaign_id)),
        "opt_outs": await conn.fetchval(_OPT_OUTS, campaign_id),
        "monitored": await conn.fetchval(_MONITORED, campaign_id),
        "inbound": await conn.fetchval(_INBOUND, campaign_id),  # callbacks from callees
        "transfers": await conn.fetchval(_TRANSFERS, campaign_id),
        "duration_s": round(duration_s, 2),
    }


def _conduct(row: Any) -> dict[str, int]:
    """Voicemails left, drops the rules barred (US telemarketing), recording notices played
    (callees in all-party consent states)."""
    return {
        "voicemails_left": row["left"],
        "voicemails_barred": row["barred"],
        "recording_notices": row["recording_notices"],
    }
