"""The transactional outbox: an event is written in the same transaction as the change
that caused it, so there is never an event without its change nor a change without its
event. Delivery workers read the outbox later.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

EVENT_TYPES = (
    "attempt.started",
    "attempt.completed",
    "lead.disposition",
    "lead.callback_scheduled",
    "lead.dnc",
    "lead.completed",
    "campaign.state_changed",
    "import.completed",
    "compliance.blocked",
)

_INSERT = """
INSERT INTO webhook_outbox (type, client_id, campaign_id, lead_id, payload, created_at)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING event_id
"""


async def enqueue(
    conn: asyncpg.Connection,
    event_type: str,
    *,
    client_id: int,
    data: dict[str, Any],
    now: datetime,
    campaign_id: int | None = None,
    lead_id: int | None = None,
) -> UUID:
    """Add one event to the outbox; call inside the transaction of the change."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    event_id: UUID = await conn.fetchval(
        _INSERT, event_type, client_id, campaign_id, lead_id, data, now
    )
    return event_id
