"""One signed HTTP POST of one event to one subscription's URL.

Shared by the delivery workers and ``POST /api/v1/webhooks/{id}/test``. Never raises for
network trouble: every attempt ends in an ``Outcome`` that ``retry.decide`` can judge.
Redirects are not followed (the signed body goes only where the subscription says), and
nothing is sent to a blocked network (``destinations.py``): an IP-literal URL is checked
here before the request, a name by the session's resolver each time it is resolved.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any
from uuid import uuid4

import aiohttp

from dialer import __version__
from dialer.outbox import TEST_EVENT_TYPE, encode, envelope
from dialer.webhooks import signing
from dialer.webhooks.destinations import (
    DEFAULT,
    BlockedDestination,
    BlockedNetworks,
    GuardedResolver,
)
from dialer.webhooks.retry import Outcome, describe

USER_AGENT = f"dialer-webhooks/{__version__}"
DELIVERY_ID_HEADER = "X-Dialer-Delivery-Id"
_DRAIN_LIMIT = 1024 * 1024  # response bytes read to keep the connection reusable


def new_session(
    *,
    blocked: BlockedNetworks = DEFAULT,
    timeout_s: float = 10.0,
    connect_timeout_s: float = 5.0,
    limit: int = 100,
) -> aiohttp.ClientSession:
    """A pooled client session with timeouts whose lookups never yield an address in a
    ``blocked`` network (call inside the running event loop)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(
            limit=limit,
            limit_per_host=limit,
            ttl_dns_cache=300,
            resolver=GuardedResolver(blocked),
        ),
        timeout=aiohttp.ClientTimeout(total=timeout_s, connect=connect_timeout_s),
        headers={"User-Agent": USER_AGENT},
        raise_for_status=False,
    )


def headers_for(
    *,
    secret: str,
    body: bytes,
    event_id: str,
    event_type: str,
    timestamp: int,
    delivery_id: int | None = None,
    previous_secret: str | None = None,
) -> dict[str, str]:
    """The request headers of one attempt, signature included.

    ``previous_secret``: the secret a rotation replaced, still in its grace period; the
    header then carries a second ``v1=`` under it, so a receiver that verifies with either
    secret accepts the request.
    """
    signature = signing.sign(secret, timestamp, body)
    if previous_secret is not None:
        signature += f",v1={signing.compute(previous_secret, timestamp, body)}"
    headers = {
        "Content-Type": "application/json",
        signing.SIGNATURE_HEADER: signature,
        signing.EVENT_ID_HEADER: event_id,
        signing.EVENT_TYPE_HEADER: event_type,
    }
    if delivery_id is not None:
        headers[DELIVERY_ID_HEADER] = str(delivery_id)
    return headers


async def _drain(response: aiohttp.ClientResponse) -> None:
    read = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        read += len(chunk)
        if read > _DRAIN_LIMIT:
            break


async def post(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    blocked: BlockedNetworks,
    timeout: aiohttp.ClientTimeout | None = None,
) -> Outcome:
    """POST ``body``; the outcome is a status, or the reason there was none.

    A blocked destination is an error outcome (retried like a connection error: an admin
    may change the policy) and nothing is sent. ``session`` should come from
    ``new_session(blocked=...)``, whose resolver checks names; IP literals are checked here.
    """
    refused = blocked.check_url(url)
    if refused is not None:
        return Outcome(error=refused)
    try:
        async with session.post(
            url, data=body, headers=headers, allow_redirects=False, timeout=timeout
        ) as response:
            await _drain(response)
            return Outcome(status=response.status, retry_after=response.headers.get("Retry-After"))
    except TimeoutError:
        return Outcome(error="timeout")
    except aiohttp.InvalidURL:
        return Outcome(error="invalid url")
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, BlockedDestination):
            return Outcome(error=str(exc.os_error))
        return Outcome(error=f"connection failed: {exc.os_error.strerror or type(exc).__name__}")
    except (aiohttp.ClientError, asyncio.IncompleteReadError, OSError) as exc:
        return Outcome(error=f"connection error: {type(exc).__name__}")


async def send_test(
    session: aiohttp.ClientSession,
    *,
    url: str,
    secret: str,
    subscription_id: int,
    client_id: int | None,
    now: datetime,
    blocked: BlockedNetworks,
    previous_secret: str | None = None,
) -> dict[str, Any]:
    """Send a signed ``webhook.test`` event now (also under ``previous_secret`` during a
    rotation's grace period); report what the receiver answered."""
    event = envelope(
        event_id=uuid4(),
        event_type=TEST_EVENT_TYPE,
        created_at=now,
        client_id=client_id,
        data={"subscription_id": subscription_id, "message": "test event from the dialer"},
    )
    body = encode(event)
    headers = headers_for(
        secret=secret,
        body=body,
        event_id=event["id"],
        event_type=TEST_EVENT_TYPE,
        timestamp=int(now.timestamp()),
        previous_secret=previous_secret,
    )
    started = time.perf_counter()
    outcome = await post(session, url, body, headers, blocked=blocked)
    return {
        "delivered": outcome.ok,
        "status": outcome.status,
        "error": None if outcome.ok else describe(outcome),
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        "event": event,
    }
