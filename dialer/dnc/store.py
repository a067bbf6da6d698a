"""Do-not-call entries: add, list and remove them; block the leads a new entry covers.

Scope follows the schema: an entry without client and campaign is global (national
registries, company-wide requests) and needs an unscoped token; a client-scoped token's
entries always belong to its client. Adding an entry turns every lead it covers that could
still be dialed (or is paused) into status ``dnc`` and writes ``lead.dnc`` for each, in the
same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from dialer.auth.roles import Principal
from dialer.campaigns import store as campaigns
from dialer.errors import NotFound, ValidationError
from dialer.leads import phones
from dialer.outbox import enqueue
from dialer.sql import queries

_Q = queries("dialer.dnc")
PAGE_MAX = 500
# Named sources; national registries are loaded as their own source.
REGISTRIES = {
    "us_dnc": "US",  # US National Do Not Call Registry (FTC)
    "tps": "GB",  # UK Telephone Preference Service
    "ctps": "GB",  # UK Corporate TPS
    "dncl": "CA",  # Canada National DNCL
    "ncpr": "IN",  # India National Customer Preference Register (TRAI)
    "bloctel": "FR",  # France Bloctel
}
_SOURCE = re.compile(r"^[a-z0-9_]{1,40}$")


def check_source(value: Any) -> str:
    """A source name: ``internal``, ``crm``, a registry (``tps`` …) or another short name."""
    if value is None:
        return "internal"
    if not isinstance(value, str) or not _SOURCE.match(value.strip().lower()):
        raise ValidationError(
            "source must be a short name of lowercase letters, digits and _ (e.g. tps)",
            field="source",
        )
    return value.strip().lower()


async def resolve_scope(
    conn: asyncpg.Connection,
    who: Principal,
    *,
    client_id: int | None,
    campaign_id: int | None,
    scope: str | None = None,
) -> tuple[int | None, int | None]:
    """(client_id, campaign_id) of a new entry, checked against what ``who`` may touch.

    ``scope`` is ``global``, ``client`` or ``campaign``; left out, it follows from the ids
    given (none: global for an unscoped token, the token's client otherwise).
    """
    if scope not in (None, "global", "client", "campaign"):
        raise ValidationError("scope must be global, client or campaign", field="scope")
    if campaign_id is not None or scope == "campaign":
        if campaign_id is None:
            raise ValidationError("scope campaign needs campaign_id", field="campaign_id")
        campaign = await campaigns.get(conn, campaign_id, who.client_id)
        return campaign["client_id"], campaign_id
    if scope == "global" or (scope is None and client_id is None and who.client_id is None):
        if who.client_id is not None:
            raise ValidationError(
                "global DNC entries need a token that is not limited to one client",
                field="scope",
            )
        return None, None
    owner = client_id if client_id is not None else who.client_id
    if owner is None:
        raise ValidationError("scope client needs client_id", field="client_id")
    if not who.sees_client(owner) or not await conn.fetchval(
        "SELECT 1 FROM clients WHERE id = $1", owner
    ):
        raise NotFound(f"client {owner} does not exist")
    return owner, None


async def block_leads(
    conn: asyncpg.Connection,
    rows: list[asyncpg.Record],
    *,
    source: str,
    reason: str | None,
    now: datetime,
) -> int:
    """Write ``lead.dnc`` for every lead a new entry turned into status dnc."""
    for r in rows:
        await enqueue(
            conn,
            "lead.dnc",
            client_id=r["client_id"],
            campaign_id=r["campaign_id"],
            lead_id=r["id"],
            now=now,
            data={
                "lead_id": r["id"],
                "campaign_id": r["campaign_id"],
                "phone_e164": r["phone_e164"],
                "source": source,
                "reason": reason,
            },
        )
    return len(rows)


async def add(
    conn: asyncpg.Connection,
    phone_e164: str,
    *,
    client_id: int | None,
    campaign_id: int | None,
    source: str,
    reason: str | None,
    expires_at: datetime | None,
    now: datetime,
    context: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], bool, int]:
    """(entry, created, leads blocked). Adding an entry that exists changes nothing.

    A new entry of a client (or campaign) writes ``dnc.added`` to that client, with
    ``context`` (e.g. the attempt of an in-call opt-out) in its data; a global entry
    belongs to no client and sends none (its blocked leads still send ``lead.dnc``)."""
    async with conn.transaction():
        row = await conn.fetchrow(
            _Q["insert_entry"], phone_e164, client_id, campaign_id, source, reason, now, expires_at
        )
        if row is None:
            existing = await conn.fetchrow(
                _Q["same_entry"], phone_e164, client_id, campaign_id, source
            )
            return dict(existing), False, 0
        marked = await conn.fetch(_Q["mark_leads_dnc"], [phone_e164], client_id, campaign_id, now)
        blocked = await block_leads(conn, marked, source=source, reason=reason, now=now)
        if client_id is not None:
            data = {"entry_id": row["id"], "phone_e164": phone_e164, "client_id": client_id}
            data |= {"campaign_id": campaign_id, "source": source, "reason": reason}
            data |= {"expires_at": expires_at, "leads_blocked": blocked, **(context or {})}
            await enqueue(
                conn, "dnc.added", client_id=client_id, campaign_id=campaign_id, now=now, data=data
            )
    return dict(row), True, blocked


async def list_page(
    conn: asyncpg.Connection,
    scope: int | None,
    *,
    phone: str | None = None,
    source: str | None = None,
    campaign_id: int | None = None,
    after: int = 0,
    limit: int = 100,
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        _Q["list_entries"], scope, phone, source, campaign_id, after, min(limit, PAGE_MAX)
    )
    return [dict(r) for r in rows]


async def get(conn: asyncpg.Connection, entry_id: int, scope: int | None) -> dict[str, Any]:
    """One entry a token may see (its client's, or a global one)."""
    row = await conn.fetchrow(_Q["get_entry"], entry_id)
    if row is None or (scope is not None and row["client_id"] not in (None, scope)):
        raise NotFound(f"DNC entry {entry_id} does not exist")
    return dict(row)


async def remove(conn: asyncpg.Connection, entry_id: int, who: Principal) -> None:
    entry = await get(conn, entry_id, who.client_id)
    if who.client_id is not None and entry["client_id"] is None:
        raise ValidationError(
            "a global DNC entry can only be removed with a token not limited to one client",
            field="id",
        )
    await conn.execute(_Q["delete_entry"], entry_id)


async def remove_matching(
    conn: asyncpg.Connection,
    phone_e164: str,
    who: Principal,
    *,
    source: str | None,
    campaign_id: int | None,
) -> int:
    """Remove the entries of a number (optionally of one source / campaign) ``who`` owns."""
    rows = await conn.fetch(_Q["delete_matching"], phone_e164, who.client_id, source, campaign_id)
    return len(rows)


@dataclass(frozen=True, slots=True)
class NewEntry:
    """One number to add, as typed in ``POST /api/v1/dnc`` or the console's form."""

    phone: Any
    default_region: str | None = None
    source: Any = None
    reason: Any = None
    expires_at: datetime | None = None
    client_id: int | None = None
    campaign_id: int | None = None
    scope: str | None = None


async def add_entry(
    conn: asyncpg.Connection, who: Principal, entry: NewEntry, *, now: datetime
) -> tuple[dict[str, Any], bool, int]:
    """Check what was typed (``ValidationError`` naming the field; ``NotFound`` for a
    client or campaign ``who`` cannot see), then ``add`` it: (entry, created, blocked)."""
    source = check_source(entry.source)
    reason = entry.reason
    if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
        raise ValidationError("reason must be a string (at most 500 characters)", field="reason")
    if entry.expires_at is not None and entry.expires_at <= now:
        raise ValidationError("expires_at must be in the future", field="expires_at")
    client_id, campaign_id = await resolve_scope(
        conn, who, client_id=entry.client_id, campaign_id=entry.campaign_id, scope=entry.scope
    )
    phone = await dnc_number(
        conn,
        entry.phone,
        region=entry.default_region,
        source=source,
        campaign_id=campaign_id,
        scope=who.client_id,
    )
    return await add(
        conn,
        phone,
        client_id=client_id,
        campaign_id=campaign_id,
        source=source,
        reason=reason,
        expires_at=entry.expires_at,
        now=now,
    )


def present(row: dict[str, Any]) -> dict[str, Any]:
    data = dict(row)
    if data.get("client_id") is None and data.get("campaign_id") is None:
        data["scope"] = "global"
    else:
        data["scope"] = "campaign" if data.get("campaign_id") is not None else "client"
    return data


async def dnc_number(
    conn: asyncpg.Connection,
    raw: Any,
    *,
    region: str | None,
    source: str | None,
    campaign_id: int | None,
    scope: int | None,
) -> str:
    """A phone typed for a DNC entry, as E.164: with the default region given, else the
    campaign's, else the registry's (``source``); ``ValidationError`` naming the field."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError("phone is required", field="phone")
    try:
        code = phones.check_region(region)
    except ValueError as exc:
        raise ValidationError(str(exc), field="default_region") from None
    if code is None and campaign_id is not None:
        code = (await campaigns.get(conn, campaign_id, scope)).get("default_region")
    if code is None and source is not None:
        code = REGISTRIES.get(source)
    number = phones.normalise_number(raw, code)
    if isinstance(number, phones.Rejection):
        raise ValidationError(f"{number.reason}: {number.detail}", field="phone")
    return number.e164
