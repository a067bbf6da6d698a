"""Subscriptions and deliveries as the API and CLI see them.

Every operation takes the caller's client scope (``None`` = all clients). A subscription
with no client receives the events of every client and is visible only to unscoped
tokens; another client's subscription or delivery is reported as not found.
The secret is encrypted before it is stored and never read back here; a rotated-out secret
is kept (encrypted) for a grace period, during which deliveries carry both signatures.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from dialer.audit import record
from dialer.auth.roles import Principal
from dialer.errors import Conflict, NotFound, ValidationError
from dialer.secrets import SecretBox
from dialer.sql import queries
from dialer.webhooks.destinations import DEFAULT, BlockedNetworks, ip_literal
from dialer.webhooks.outbox import EVENT_TYPES, WILDCARD, envelope

_Q = queries("dialer.webhooks")
PAGE_MAX = 500
DELIVERY_STATES = ("pending", "delivered", "dead", "cancelled")
SECRET_MIN, SECRET_MAX = 16, 200
FIELDS = {"url", "events", "secret", "client_id"}
EDITABLE = ("url", "events", "active")
ROTATE_FIELDS = {"secret", "grace_hours"}
GRACE_DEFAULT_H, GRACE_MAX_H = 24, 168


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` + 43 URL-safe characters (32 random bytes)."""
    return "whsec_" + secrets.token_urlsafe(32)


def _parse_url(raw: Any, blocked: BlockedNetworks) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError(
            "url is required: the https:// address to POST events to", field="url"
        )
    url = raw.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValidationError("url is not a valid URL", field="url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("url must be an http:// or https:// URL with a host", field="url")
    if parts.username or parts.password:
        raise ValidationError(
            "url must not carry credentials: verify requests with the signing secret",
            field="url",
        )
    if len(url) > 2000:
        raise ValidationError("url must be at most 2000 characters", field="url")
    _check_destination(url, blocked)
    return url


def _check_destination(url: str, blocked: BlockedNetworks) -> None:
    """An IP-literal host in a blocked network is refused now; names are not resolved here
    (what they resolve to may change): the sender checks them at every delivery."""
    host = ip_literal(url)
    if host is None:
        return
    try:
        network = blocked.blocking(host)
    except ValueError:
        raise ValidationError(f"url host {host} is not a valid IP address", field="url") from None
    if network is not None:
        raise ValidationError(
            f"url points at a blocked network ({network}): this deployment sends no webhooks "
            "there (DIALER_WEBHOOK_BLOCKED_NETWORKS); use the CRM's allowed address",
            field="url",
        )


def _parse_events(raw: Any) -> list[str]:
    if not isinstance(raw, list) or not raw or not all(isinstance(e, str) for e in raw):
        raise ValidationError(
            'events must be a non-empty list of event types (or ["*"])', field="events"
        )
    events = sorted({e.strip() for e in raw})
    unknown = [e for e in events if e != WILDCARD and e not in EVENT_TYPES]
    if unknown:
        raise ValidationError(
            f"unknown event type {unknown[0]!r}; known: {', '.join(EVENT_TYPES)} or *",
            field="events",
        )
    return events


def _parse_secret(raw: Any) -> str:
    if raw is None:
        return new_secret()
    if (
        not isinstance(raw, str)
        or not SECRET_MIN <= len(raw) <= SECRET_MAX
        or raw != raw.strip()
        or not raw.isprintable()
    ):
        raise ValidationError(
            f"secret must be {SECRET_MIN}-{SECRET_MAX} printable characters without "
            "surrounding spaces (omit it to have one generated)",
            field="secret",
        )
    return raw


def _owner(raw: Any, who: Principal) -> int | None:
    """The subscription's client: the token's own for a scoped token, else as asked."""
    if raw is None:
        return who.client_id
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValidationError("client_id must be an integer", field="client_id")
    if not who.sees_client(raw):
        raise NotFound(f"client {raw} does not exist")
    return raw


def parse_subscription(
    body: dict[str, Any], who: Principal, *, blocked: BlockedNetworks = DEFAULT
) -> dict[str, Any]:
    """Validated fields of a new subscription; ``secret`` generated when not given.
    ``blocked``: the networks its URL may not point at (``DIALER_WEBHOOK_BLOCKED_NETWORKS``)."""
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", field=unknown[0])
    return {
        "url": _parse_url(body.get("url"), blocked),
        "events": _parse_events(body.get("events")),
        "secret": _parse_secret(body.get("secret")),
        "client_id": _owner(body.get("client_id"), who),
    }


def present_subscription(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    """A subscription as the API shows it: never the secret, not even encrypted."""
    return {
        "id": row["id"],
        "client_id": row["client_id"],
        "url": row["url"],
        "events": list(row["events"]),
        "active": row["active"],
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "secret_rotated_at": row["secret_rotated_at"],
        "previous_secret_expires_at": row["previous_secret_expires_at"],
    }


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


def parse_changes(body: dict[str, Any], *, blocked: BlockedNetworks = DEFAULT) -> dict[str, Any]:
    """Validated fields of a PATCH: any of ``url``, ``events`` (as at creation), ``active``."""
    if "secret" in body:
        raise ValidationError(
            "secret cannot be changed with PATCH: use POST /api/v1/webhooks/{id}/rotate-secret "
            "(the old secret keeps signing for a grace period)",
            field="secret",
        )
    if "client_id" in body:
        raise ValidationError(
            "client_id cannot be changed: subscribe for the other client and delete this one",
            field="client_id",
        )
    unknown = sorted(set(body) - set(EDITABLE))
    if unknown:
        raise ValidationError(
            f"unknown field {unknown[0]!r}; a subscription's {', '.join(EDITABLE)} can be changed",
            field=unknown[0],
        )
    if not body:
        raise ValidationError(f"nothing to change: send {', '.join(EDITABLE)}", field="body")
    changes: dict[str, Any] = {}
    if "url" in body:
        changes["url"] = _parse_url(body["url"], blocked)
    if "events" in body:
        changes["events"] = _parse_events(body["events"])
    if "active" in body:
        if not isinstance(body["active"], bool):
            raise ValidationError(
                "active must be true (deliver) or false (pause: events are held)", field="active"
            )
        changes["active"] = body["active"]
    return changes


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


def _parse_grace(raw: Any) -> float:
    if raw is None:
        return float(GRACE_DEFAULT_H)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= GRACE_MAX_H:
        raise ValidationError(
            f"grace_hours must be a number from 0 to {GRACE_MAX_H}: how long the old secret "
            f"keeps signing too (default {GRACE_DEFAULT_H}; 0 drops it at once)",
            field="grace_hours",
        )
    return float(raw)


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
    secret = _parse_secret(body.get("secret"))
    grace = _parse_grace(body.get("grace_hours"))
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


def present_delivery(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    """A delivery as the API shows it; with ``event`` when the row carries the payload."""
    pending = row["state"] == "pending"
    data: dict[str, Any] = {
        "id": row["id"],
        "subscription_id": row["subscription_id"],
        "event_id": row["event_id"],
        "event_type": row["event_type"],
        "event_created_at": row["event_created_at"],
        "lead_id": row["lead_id"],
        "state": row["state"],
        "in_flight": pending and row["claimed_by"] is not None,
        "attempts": row["attempts"],
        "next_attempt_at": row["next_attempt_at"] if pending else None,
        "last_attempt_at": row["last_attempt_at"],
        "last_status": row["last_status"],
        "last_error": row["last_error"],
        "delivered_at": row["delivered_at"],
        "finished_at": row["finished_at"],
        "replays": row["replays"],
        "created_at": row["created_at"],
    }
    if "payload" in row:
        data["event"] = envelope(
            event_id=row["event_id"],
            event_type=row["event_type"],
            created_at=row["event_created_at"],
            client_id=row["event_client_id"],
            data=row["payload"],
        )
    return data


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
