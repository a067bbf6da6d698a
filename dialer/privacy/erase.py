"""Erasure: a person's personal data leaves every place the dialer keeps it.

The lead row and its attempts stay, anonymised, so every report still adds up (attempt
counts, outcomes, talk time, lead counts under status ``erased``); the number, alternate
numbers, custom fields, address, notes, recordings (rows and files), the person's webhook
payloads, the client's own DNC entries for the number, rejected import rows carrying it,
cached API answers, audit details and console messages holding it are removed or
rewritten. By default a keyed hash of the number is kept (``privacy_suppressions``) so the
person is not imported again. Every erasure is audited (without the number) and sent to the
CRM as ``lead.erased``. docs/privacy.md has the full list and the reasons.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from dialer import metrics
from dialer.audit import record
from dialer.auth.roles import Principal
from dialer.errors import Conflict, NotFound
from dialer.outbox import OutboxEvent, enqueue_many
from dialer.privacy import traces
from dialer.recordings import RecordingStore
from dialer.sql import queries

log = logging.getLogger(__name__)
_Q = queries("dialer.privacy")
REQUEST = "request"
RETENTION = "retention"


@dataclass
class Erasure:
    """What one erasure did (no personal data: ids and counts)."""

    leads: list[int] = field(default_factory=list)
    attempts: int = 0
    recordings: int = 0
    events: int = 0
    dnc_entries: int = 0
    suppressed: bool = False
    recording_keys: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "leads": self.leads,
            "attempts_anonymised": self.attempts,
            "recordings_deleted": self.recordings,
            "events_rewritten": self.events,
            "dnc_entries_removed": self.dnc_entries,
            "suppressed": self.suppressed,
        }


async def erase_leads(
    conn: asyncpg.Connection,
    lead_ids: Sequence[int],
    *,
    who: Principal,
    now: datetime,
    scope: int | None,
    suppress: bool = True,
    reason: str = REQUEST,
    extra_phones: Sequence[str] = (),
) -> Erasure:
    """Erase these leads (of client ``scope``; None = any) in one transaction. Call
    ``delete_files`` with the result after the transaction commits."""
    done = Erasure()
    async with conn.transaction():
        rows = await conn.fetch(_Q["leads_for_erasure"], list(lead_ids), scope)
        if reason == REQUEST and any(r["on_call"] for r in rows):
            raise Conflict("the person is on a call right now: erase them when it has ended")
        rows = [r for r in rows if not r["on_call"]]
        by_client: dict[int, list[asyncpg.Record]] = {}
        for row in rows:
            by_client.setdefault(row["client_id"], []).append(row)
        for client_id, leads in by_client.items():
            await _erase_for_client(
                conn, client_id, leads, done, now=now, suppress=suppress, extra_phones=extra_phones
            )
            await _announce(conn, client_id, leads, who, now=now, reason=reason, done=done)
    metrics.PRIVACY_ERASED_LEADS.labels(reason).inc(len(done.leads))
    return done


async def _erase_for_client(
    conn: asyncpg.Connection,
    client_id: int,
    leads: list[asyncpg.Record],
    done: Erasure,
    *,
    now: datetime,
    suppress: bool,
    extra_phones: Sequence[str],
) -> None:
    ids = [r["id"] for r in leads]
    phones = [p for r in leads for p in (r["phone_e164"], *r["alt_phones"], *r["retired_phones"])]
    phones = list(dict.fromkeys([*phones, *extra_phones]))
    texts = traces.needles(phones, [r["fields"] for r in leads] + [r["postal_code"] for r in leads])
    recordings = await conn.fetch(_Q["attempt_recordings"], ids)
    done.recording_keys += [r["recording_key"] for r in recordings]
    done.recordings += len(recordings)
    done.attempts += int((await conn.execute(_Q["erase_attempts"], ids, now)).split()[-1])
    await conn.execute(_Q["erase_leads"], ids, now)
    done.leads += ids
    done.events += await _rewrite_events(conn, client_id, ids, texts, now=now)
    primary = list(dict.fromkeys([r["phone_e164"] for r in leads] + list(extra_phones)))
    if suppress:
        await conn.execute(_Q["suppress"], client_id, primary, now)
        done.suppressed = True
        done.dnc_entries += len(await conn.fetch(_Q["delete_dnc_entries"], client_id, phones))
    digit_forms = [f for p in phones for f in traces.number_forms(p)[1:]]
    await conn.execute(
        _Q["erase_import_rejects"],
        client_id,
        traces.like_patterns(digit_forms),
        traces.like_patterns(phones),
    )
    await _scrub_rows(conn, texts, "audit_mentioning", "rewrite_audit", "details")
    await _scrub_rows(conn, texts, "flashes_mentioning", "rewrite_flash", "flash")
    paths = [f"/api/v1/leads/{i}%" for i in ids] + ["/api/v1/dnc%", "/api/v1/erasures%"]
    paths += [f"/api/v1/campaigns/{c}/leads%" for c in {r["campaign_id"] for r in leads}]
    await conn.execute(_Q["delete_cached_responses"], [t.encode() for t in texts], paths, client_id)


async def _rewrite_events(
    conn: asyncpg.Connection, client_id: int, ids: list[int], texts: list[str], *, now: datetime
) -> int:
    """The person's events keep only neutral keys and are never sent; other events of the
    client that mention them are scrubbed."""
    events = await conn.fetch(_Q["lead_events"], ids)
    for event in events:
        await conn.execute(
            _Q["rewrite_event"], event["id"], traces.neutral_event(event["payload"]), now
        )
    others = await conn.fetch(_Q["events_mentioning"], client_id, ids, traces.like_patterns(texts))
    for event in others:
        await conn.execute(
            _Q["rewrite_event"], event["id"], traces.scrub(event["payload"], texts), None
        )
    touched = [e["id"] for e in events] + [e["id"] for e in others]
    await conn.execute(_Q["cancel_deliveries"], touched, now)
    return len(touched)


async def _scrub_rows(
    conn: asyncpg.Connection, texts: list[str], find: str, rewrite: str, column: str
) -> None:
    if not texts:
        return
    for row in await conn.fetch(_Q[find], traces.like_patterns(texts)):
        await conn.execute(_Q[rewrite], row["id"], traces.scrub(row[column], texts))


async def _announce(
    conn: asyncpg.Connection,
    client_id: int,
    leads: list[asyncpg.Record],
    who: Principal,
    *,
    now: datetime,
    reason: str,
    done: Erasure,
) -> None:
    """Audit each erased lead (no number) and tell the CRM (``lead.erased``)."""
    events = []
    for lead in leads:
        details = {
            "reason": reason,
            "campaign_id": lead["campaign_id"],
            "suppressed": done.suppressed,
        }
        await record(conn, who, "erase", "lead", lead["id"], details, now=now)
        data = {
            "lead_id": lead["id"],
            "campaign_id": lead["campaign_id"],
            "reason": reason,
            "erased_at": now,
            "suppressed": done.suppressed,
        }
        events.append(
            OutboxEvent("lead.erased", client_id, data, now, lead["campaign_id"], lead["id"])
        )
    await enqueue_many(conn, events)


async def delete_files(storage: RecordingStore | None, erasure: Erasure) -> None:
    """Remove the recording files (local or S3 objects) of an erasure that has committed. A
    store that fails (disk, S3 unreachable) is logged with the key, never the person; the
    erasure itself stands."""
    if storage is None:
        return
    for key in erasure.recording_keys:
        try:
            await storage.delete(key)
        except Exception as exc:  # any backend (disk, S3): logged, deleted by hand
            log.error("recording not deleted", extra={"key": key, "error": str(exc)})


async def erase_lead(
    conn: asyncpg.Connection,
    lead_id: int,
    *,
    who: Principal,
    now: datetime,
    suppress: bool = True,
) -> Erasure:
    """Erase one lead the principal can see; 404 for another client's or an unknown one."""
    done = await erase_leads(
        conn, [lead_id], who=who, now=now, scope=who.client_id, suppress=suppress
    )
    if not done.leads:
        raise NotFound(f"lead {lead_id} does not exist")
    return done


async def erase_phone(
    conn: asyncpg.Connection,
    phone_e164: str,
    client_id: int,
    *,
    who: Principal,
    now: datetime,
    suppress: bool = True,
) -> Erasure:
    """Erase every lead of a client with this number (primary or alternate). Nothing to
    erase still suppresses the number (when asked), so the person is never imported."""
    if not who.sees_client(client_id):
        raise NotFound(f"client {client_id} does not exist")
    if not await conn.fetchval("SELECT 1 FROM clients WHERE id = $1", client_id):
        raise NotFound(f"client {client_id} does not exist")
    ids = [r["id"] for r in await conn.fetch(_Q["leads_by_phone_in_client"], client_id, phone_e164)]
    done = await erase_leads(
        conn, ids, who=who, now=now, scope=client_id, suppress=suppress, extra_phones=[phone_e164]
    )
    if not done.leads and suppress:
        async with conn.transaction():
            await _erase_for_client(
                conn, client_id, [], done, now=now, suppress=True, extra_phones=[phone_e164]
            )
            await record(
                conn,
                who,
                "erase",
                "client",
                client_id,
                {"reason": REQUEST, "leads": 0, "suppressed": True},
                now=now,
            )
    return done
