"""Lead lists as the floor uses them: switch a list off (its leads are not dialed, its
counts stay), reset it for another pass, and find leads by phone number.

A reset makes the list's leads whose last call ended with one of the given outcomes
callable now, with their attempt count restarted for the new pass; DNC, completed, callback
and held leads are never touched. It is audited and emits ``list.reset``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from dialer import audit
from dialer.auth.roles import Principal
from dialer.errors import NotFound, ValidationError
from dialer.leads.phones import Rejection, check_region, normalise_number
from dialer.outbox import enqueue
from dialer.sql import queries

_Q = queries("dialer.leads")
RESETTABLE = ("no_answer", "busy", "machine", "failed", "abandoned", "unknown")


async def get_list(conn: asyncpg.Connection, list_id: int, scope: int | None) -> dict[str, Any]:
    row = await conn.fetchrow(_Q["get_list"], list_id, scope)
    if row is None:
        raise NotFound(f"list {list_id} does not exist")
    return dict(row)


async def set_active(
    conn: asyncpg.Connection, list_id: int, body: Any, who: Principal, *, now: datetime
) -> dict[str, Any]:
    """``{"active": bool}``: an inactive list's leads are skipped by the hopper."""
    if (
        not isinstance(body, dict)
        or set(body) != {"active"}
        or not isinstance(body["active"], bool)
    ):
        raise ValidationError('send {"active": true|false}', field="active")
    async with conn.transaction():
        found = await get_list(conn, list_id, who.client_id)
        await conn.execute(_Q["set_list_active"], list_id, body["active"])
        details = {"active": body["active"]}
        await audit.record(conn, who, "list.active", "lead_list", list_id, details, now=now)
    return found | {"active": body["active"]}


def parse_outcomes(body: Any) -> list[str]:
    outcomes = body.get("outcomes") if isinstance(body, dict) else None
    if isinstance(body, dict) and set(body) - {"outcomes"}:
        field = sorted(set(body) - {"outcomes"})[0]
        raise ValidationError(f"unknown field {field!r}", field=field)
    if not isinstance(outcomes, list) or not outcomes:
        raise ValidationError('send {"outcomes": ["no_answer", ...]}', field="outcomes")
    for outcome in outcomes:
        if outcome not in RESETTABLE:
            raise ValidationError(
                f"outcomes may be {', '.join(RESETTABLE)}; not {outcome!r}", field="outcomes"
            )
    return sorted(set(outcomes))


async def reset_list(
    conn: asyncpg.Connection, list_id: int, body: Any, who: Principal, *, now: datetime
) -> dict[str, Any]:
    outcomes = parse_outcomes(body)
    async with conn.transaction():
        found = await get_list(conn, list_id, who.client_id)
        done = await conn.execute(_Q["reset_list"], list_id, outcomes, now)
        count = int(done.split()[-1])
        data = {"list_id": list_id, "campaign_id": found["campaign_id"], "outcomes": outcomes,
                "leads": count, "by": who.actor}  # fmt: skip
        await audit.record(conn, who, "list.reset", "lead_list", list_id, data, now=now)
        await enqueue(
            conn, "list.reset", client_id=found["client_id"], campaign_id=found["campaign_id"],
            lead_id=None, now=now, data=data,
        )  # fmt: skip
    return {"list_id": list_id, "outcomes": outcomes, "reset": count}


async def find_by_phone(
    conn: asyncpg.Connection, phone: str, region: str | None, scope: int | None
) -> tuple[str, list[dict[str, Any]]]:
    """The leads with this number (typed in any format; ``region`` for national formats)."""
    try:
        country = check_region(region)
    except ValueError as exc:
        raise ValidationError(str(exc), field="default_region") from None
    number = normalise_number(phone, country)
    if isinstance(number, Rejection):
        raise ValidationError(f"phone: {number.detail}", field="phone")
    rows = await conn.fetch(_Q["leads_by_phone"], number.e164, scope)
    return number.e164, [dict(r) for r in rows]


async def attempts_of(conn: asyncpg.Connection, lead_id: int) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(_Q["lead_attempts"], lead_id)]
