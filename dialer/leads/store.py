"""Leads through the API: read, list, change (fields, priority, hold, address) and push.

A lead of another client is not found. Status changes by people and CRMs are limited to
holding a lead back (``paused``) and releasing it (``new`` or ``retry``); the dialing
engine owns every other status. A lead's number never changes: a different number is a
different lead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from dialer import audit
from dialer.auth.roles import Principal
from dialer.compliance.place import Place, resolve_place
from dialer.errors import Conflict, NotFound, ValidationError
from dialer.leads import consent
from dialer.outbox import enqueue
from dialer.sql import queries

_Q = queries("dialer.leads")
PAGE_MAX = 500
STATUSES = (
    "new",
    "retry",
    "callback",
    "completed",
    "dnc",
    "exhausted",
    "paused",
    "invalid",
    "erased",
)
HOLDABLE = ("new", "retry", "callback")
RELEASE_TO = ("new", "retry")
PRIORITY_RANGE = (-1_000_000, 1_000_000)
_PATCHABLE = ("fields", "priority", "status", "postal_code", "subdivision", *consent.FIELDS)
_HIDDEN = ("claimed_by", "claimed_until")


def present(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    """A lead as the API shows it (no hopper internals)."""
    return {k: v for k, v in dict(row).items() if k not in _HIDDEN}


async def get(conn: asyncpg.Connection, lead_id: int, scope: int | None) -> dict[str, Any]:
    row = await conn.fetchrow(_Q["get_lead"], lead_id, scope)
    if row is None:
        raise NotFound(f"lead {lead_id} does not exist")
    return dict(row)


async def list_page(
    conn: asyncpg.Connection,
    campaign_id: int,
    *,
    status: str | None = None,
    list_id: int | None = None,
    after: int = 0,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """One page of a campaign's leads by id (the caller checked the campaign is visible)."""
    if status is not None and status not in STATUSES:
        raise ValidationError(f"status must be one of {', '.join(STATUSES)}", field="status")
    rows = await conn.fetch(
        _Q["list_leads"], campaign_id, status, list_id, after, min(limit, PAGE_MAX)
    )
    return [dict(r) for r in rows]


def check_priority(value: Any, field: str = "priority") -> int:
    lo, hi = PRIORITY_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValidationError(f"{field} must be an integer between {lo} and {hi}", field=field)
    return value


def _merge_fields(current: dict[str, Any], change: Any) -> dict[str, Any]:
    """JSON merge: keys replace, a null removes the key."""
    if not isinstance(change, dict):
        raise ValidationError("fields must be an object", field="fields")
    merged = dict(current)
    for key, value in change.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _status(current: str, wanted: Any) -> str:
    if wanted == current:
        return current
    if wanted not in STATUSES:
        raise ValidationError(f"status must be one of {', '.join(STATUSES)}", field="status")
    if wanted == "paused" and current in HOLDABLE:
        return wanted
    if current == "paused" and wanted in RELEASE_TO:
        return str(wanted)
    raise Conflict(
        f"a lead in status {current} cannot be set to {wanted}: hold a dialable lead with "
        "paused, release a paused one with new or retry",
        field="status",
    )


def _text_or_none(body: dict[str, Any], key: str, current: Any) -> str | None:
    if key not in body:
        return current
    value = body[key]
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise ValidationError(f"{key} must be a short string or null", field=key)
    return value.strip()


def _place(phone: str, subdivision: str | None, postal: str | None) -> Place:
    """The lead's place under its (new) address; a 400 naming the part that is wrong."""
    try:
        resolve_place(phone, state=subdivision)
    except ValueError as exc:
        raise ValidationError(str(exc), field="subdivision") from None
    try:
        return resolve_place(phone, state=subdivision, postal_code=postal)
    except ValueError as exc:
        raise ValidationError(str(exc), field="postal_code") from None


async def patch(
    conn: asyncpg.Connection,
    lead_id: int,
    body: dict[str, Any],
    scope: int | None,
    *,
    who: Principal,
    now: datetime,
) -> dict[str, Any]:
    """Change a lead's fields (merge), priority, hold (paused), address (re-resolving its
    time zones) or consent (``leads.consent``: a revocation counts from ``now``).
    ``phone_e164`` cannot change. A consent change is audited and sent to the CRM
    (``lead.consent``) in the same transaction."""
    for key in body:
        if key in ("phone", "phone_e164", "alt_phones"):
            raise ValidationError(
                "a lead's number cannot change: a different number is a different lead",
                field=key,
            )
        if key not in _PATCHABLE:
            raise ValidationError(f"unknown or read-only field {key!r}", field=key)
    async with conn.transaction():
        current = await conn.fetchrow(_Q["get_lead_for_update"], lead_id, scope)
        if current is None:
            raise NotFound(f"lead {lead_id} does not exist")
        fields = current["fields"]
        if "fields" in body:
            fields = _merge_fields(current["fields"], body["fields"])
        priority = check_priority(body["priority"]) if "priority" in body else current["priority"]
        status = _status(current["status"], body["status"]) if "status" in body else None
        subdivision = _text_or_none(body, "subdivision", current["subdivision"])
        postal = _text_or_none(body, "postal_code", current["postal_code"])
        region, zones = current["region"], list(current["time_zones"])
        old = consent.Consent.of(current)
        given = consent.settle(consent.parse(body, old), old, now=now)
        if "subdivision" in body or "postal_code" in body:
            place = _place(current["phone_e164"], subdivision, postal)
            region, subdivision, zones = place.region, place.subdivision, list(place.time_zones)
        row = await conn.fetchrow(
            _Q["update_lead"],
            lead_id,
            fields,
            priority,
            status or current["status"],
            subdivision,
            postal,
            zones,
            region,
            now,
            *given.values(),
        )
        if given != old:
            await _consent_changed(conn, dict(row), current["client_id"], old, given, who, now)
    return dict(row)


async def _consent_changed(
    conn: asyncpg.Connection,
    lead: dict[str, Any],
    client_id: int,
    old: consent.Consent,
    new: consent.Consent,
    who: Principal,
    now: datetime,
) -> None:
    """Audit the change (levels and instants; never ``consent_source``, which can name the
    person) and tell the CRM."""
    data = {k: v for k, v in new.to_json().items() if k != "consent_source"}
    details = {"from": old.consent, **data}
    await audit.record(conn, who, "lead.consent", "lead", lead["id"], details, now=now)
    await enqueue(
        conn,
        "lead.consent",
        client_id=client_id,
        campaign_id=lead["campaign_id"],
        lead_id=lead["id"],
        data={"lead_id": lead["id"], "campaign_id": lead["campaign_id"], **new.to_json()},
        now=now,
    )
