"""Webhook subscriptions: create, change, rotate the secret, list, get, delete.

Every operation takes the caller's client scope (``None`` = all clients). A subscription
with no client receives the events of every client and is visible only to unscoped
tokens; another client's subscription or delivery is reported as not found.
The secret is encrypted before it is stored and never read back here; a rotated-out secret
is kept (encrypted) for a grace period, during which deliveries carry both signatures.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg

from dialer.audit import record
from dialer.auth.roles import Principal
from dialer.errors import NotFound, ValidationError
from dialer.secrets import SecretBox
from dialer.sql import queries
from dialer.webhooks.destinations import DEFAULT, BlockedNetworks
from dialer.webhooks.validation import (
    EDITABLE,
    ROTATE_FIELDS,
    parse_changes,
    parse_grace,
    parse_secret,
    parse_subscription,
)

_Q = queries("dialer.webhooks")
PAGE_MAX = 500


def previous_ciphertext(row: asyncpg.Record | dict[str, Any], now: datetime) -> bytes | None:
    """The rotated-out secret (encrypted) while its grace period lasts, else ``None``."""
    expires = row["previous_secret_expires_at"]
    if expires is None or expires <= now or row["previous_secret_ciphertext"] is None:
        return None
    return bytes(row["previous_secret_ciphertext"])


async def create_subscription(
    conn: asyncpg.Connection,
    body: dict[str, Any],
    who: Principal,
    box: SecretBox,
    *,
    now: datetime,
    blocked: BlockedNetworks = DEFAULT,
) -> tuple[dict[str, Any], str]:
    """Store a subscription; return (its row, the plaintext secret to show once)."""
    values = parse_subscription(body, who, blocked=blocked)
    if values["client_id"] is not None and not await conn.fetchval(
        "SELECT 1 FROM clients WHERE id = $1", values["client_id"]
    ):
        raise NotFound(f"client {values['client_id']} does not exist")
    async with conn.transaction():
        row = dict(
            await conn.fetchrow(
                _Q["insert_subscription"],
                values["client_id"],
                values["url"],
                values["events"],
                box.encrypt(values["secret"]),
                who.token_id,
                now,
            )
        )
        await record(
            conn,
            who,
            "create",
            "webhook_subscription",
            row["id"],
            {"url": row["url"], "events": row["events"]},
            now=now,
        )
    return row, values["secret"]


async def update_subscription(
    conn: asyncpg.Connection,
    subscription_id: int,
    body: dict[str, Any],
    who: Principal,
    *,
    now: datetime,
    blocked: BlockedNetworks = DEFAULT,
) -> dict[str, Any]:
    """Change a subscription's URL, event list or ``active``; audited with old and new values.

    Pausing (``active: false``) holds new deliveries instead of dropping them; resuming
    gives the held ones a fresh retry window. A new URL or event list applies to every
    delivery sent from now on, pending ones included.
    """
    changes = parse_changes(body, blocked=blocked)
    async with conn.transaction():
        current = await conn.fetchrow(
            _Q["get_subscription_for_update"], subscription_id, who.client_id
        )
        if current is None:
            raise NotFound(f"webhook subscription {subscription_id} does not exist")
        row = dict(
            await conn.fetchrow(
                _Q["update_subscription"],
                subscription_id,
                changes.get("url"),
                changes.get("events"),
                changes.get("active"),
            )
        )
        changed = {
            name: {"from": _plain(current[name]), "to": _plain(row[name])}
            for name in EDITABLE
            if _plain(current[name]) != _plain(row[name])
        }
        if changed.get("active", {}).get("to") is True:
            await conn.execute(_Q["resume_deliveries"], subscription_id, now)
        if changed:
            await record(
                conn, who, "update", "webhook_subscription", subscription_id, changed, now=now
            )
    return row


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else value


async def rotate_secret(
    conn: asyncpg.Connection,
    subscription_id: int,
    body: dict[str, Any],
    who: Principal,
    box: SecretBox,
    *,
    now: datetime,
) -> tuple[dict[str, Any], str]:
    """Give a subscription a new secret (``secret`` as at creation, else generated); return
    (its row, the plaintext new secret to show once).

    The replaced secret keeps signing too for ``grace_hours`` (default 24, 0-168) so the
    receiver can switch without refusing a request; a secret replaced before is dropped.
    """
    unknown = sorted(set(body) - ROTATE_FIELDS)
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", field=unknown[0])
    secret = parse_secret(body.get("secret"))
    grace = parse_grace(body.get("grace_hours"))
    expires = now + timedelta(hours=grace) if grace > 0 else None
    async with conn.transaction():
        row = await conn.fetchrow(
            _Q["rotate_secret"], subscription_id, box.encrypt(secret), now, expires, who.client_id
        )
        if row is None:
            raise NotFound(f"webhook subscription {subscription_id} does not exist")
        await record(
            conn,
            who,
            "rotate_secret",
            "webhook_subscription",
            subscription_id,
            {
                "generated": body.get("secret") is None,
                "grace_hours": grace,
                "previous_secret_expires_at": expires.isoformat() if expires else None,
            },
            now=now,
        )
    return dict(row), secret


async def list_subscriptions(
    conn: asyncpg.Connection, scope: int | None, *, after: int = 0, limit: int = 100
) -> list[dict[str, Any]]:
    rows = await conn.fetch(_Q["list_subscriptions"], scope, after, min(limit, PAGE_MAX))
    return [dict(r) for r in rows]


async def get_subscription(
    conn: asyncpg.Connection, subscription_id: int, scope: int | None
) -> dict[str, Any]:
    row = await conn.fetchrow(_Q["get_subscription"], subscription_id, scope)
    if row is None:
        raise NotFound(f"webhook subscription {subscription_id} does not exist")
    return dict(row)


async def delete_subscription(
    conn: asyncpg.Connection, subscription_id: int, who: Principal, *, now: datetime
) -> None:
    """Stop sending to a subscription; its pending deliveries are cancelled, history kept."""
    async with conn.transaction():
        if await conn.fetchval(_Q["delete_subscription"], subscription_id, who.client_id, now):
            await conn.execute(_Q["cancel_pending_deliveries"], subscription_id, now)
            await record(conn, who, "delete", "webhook_subscription", subscription_id, {}, now=now)
        else:
            raise NotFound(f"webhook subscription {subscription_id} does not exist")
