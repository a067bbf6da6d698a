"""The audit log: who changed what, for overrides and administrative actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from dialer.auth.roles import Principal


async def record(
    conn: asyncpg.Connection,
    who: Principal,
    action: str,
    object_type: str,
    object_id: int | None,
    details: dict[str, Any],
    *,
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO audit_log (at, token_id, actor, action, object_type, object_id, details)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        now,
        who.token_id,
        who.actor,
        action,
        object_type,
        object_id,
        details,
    )
