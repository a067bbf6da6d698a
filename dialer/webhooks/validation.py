"""Checking what a caller sends for a webhook subscription: its URL (and the destination
policy: no private or blocked networks), events, secret, owner, edits and grace period."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from dialer.auth.roles import Principal
from dialer.errors import NotFound, ValidationError
from dialer.outbox import EVENT_TYPES, WILDCARD
from dialer.webhooks.destinations import DEFAULT, BlockedNetworks, ip_literal

SECRET_MIN, SECRET_MAX = 16, 200
FIELDS = {"url", "events", "secret", "client_id"}
EDITABLE = ("url", "events", "active")
ROTATE_FIELDS = {"secret", "grace_hours"}
GRACE_DEFAULT_H, GRACE_MAX_H = 24, 168


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` + 43 URL-safe characters (32 random bytes)."""
    return "whsec_" + secrets.token_urlsafe(32)


def parse_url(raw: Any, blocked: BlockedNetworks) -> str:
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


def parse_events(raw: Any) -> list[str]:
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


def parse_secret(raw: Any) -> str:
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


def owner(raw: Any, who: Principal) -> int | None:
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
        "url": parse_url(body.get("url"), blocked),
        "events": parse_events(body.get("events")),
        "secret": parse_secret(body.get("secret")),
        "client_id": owner(body.get("client_id"), who),
    }


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
        changes["url"] = parse_url(body["url"], blocked)
    if "events" in body:
        changes["events"] = parse_events(body["events"])
    if "active" in body:
        if not isinstance(body["active"], bool):
            raise ValidationError(
                "active must be true (deliver) or false (pause: events are held)", field="active"
            )
        changes["active"] = body["active"]
    return changes


def parse_grace(raw: Any) -> float:
    if raw is None:
        return float(GRACE_DEFAULT_H)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= GRACE_MAX_H:
        raise ValidationError(
            f"grace_hours must be a number from 0 to {GRACE_MAX_H}: how long the old secret "
            f"keeps signing too (default {GRACE_DEFAULT_H}; 0 drops it at once)",
            field="grace_hours",
        )
    return float(raw)
