"""Typed keys for what the composition root (``dialer.runtime``) puts on the application.

The root builds every collaborator once and stores it under one of these keys; handlers of
the API and the console read them (``request.app[POOL]``). Parts that a process may not run
(the engine in a test app, say) are read with ``app.get(KEY)`` and may be missing.
"""

from __future__ import annotations

import asyncpg
from aiohttp import web

from dialer.agents.bus import AgentBus
from dialer.auth.roles import Principal
from dialer.clock import Clock
from dialer.config import Settings
from dialer.engine.supervisor import Engine
from dialer.leads.background import ImportService
from dialer.recordings import RecordingStore
from dialer.scheduler import CampaignScheduler
from dialer.webhooks.worker import DeliveryWorker

POOL = web.AppKey("pool", asyncpg.Pool)
CLOCK = web.AppKey("clock", Clock)
SETTINGS = web.AppKey("settings", Settings)
# Parts of a running service (``dialer serve``), present only when the root started them.
ENGINE = web.AppKey("engine", Engine)
AGENT_BUS = web.AppKey("agent_bus", AgentBus)
IMPORTS = web.AppKey("imports", ImportService)
WEBHOOK_WORKER = web.AppKey("webhook_worker", DeliveryWorker)
SCHEDULER = web.AppKey("scheduler", CampaignScheduler)
RECORDINGS = web.AppKey("recordings", RecordingStore)

PRINCIPAL = web.RequestKey("principal", Principal)
# SHA-256 of a streamed body (an upload), set by whoever read it (Idempotency-Key compares it).
BODY_DIGEST = web.RequestKey("body_digest", bytes)


def principal(request: web.Request) -> Principal:
    """The authenticated principal of an API request (set by the auth middleware)."""
    return request[PRINCIPAL]
