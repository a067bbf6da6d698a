"""A campaign's caller-ID pool: reading and replacing it (API, CLI, console) and asking
which number a call to a given phone would present now (``callerpick``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from dialer.audit import record
from dialer.auth.roles import Principal
from dialer.campaigns import model, store
from dialer.campaigns.callerpick import Pick, PoolNumber, pick, where_of
from dialer.errors import ValidationError
from dialer.sql import queries

_Q = queries("dialer.campaigns")
MAX_POOL = 1000
BODY_KEYS = {"items", "local_presence", "daily_cap"}
ITEM_KEYS = {"number", "retired"}

POOL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "items": {
            "type": "array",
            "maxItems": MAX_POOL,
            "items": {
                "type": "object",
                "required": ["number"],
                "properties": {
                    "number": {"type": "string", "description": "E.164, e.g. +13055550100"},
                    "retired": {"type": "boolean", "description": "kept, never presented"},
                },
            },
        },
        "local_presence": {"type": "boolean"},
        "daily_cap": {"type": ["integer", "null"], "minimum": 1},
    },
}


def day_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def parse_pool(body: dict[str, Any]) -> tuple[list[tuple[str, bool]], bool, int | None]:
    """(numbers with their retired flag, local_presence, daily_cap) from a PUT body."""
    for key in body:
        if key not in BODY_KEYS:
            raise ValidationError(f"unknown field {key!r}", field=key)
    items = body.get("items", [])
    if not isinstance(items, list) or len(items) > MAX_POOL:
        raise ValidationError(f"items must be a list of at most {MAX_POOL}", field="items")
    numbers: list[tuple[str, bool]] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"items[{i}]"
        if not isinstance(item, dict) or set(item) - ITEM_KEYS:
            raise ValidationError(f'{where} must be {{"number": ..., "retired": ...}}', field=where)
        number = model.FIELDS["caller_id"].parse(f"{where}.number", item.get("number"))
        if number is None:
            raise ValidationError(f"{where}.number is required", field=f"{where}.number")
        retired = item.get("retired", False)
        if not isinstance(retired, bool):
            raise ValidationError(
                f"{where}.retired must be true or false", field=f"{where}.retired"
            )
        if number in seen:
            raise ValidationError(
                f"{where}.number {number} is listed twice", field=f"{where}.number"
            )
        seen.add(number)
        numbers.append((number, retired))
    local = body.get("local_presence", False)
    if not isinstance(local, bool):
        raise ValidationError("local_presence must be true or false", field="local_presence")
    cap = body.get("daily_cap")
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
        raise ValidationError("daily_cap must be a whole number ≥ 1 or null", field="daily_cap")
    return numbers, local, cap


async def get_pool(
    conn: asyncpg.Connection, campaign_id: int, scope: int | None, *, now: datetime
) -> dict[str, Any]:
    campaign = await store.get(conn, campaign_id, scope)
    used = await used_today(conn, campaign_id, now)
    rows = await conn.fetch(_Q["caller_id_pool"], campaign_id)
    return {
        "campaign_id": campaign_id,
        "caller_id": campaign["caller_id"],
        "local_presence": campaign["local_presence"],
        "daily_cap": campaign["caller_id_daily_cap"],
        "items": [
            {
                "number": r["number"],
                "retired": r["retired_at"] is not None,
                "retired_at": r["retired_at"],
                "used_today": used.get(r["number"], 0),
            }
            for r in rows
        ],
    }


async def put_pool(
    conn: asyncpg.Connection,
    campaign_id: int,
    body: dict[str, Any],
    who: Principal,
    *,
    now: datetime,
) -> dict[str, Any]:
    """Replace the pool and its settings (audited); a number retired before keeps its date."""
    numbers, local, cap = parse_pool(body)
    async with conn.transaction():
        await store.get(conn, campaign_id, who.client_id)
        before = {
            r["number"]: r["retired_at"]
            for r in await conn.fetch(_Q["caller_id_pool"], campaign_id)
        }
        await conn.execute(_Q["clear_caller_id_pool"], campaign_id)
        for position, (number, retired) in enumerate(numbers):
            retired_at = (before.get(number) or now) if retired else None
            await conn.execute(_Q["add_caller_id"], campaign_id, number, position, retired_at, now)
        await conn.execute(_Q["set_caller_id_settings"], campaign_id, local, cap, now)
        details = {
            "numbers": [n for n, r in numbers if not r],
            "retired": [n for n, r in numbers if r],
            "removed": sorted(set(before) - {n for n, _ in numbers}),
            "local_presence": local,
            "daily_cap": cap,
        }
        await record(conn, who, "set_caller_ids", "campaign", campaign_id, details, now=now)
    return await get_pool(conn, campaign_id, who.client_id, now=now)


async def used_today(conn: asyncpg.Connection, campaign_id: int, now: datetime) -> dict[str, int]:
    rows = await conn.fetch(_Q["caller_ids_used_today"], campaign_id, day_start(now))
    return {r["caller_id"]: int(r["calls"]) for r in rows}


def pool_numbers(rows: list[Any]) -> list[PoolNumber]:
    return [
        PoolNumber(r["number"], where_of(r["number"]), r["retired_at"] is not None) for r in rows
    ]


async def load_pool(conn: asyncpg.Connection, campaign_id: int) -> list[PoolNumber]:
    return pool_numbers(await conn.fetch(_Q["caller_id_pool"], campaign_id))


async def pick_now(
    conn: asyncpg.Connection, campaign_id: int, scope: int | None, phone: Any, *, now: datetime
) -> dict[str, Any]:
    """Which caller ID a call to ``phone`` would present now, and why."""
    campaign = await store.get(conn, campaign_id, scope)
    callee = model.FIELDS["caller_id"].parse("phone", phone)
    if callee is None:
        raise ValidationError("phone is required (E.164, e.g. +13055550123)", field="phone")
    chosen: Pick = pick(
        await load_pool(conn, campaign_id),
        where_of(callee),
        default=campaign["caller_id"],
        local_presence=campaign["local_presence"],
        daily_cap=campaign["caller_id_daily_cap"],
        used_today=await used_today(conn, campaign_id, now),
    )
    return {"phone": callee, "caller_id": chosen.caller_id, "reason": chosen.reason}
