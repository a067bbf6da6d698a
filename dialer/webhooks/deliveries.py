"""Webhook deliveries as the API sees them: list, get, replay (a dead one sent again).

Scoped like subscriptions: another client's delivery is reported as not found."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from dialer.audit import record
from dialer.auth.roles import Principal
from dialer.errors import Conflict, NotFound, ValidationError
from dialer.sql import queries
from dialer.webhooks.subscriptions import PAGE_MAX, get_subscription

_Q = queries("dialer.webhooks")
DELIVERY_STATES = ("pending", "delivered", "dead", "cancelled")


async def list_deliveries(
    conn: asyncpg.Connection,
    subscription_id: int,
    scope: int | None,
    *,
    state: str | None = None,
    after: int = 0,
    limit: int = 100,
) -> list[dict[str, Any]]:
    if state is not None and state not in DELIVERY_STATES:
        raise ValidationError(f"state must be one of {', '.join(DELIVERY_STATES)}", field="state")
    await get_subscription(conn, subscription_id, scope)
    rows = await conn.fetch(
        _Q["list_deliveries"], subscription_id, state, after, min(limit, PAGE_MAX)
    )
    return [dict(r) for r in rows]


async def get_delivery(
    conn: asyncpg.Connection, delivery_id: int, scope: int | None
) -> dict[str, Any]:
    row = await conn.fetchrow(_Q["get_delivery"], delivery_id, scope)
    if row is None:
        raise NotFound(f"webhook delivery {delivery_id} does not exist")
    return dict(row)


async def replay_delivery(
    conn: asyncpg.Connection, delivery_id: int, who: Principal, *, now: datetime
) -> dict[str, Any]:
    """Send a dead (or delivered) delivery again: a fresh retry window starting now."""
    async with conn.transaction():
        current = await conn.fetchrow(_Q["get_delivery_for_update"], delivery_id, who.client_id)
        if current is None:
            raise NotFound(f"webhook delivery {delivery_id} does not exist")
        if current["state"] == "pending":
            raise Conflict(f"delivery {delivery_id} is still pending", field="state")
        if current["state"] == "cancelled":
            raise Conflict(
                f"delivery {delivery_id} was cancelled with its subscription", field="state"
            )
        await conn.execute(_Q["replay_delivery"], delivery_id, now)
        await record(
            conn,
            who,
            "replay",
            "webhook_delivery",
            delivery_id,
            {"from_state": current["state"], "subscription_id": current["subscription_id"]},
            now=now,
        )
    return await get_delivery(conn, delivery_id, who.client_id)
