"""CRM pushes: one lead, or a batch, as JSON into a campaign.

The same normalisation and the same reasons as a list file (``invalid_number``,
``missing_phone``, ``malformed_row`` for an item that is not a lead object,
``duplicate_in_file`` for a repeat within the batch, ``duplicate_in_campaign``, ``dnc``),
in one transaction. A number that a running list import is loading right now makes the
push wait briefly, then answer 409 (retry) rather than wait for the whole import.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from dialer.dnc.lookup import dnc_sources
from dialer.errors import Conflict, ValidationError
from dialer.leads import consent, phones
from dialer.leads.rows import place_for
from dialer.leads.store import check_priority
from dialer.sql import queries

_Q = queries("dialer.leads")
_P = queries("dialer.privacy")
MAX_BATCH = 1000
LOCK_WAIT = "2s"
_KEYS = frozenset(
    {
        "phone",
        "fields",
        "priority",
        "state",
        "subdivision",
        "postal_code",
        "alt_phones",
        "default_region",
        *consent.FIELDS,
    }
)
INVALID_CONSENT = "invalid_consent"


@dataclass
class _Lead:
    index: int
    raw: str
    number: phones.Number
    values: dict[str, Any]
    warnings: Counter[str] = field(default_factory=Counter)


def _rejected(index: int, reason: str, value: str, detail: str) -> dict[str, Any]:
    return {"index": index, "reason": reason, "value": value, "detail": detail}


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError(f"{key} must be a string")
    return str(value).strip()


def _parse(index: int, item: Any, region: str | None, now: datetime) -> _Lead | dict[str, Any]:
    """One item → a lead to insert, or its rejection."""
    if not isinstance(item, dict):
        return _rejected(index, phones.MALFORMED_ROW, str(item)[:200], "not a JSON object")
    unknown = sorted(set(item) - _KEYS)
    if unknown:
        return _rejected(index, phones.MALFORMED_ROW, "", f"unknown field {unknown[0]!r}")
    try:
        raw = _text(item, "phone")
        fields = item.get("fields") or {}
        if not isinstance(fields, dict):
            raise ValueError("fields must be an object")
        priority = check_priority(item.get("priority", 0)) if "priority" in item else 0
        alternates = item.get("alt_phones") or []
        if not isinstance(alternates, list) or not all(isinstance(a, str) for a in alternates):
            raise ValueError("alt_phones must be a list of strings")
        item_region = phones.check_region(_text(item, "default_region")) or region
        state = _text(item, "subdivision") or _text(item, "state")
        postal = _text(item, "postal_code")
    except (ValueError, ValidationError) as exc:
        return _rejected(index, phones.MALFORMED_ROW, "", str(exc))
    try:
        given = consent.settle(consent.parse(item), consent.Consent(), now=now)
    except ValidationError as exc:
        bad = _rejected(index, INVALID_CONSENT, str(item.get(exc.field or "", ""))[:200], str(exc))
        return bad | {"field": exc.field}
    number = phones.normalise_number(raw, item_region)
    if isinstance(number, phones.Rejection):
        return _rejected(index, number.reason, raw, number.detail)
    values = {"priority": priority, "state": state, "postal": postal, "consent": given}
    lead = _Lead(index, raw, number, values)
    found: list[str] = []
    for alt in alternates:
        other = phones.normalise_number(alt, item_region)
        if isinstance(other, phones.Number):
            if other.e164 != number.e164 and other.e164 not in found:
                found.append(other.e164)
        else:
            fields = {**fields, "alt_phones_invalid": [*fields.get("alt_phones_invalid", []), alt]}
    if number.extension and "phone_extension" not in fields:
        fields = {**fields, "phone_extension": number.extension}
    lead.values.update(fields=fields, alternates=found)
    return lead


def _columns(leads: list[_Lead]) -> list[list[Any]]:
    columns: list[list[Any]] = [[] for _ in range(8 + len(consent.FIELDS))]
    for lead in leads:
        place = place_for(lead.number, lead.values["state"], lead.values["postal"], lead.warnings)
        row = (
            lead.number.e164,
            "{" + ",".join(lead.values["alternates"]) + "}",
            place.region,
            place.subdivision,
            lead.values["postal"] or None,
            "{" + ",".join(place.time_zones) + "}",
            json.dumps(lead.values["fields"], ensure_ascii=False),
            lead.values["priority"],
            *lead.values["consent"].values(),
        )
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    return columns


async def push(
    conn: asyncpg.Connection,
    campaign: dict[str, Any],
    items: list[Any],
    *,
    now: datetime,
) -> dict[str, Any]:
    """Insert the leads of a CRM push; the outcome of every item, in order."""
    if len(items) > MAX_BATCH:
        raise ValidationError(f"at most {MAX_BATCH} leads per request", field="leads")
    results: dict[int, dict[str, Any]] = {}
    leads: list[_Lead] = []
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        parsed = _parse(index, item, campaign.get("default_region"), now)
        if isinstance(parsed, dict):
            results[index] = parsed
        elif parsed.number.e164 in first:
            detail = f"same number as item {first[parsed.number.e164]} ({parsed.number.e164})"
            results[index] = _rejected(index, phones.DUPLICATE_IN_FILE, parsed.raw, detail)
        else:
            first[parsed.number.e164] = index
            leads.append(parsed)
    leads = await _drop_erased(conn, campaign["client_id"], leads, results)
    if leads:
        await _insert(conn, campaign, leads, results, now=now)
    ordered = [results[i] for i in range(len(items))]
    reasons = Counter(r["reason"] for r in ordered if "reason" in r)
    return {
        "accepted": sum(1 for r in ordered if r.get("status") == "new"),
        "dnc": reasons.get(phones.DNC, 0),
        "rejected": sum(reasons.values()),
        "rejected_by_reason": dict(sorted(reasons.items())),
        "items": ordered,
    }


async def _drop_erased(
    conn: asyncpg.Connection,
    client_id: int,
    leads: list[_Lead],
    results: dict[int, dict[str, Any]],
) -> list[_Lead]:
    """Leads of people erased at their request are rejected (``erased``), number not echoed."""
    if not leads:
        return leads
    numbers = [lead.number.e164 for lead in leads]
    erased = {r["phone"] for r in await conn.fetch(_P["suppressed_numbers"], client_id, numbers)}
    for lead in leads:
        if lead.number.e164 in erased:
            results[lead.index] = _rejected(
                lead.index, phones.ERASED, "", "this person was erased at their request"
            )
    return [lead for lead in leads if lead.number.e164 not in erased]


async def _insert(
    conn: asyncpg.Connection,
    campaign: dict[str, Any],
    leads: list[_Lead],
    results: dict[int, dict[str, Any]],
    *,
    now: datetime,
) -> None:
    try:
        async with conn.transaction():
            await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
            rows = await conn.fetch(
                _Q["insert_api_leads"],
                campaign["id"],
                campaign["client_id"],
                now,
                *_columns(leads),
            )
            inserted = {r["phone_e164"]: dict(r) for r in rows}
            missing = [lead.number.e164 for lead in leads if lead.number.e164 not in inserted]
            existing = (
                {
                    r["phone_e164"]: r["id"]
                    for r in await conn.fetch(_Q["existing_leads"], campaign["id"], missing)
                }
                if missing
                else {}
            )
            blocked = [p for p, r in inserted.items() if r["status"] == "dnc"]
            sources = await dnc_sources(
                conn, blocked, client_id=campaign["client_id"], campaign_id=campaign["id"], now=now
            )
    except asyncpg.LockNotAvailableError:
        raise Conflict(
            "a list import into this campaign is loading some of these numbers right now; "
            "retry in a moment",
            field="phone",
        ) from None
    for lead in leads:
        row = inserted.get(lead.number.e164)
        if row is None:
            lead_id = existing.get(lead.number.e164)
            detail = f"{lead.number.e164} is already lead {lead_id} of this campaign"
            result = _rejected(lead.index, phones.DUPLICATE_IN_CAMPAIGN, lead.raw, detail)
            result["lead_id"] = lead_id
        else:
            result = {
                "index": lead.index,
                "lead_id": row["id"],
                "status": row["status"],
                "lead": row,
            }
            if row["status"] == "dnc":
                listed = ", ".join(sources.get(lead.number.e164, ["dnc"]))
                result.update(
                    reason=phones.DNC,
                    value=lead.raw,
                    detail=f"on the do-not-call list ({listed}): stored with status dnc",
                )
        if lead.warnings:
            result["warnings"] = dict(lead.warnings)
        results[lead.index] = result
