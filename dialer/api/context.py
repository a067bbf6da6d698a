"""Typed keys for what the composition root puts on the aiohttp application."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp import web

from dialer.auth.roles import Principal
from dialer.clock import Clock
from dialer.config import Settings

POOL = web.AppKey("pool", asyncpg.Pool)
CLOCK = web.AppKey("clock", Clock)
SETTINGS = web.AppKey("settings", Settings)
# Services other parts of the product register (engine, scheduler, importer, ...).
SERVICES = web.AppKey("services", dict[str, Any])

PRINCIPAL = web.RequestKey("principal", Principal)
# SHA-256 of a streamed body (an upload), set by whoever read it (Idempotency-Key compares it).
BODY_DIGEST = web.RequestKey("body_digest", bytes)


def principal(request: web.Request) -> Principal:
    """The authenticated principal of an API request (set by the auth middleware)."""
    return request[PRINCIPAL]
