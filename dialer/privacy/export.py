"""Subject access: everything the dialer holds about a person, as one JSON document.

Found by number within one client: the leads with that number (primary, alternate or
retired; every column, consent fields included when the installation has them), their
attempts (notes, dispositions, recordings), the DNC entries that name the number, the
webhook events sent about them and their deliveries, and whether the number is
suppressed after an erasure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from dialer.auth.roles import Principal
from dialer.errors import NotFound
from dialer.recordings import download_url
from dialer.sql import queries

_Q = queries("dialer.privacy")
_HIDDEN = ("claimed_by", "claimed_until")


async def subject_access(
    conn: asyncpg.Connection,
    phone_e164: str,
    client_id: int,
    *,
    who: Principal,
    now: datetime,
) -> dict[str, Any]:
    """The subject access document for ``phone_e164`` at ``client_id``."""
    if not who.sees_client(client_id) or not await conn.fetchval(
        "SELECT 1 FROM clients WHERE id = $1", client_id
    ):
        raise NotFound(f"client {client_id} does not exist")
    leads = [
        {k: v for k, v in dict(r).items() if k not in _HIDDEN}
        for r in await conn.fetch(_Q["export_leads"], client_id, phone_e164)
    ]
    ids = [lead["id"] for lead in leads]
    attempts = [dict(r) for r in await conn.fetch(_Q["export_attempts"], ids)]
    recordings = [
        {
            "attempt_id": a["id"],
            "seconds": a["recording_s"],
            "sha256": a["recording_sha256"],
            "download": download_url(a["id"]),
        }
        for a in attempts
        if a.pop("has_recording")
    ]
    notes = [
        {
            "attempt_id": a["id"],
            "at": a["ended_at"] or a["started_at"],
            "agent": a["agent_name"],
            "disposition": a["disposition"],
            "notes": a["notes"],
        }
        for a in attempts
        if a["notes"]
    ]
    dnc = [dict(r) for r in await conn.fetch(_Q["export_dnc"], client_id, phone_e164)]
    deliveries = [dict(r) for r in await conn.fetch(_Q["export_deliveries"], client_id, ids)]
    return {
        "phone_e164": phone_e164,
        "client_id": client_id,
        "generated_at": now,
        "suppressed": bool(await conn.fetchval(_Q["is_suppressed"], client_id, phone_e164)),
        "leads": leads,
        "attempts": attempts,
        "notes": notes,
        "recordings": recordings,
        "dnc_entries": dnc,
        "webhook_events": deliveries,
    }
