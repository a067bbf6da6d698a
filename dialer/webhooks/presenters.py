"""Subscriptions and deliveries as the API shows them (never a secret)."""

from __future__ import annotations

from typing import Any

import asyncpg

from dialer.outbox import envelope


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
