"""The transactional outbox: an event is written in the same transaction as the change
that caused it, so there is never an event without its change nor a change without its
event. The dispatcher fans committed events out to subscriptions; workers deliver them.

Also the event's wire format (``envelope``) and which subscriptions receive which types.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

log = logging.getLogger(__name__)
EVENT_VERSION = 1

EVENT_TYPES = (
    "attempt.started",
    "attempt.completed",
    "lead.disposition",
    "lead.callback_scheduled",
    "lead.dnc",
    "dnc.added",
    "lead.completed",
    "campaign.state_changed",
    "import.completed",
    "list.reset",
    "compliance.blocked",
    "lead.erased",
    "lead.consent",
    "inbound.received",
    "call.transferred",
)
# Delivered only to subscriptions that name them: ``*`` does not include these.
OPT_IN_TYPES = frozenset({"compliance.blocked"})
WILDCARD = "*"
# Sent by POST /api/v1/webhooks/{id}/test only; never written to the outbox.
TEST_EVENT_TYPE = "webhook.test"

_INSERT = """
INSERT INTO webhook_outbox (type, client_id, campaign_id, lead_id, payload, created_at)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING event_id
"""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot put a {type(value).__name__} in a webhook event")


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinity (which JSON cannot carry) replaced by null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_finite(v) for v in value]
    return value


def strict_dumps(data: Any, **options: Any) -> str:
    """Valid JSON always: a non-finite number becomes null (logged), never the ``NaN`` or
    ``Infinity`` token that PostgreSQL's jsonb refuses (failing the change's whole
    transaction) and the CRM's parser would choke on."""
    try:
        return json.dumps(data, default=_plain, allow_nan=False, **options)
    except ValueError:
        log.warning("non-finite number in a webhook event, sent as null")
        return json.dumps(_finite(data), default=_plain, allow_nan=False, **options)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, millisecond precision: ``2026-01-05T15:00:00.000Z``."""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


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
    """Add one event to the outbox; call inside the transaction of the change.

    ``data`` becomes the event's ``data`` object; datetimes in it are written as ISO 8601
    UTC strings. For events about one lead pass ``lead_id``: the CRM receives the events of a
    lead in the order they were enqueued (enqueue after changing the lead's row, whose lock
    orders concurrent changes of the same lead).
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    payload = json.loads(strict_dumps(data))
    event_id: UUID = await conn.fetchval(
        _INSERT, event_type, client_id, campaign_id, lead_id, payload, now
    )
    return event_id


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """One event for ``enqueue_many`` (the arguments of ``enqueue``)."""

    event_type: str
    client_id: int
    data: dict[str, Any]
    now: datetime
    campaign_id: int | None = None
    lead_id: int | None = None


_INSERT_MANY = """
INSERT INTO webhook_outbox (type, client_id, campaign_id, lead_id, payload, created_at)
SELECT e.type, e.client_id, e.campaign_id, e.lead_id, e.payload::jsonb, e.created_at
FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::timestamptz[])
     WITH ORDINALITY AS e(type, client_id, campaign_id, lead_id, payload, created_at, n)
ORDER BY e.n
"""


def payload_json(data: dict[str, Any]) -> str:
    """An event's ``data`` as the JSON text stored in the outbox (datetimes as ISO 8601 UTC)."""
    return strict_dumps(data)


async def enqueue_many(conn: asyncpg.Connection, events: Sequence[OutboxEvent]) -> int:
    """Add several events in one statement, in the order given (the order the CRM receives
    the events of one lead); call inside the transaction of the changes. Same rules as
    ``enqueue``. Returns how many were added."""
    if not events:
        return 0
    for event in events:
        if event.event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event.event_type!r}")
    await conn.execute(
        _INSERT_MANY,
        [e.event_type for e in events],
        [e.client_id for e in events],
        [e.campaign_id for e in events],
        [e.lead_id for e in events],
        [payload_json(e.data) for e in events],
        [e.now for e in events],
    )
    return len(events)


def subscribes_to(events: Iterable[str], event_type: str) -> bool:
    """Whether a subscription listing ``events`` receives ``event_type``."""
    listed = set(events)
    if event_type in listed:
        return True
    return WILDCARD in listed and event_type not in OPT_IN_TYPES


def envelope(
    *,
    event_id: UUID | str,
    event_type: str,
    created_at: datetime,
    client_id: int | None,
    data: Mapping[str, Any],
) -> dict[str, Any]:
    """The event as the CRM receives it (version 1 of the wire format)."""
    return {
        "id": str(event_id),
        "type": event_type,
        "version": EVENT_VERSION,
        "created_at": iso_utc(created_at),
        "client_id": client_id,
        "data": dict(data),
    }


def encode(event: Mapping[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON, UTF-8."""
    return strict_dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
