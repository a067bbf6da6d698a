"""``/api/v1/webhooks``: CRM subscriptions (edit, pause, rotate the secret), a test send,
deliveries and dead-letter replay."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from dialer.api.paging import PAGE_PARAMS, page_of, page_response, page_schema
from dialer.api.registry import Param, Routes
from dialer.auth.roles import Permission
from dialer.errors import Conflict
from dialer.http.jsonio import json_response, read_object
from dialer.http.keys import CLOCK, POOL, SETTINGS, WEBHOOK_WORKER, principal
from dialer.outbox import EVENT_TYPES, WILDCARD
from dialer.secrets import SecretBox, SecretError, secret_box
from dialer.webhooks import deliveries, presenters, subscriptions, validation
from dialer.webhooks.destinations import BlockedNetworks, internal_destination
from dialer.webhooks.sender import new_session, send_test

routes = Routes("webhooks", "Signed event deliveries to the CRM, with retries and replay")

ID = r"{id:\d+}"
SUBSCRIPTION_FIELDS: dict[str, Any] = {
    "id": {"type": "integer"},
    "client_id": {"type": ["integer", "null"], "description": "null: every client"},
    "url": {"type": "string"},
    "events": {"type": "array", "items": {"type": "string"}},
    "active": {"type": "boolean"},
    "created_by": {"type": ["integer", "null"]},
    "created_at": {"type": "string", "format": "date-time"},
    "secret_rotated_at": {"type": ["string", "null"], "format": "date-time"},
    "previous_secret_expires_at": {
        "type": ["string", "null"],
        "format": "date-time",
        "description": "until then deliveries are signed under the replaced secret too",
    },
}
SUBSCRIPTION = {"type": "object", "properties": SUBSCRIPTION_FIELDS}
DELIVERY = {
    "type": "object",
    "description": "one event for one subscription, with its state; to an internal address "
    "(loopback, private, link-local) last_status is null and last_error a fixed sentence "
    "unless the token is an admin's for every client",
}


def _id(request: web.Request) -> int:
    return int(request.match_info["id"])


def _box(request: web.Request) -> SecretBox:
    return secret_box(request.app[SETTINGS])


def _blocked(request: web.Request) -> BlockedNetworks:
    return BlockedNetworks(request.app[SETTINGS].webhook_blocked_networks)


def _wake_worker(request: web.Request) -> None:
    worker = request.app.get(WEBHOOK_WORKER)
    if worker is not None:
        worker.wake()


@routes.post(
    "/api/v1/webhooks",
    summary="Subscribe a URL to events; the response shows the signing secret, once",
    permission=Permission.WEBHOOKS_WRITE,
    body={
        "type": "object",
        "required": ["url", "events"],
        "properties": {
            "url": {"type": "string", "description": "http(s) URL the events are POSTed to"},
            "events": {
                "type": "array",
                "items": {"enum": [*EVENT_TYPES, WILDCARD]},
                "description": "event types, or * for all (compliance.blocked only by name)",
            },
            "secret": {
                "type": "string",
                "description": "HMAC key, 16-200 characters; generated when omitted",
            },
            "client_id": {
                "type": ["integer", "null"],
                "description": "only this client's events; omitted: the token's client (or all)",
            },
        },
    },
    status=201,
    response={
        "type": "object",
        "properties": {**SUBSCRIPTION_FIELDS, "secret": {"type": "string"}},
    },
)
async def create_webhook(request: web.Request) -> web.Response:
    body = await read_object(request)
    async with request.app[POOL].acquire() as conn:
        row, secret = await subscriptions.create_subscription(
            conn,
            body,
            principal(request),
            _box(request),
            now=request.app[CLOCK].now(),
            blocked=_blocked(request),
        )
    return json_response({**presenters.present_subscription(row), "secret": secret}, status=201)


@routes.get(
    "/api/v1/webhooks",
    summary="List subscriptions (never their secrets)",
    permission=Permission.WEBHOOKS_READ,
    query=PAGE_PARAMS,
    response=page_schema(SUBSCRIPTION),
)
async def list_webhooks(request: web.Request) -> web.Response:
    page = page_of(request, max_limit=subscriptions.PAGE_MAX)
    async with request.app[POOL].acquire() as conn:
        rows = await subscriptions.list_subscriptions(
            conn, principal(request).client_id, after=page.after, limit=page.limit
        )
    return page_response(rows, page, presenters.present_subscription)


@routes.get(
    f"/api/v1/webhooks/{ID}",
    summary="One subscription",
    permission=Permission.WEBHOOKS_READ,
    response=SUBSCRIPTION,
)
async def get_webhook(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        row = await subscriptions.get_subscription(conn, _id(request), principal(request).client_id)
    return json_response(presenters.present_subscription(row))


@routes.patch(
    f"/api/v1/webhooks/{ID}",
    summary="Change the URL or events, or pause/resume (paused: events are held, not lost)",
    permission=Permission.WEBHOOKS_WRITE,
    body={
        "type": "object",
        "properties": {
            "url": {"type": "string", "description": "validated as at creation"},
            "events": {"type": "array", "items": {"enum": [*EVENT_TYPES, WILDCARD]}},
            "active": {
                "type": "boolean",
                "description": "false: hold deliveries until set true again",
            },
        },
        "additionalProperties": False,
    },
    response=SUBSCRIPTION,
)
async def update_webhook(request: web.Request) -> web.Response:
    body = await read_object(request)
    async with request.app[POOL].acquire() as conn:
        row = await subscriptions.update_subscription(
            conn,
            _id(request),
            body,
            principal(request),
            now=request.app[CLOCK].now(),
            blocked=_blocked(request),
        )
    if row["active"]:
        _wake_worker(request)  # a resumed subscription's held deliveries go out now
    return json_response(presenters.present_subscription(row))


@routes.post(
    f"/api/v1/webhooks/{ID}/rotate-secret",
    summary="Replace the signing secret (shown once); the old one also signs for a grace period",
    permission=Permission.WEBHOOKS_WRITE,
    body={
        "type": "object",
        "properties": {
            "secret": {
                "type": "string",
                "description": "the new HMAC key, 16-200 characters; generated when omitted",
            },
            "grace_hours": {
                "type": "number",
                "minimum": 0,
                "maximum": validation.GRACE_MAX_H,
                "description": "how long deliveries also carry a signature under the old "
                f"secret (default {validation.GRACE_DEFAULT_H}; 0: stop using it at once)",
            },
        },
    },
    response={
        "type": "object",
        "properties": {**SUBSCRIPTION_FIELDS, "secret": {"type": "string"}},
    },
)
async def rotate_webhook_secret(request: web.Request) -> web.Response:
    body = await read_object(request) if (await request.read()).strip() else {}
    async with request.app[POOL].acquire() as conn:
        row, secret = await subscriptions.rotate_secret(
            conn,
            _id(request),
            body,
            principal(request),
            _box(request),
            now=request.app[CLOCK].now(),
        )
    return json_response({**presenters.present_subscription(row), "secret": secret})


@routes.delete(
    f"/api/v1/webhooks/{ID}",
    summary="Unsubscribe: pending deliveries are cancelled; the history is kept",
    permission=Permission.WEBHOOKS_WRITE,
    status=204,
)
async def delete_webhook(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        await subscriptions.delete_subscription(
            conn, _id(request), principal(request), now=request.app[CLOCK].now()
        )
    return web.Response(status=204)


@routes.post(
    f"/api/v1/webhooks/{ID}/test",
    summary="Send a signed webhook.test event now and report the receiver's answer",
    permission=Permission.WEBHOOKS_WRITE,
    response={
        "type": "object",
        "properties": {
            "delivered": {
                "type": ["boolean", "null"],
                "description": "null: sent to an internal address, not reported to this token",
            },
            "status": {"type": ["integer", "null"]},
            "error": {"type": ["string", "null"]},
            "duration_ms": {"type": ["number", "null"]},
            "event": {"type": "object", "description": "the event that was sent"},
        },
    },
)
async def test_webhook(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        row = await subscriptions.get_subscription(conn, _id(request), principal(request).client_id)
    now = request.app[CLOCK].now()
    previous = subscriptions.previous_ciphertext(row, now)
    try:
        secret = _box(request).decrypt(row["secret_ciphertext"])
        previous_secret = None if previous is None else _box(request).decrypt(previous)
    except SecretError as exc:
        raise Conflict(str(exc), field="secret") from None
    worker = request.app.get(WEBHOOK_WORKER)
    session = worker.session if worker is not None else new_session(blocked=_blocked(request))
    try:
        result = await send_test(
            session,
            url=row["url"],
            secret=secret,
            subscription_id=row["id"],
            client_id=row["client_id"],
            now=now,
            blocked=_blocked(request),
            previous_secret=previous_secret,
        )
    finally:
        if worker is None:
            await session.close()
    refused = "blocked network" in (result["error"] or "")  # the policy's own answer
    if not refused and await _unreported(request, row["url"]):
        result = {**result, **UNREPORTED}
    return json_response(result)


async def _unreported(request: web.Request, url: str) -> bool:
    """What answered at ``url`` is not for this token: an internal address, and a token
    other than an admin's for every client (the operator)."""
    who = principal(request)
    operator = who.role == "admin" and who.client_id is None
    if operator:
        return False
    try:
        async with asyncio.timeout(RESOLVE_S):
            return await internal_destination(url)
    except TimeoutError:  # a name that does not resolve in time is not known to be public
        return True


async def _present_deliveries(
    request: web.Request, conn: Any, subscription_id: int, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Deliveries as the API shows them; to an internal address, for a tenant's token,
    without the receiver's status or error (401, "connection refused" and 200 would
    otherwise tell a port scanner what listens there)."""
    out = [presenters.present_delivery(r) for r in rows]
    if not out:
        return out
    row = await subscriptions.get_subscription(conn, subscription_id, None)
    if await _unreported(request, row["url"]):
        out = [{**d, "last_status": None, "last_error": HIDDEN_ANSWER} for d in out]
    return out


RESOLVE_S = 2.0
# A test send to an internal address reports nothing a tenant could scan ports with.
HIDDEN_ANSWER = (
    "the answer of an internal address (loopback, private, link-local) is shown only to "
    "an admin token not limited to a client: check the receiver's log"
)
UNREPORTED = {
    "delivered": None,
    "status": None,
    "duration_ms": None,
    "error": f"sent; {HIDDEN_ANSWER}",
}


@routes.get(
    f"/api/v1/webhooks/{ID}/deliveries",
    summary="Deliveries of a subscription: pending, delivered and dead letters",
    permission=Permission.WEBHOOKS_READ,
    query=(
        Param(
            "state",
            "only deliveries in this state",
            {"enum": list(deliveries.DELIVERY_STATES)},
        ),
        *PAGE_PARAMS,
    ),
    response=page_schema(DELIVERY),
)
async def list_webhook_deliveries(request: web.Request) -> web.Response:
    page = page_of(request, max_limit=subscriptions.PAGE_MAX)
    async with request.app[POOL].acquire() as conn:
        rows = await deliveries.list_deliveries(
            conn,
            _id(request),
            principal(request).client_id,
            state=request.query.get("state") or None,
            after=page.after,
            limit=page.limit,
        )
        shown = await _present_deliveries(request, conn, _id(request), rows)
    return page_response(shown, page, lambda d: d)


@routes.get(
    f"/api/v1/webhooks/deliveries/{ID}",
    summary="One delivery with the event it carries",
    permission=Permission.WEBHOOKS_READ,
    response=DELIVERY,
)
async def get_webhook_delivery(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        row = await deliveries.get_delivery(conn, _id(request), principal(request).client_id)
        (shown,) = await _present_deliveries(request, conn, row["subscription_id"], [row])
    return json_response(shown)


@routes.post(
    f"/api/v1/webhooks/deliveries/{ID}/replay",
    summary="Send a dead-lettered (or delivered) event again, with a fresh retry window",
    permission=Permission.WEBHOOKS_WRITE,
    response=DELIVERY,
)
async def replay_webhook_delivery(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        row = await deliveries.replay_delivery(
            conn, _id(request), principal(request), now=request.app[CLOCK].now()
        )
        (shown,) = await _present_deliveries(request, conn, row["subscription_id"], [row])
    _wake_worker(request)
    return json_response(shown)
